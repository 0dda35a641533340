"""The result cache: computes once, never serves a stale or broken entry, writes atomically."""

from __future__ import annotations

import dataclasses
import math
import pickle
import shutil

import pytest
import torch

import primekit.cache
import primekit.paths
from primekit import fingerprint_files, load_or_run
from primekit.cache import entry_path, source_hash


class Counter:
    """A computation that records how often it ran."""

    def __init__(self, value=None):
        self.calls = 0
        self.value = value

    def __call__(self):
        self.calls += 1
        return self.value if self.value is not None else {"run": self.calls}


@dataclasses.dataclass(frozen=True)
class Config:
    lr: float = 1e-3
    epochs: int = 2


def _results_dir(data_root):
    return data_root / "cache" / "results"


def test_computes_once_then_loads(data_root, capsys):
    fn = Counter()
    first = load_or_run("exp", Config(), fn)
    assert "computed exp" in capsys.readouterr().err
    second = load_or_run("exp", Config(), fn)
    assert "loaded exp" in capsys.readouterr().err
    assert fn.calls == 1
    assert first == second == {"run": 1}
    files = list(_results_dir(data_root).iterdir())
    assert files == [entry_path("exp", Config())]


def test_changed_config_recomputes(capsys):
    fn = Counter()
    assert load_or_run("exp", Config(lr=1e-3), fn) == {"run": 1}
    assert load_or_run("exp", Config(lr=2e-3), fn) == {"run": 2}
    assert load_or_run("exp", Config(lr=1e-3, epochs=3), fn) == {"run": 3}
    # each config keeps its own entry
    assert load_or_run("exp", Config(lr=1e-3), fn) == {"run": 1}
    assert load_or_run("exp", Config(lr=2e-3), fn) == {"run": 2}
    assert fn.calls == 3


def test_changed_name_recomputes():
    fn = Counter()
    load_or_run("exp-a", Config(), fn)
    load_or_run("exp-b", Config(), fn)
    assert fn.calls == 2


def test_changed_data_fingerprint_recomputes():
    fn = Counter()
    assert load_or_run("exp", Config(), fn, data_fingerprint="aaaa") == {"run": 1}
    assert load_or_run("exp", Config(), fn, data_fingerprint="bbbb") == {"run": 2}
    assert load_or_run("exp", Config(), fn) == {"run": 3}
    assert load_or_run("exp", Config(), fn, data_fingerprint="aaaa") == {"run": 1}
    assert fn.calls == 3


def test_entry_from_other_source_is_recomputed(monkeypatch, capsys):
    fn = Counter()
    load_or_run("exp", Config(), fn)
    capsys.readouterr()
    monkeypatch.setattr(primekit.cache, "source_hash", lambda module=None: "0123456789abcdef")
    assert load_or_run("exp", Config(), fn, verbose=False) == {"run": 2}
    err = capsys.readouterr().err
    assert "recomputing" in err and "written by other code" in err
    # the new entry is now valid for the new code
    assert load_or_run("exp", Config(), fn) == {"run": 2}
    assert fn.calls == 2


@pytest.mark.parametrize("content", [b"garbage, not a torch file", b""], ids=["garbage", "empty"])
def test_corrupt_entry_is_recomputed(content, capsys):
    fn = Counter()
    path = entry_path("exp", Config())
    path.write_bytes(content)
    assert load_or_run("exp", Config(), fn, verbose=False) == {"run": 1}
    err = capsys.readouterr().err
    assert "unreadable" in err and "recomputing" in err
    assert load_or_run("exp", Config(), fn) == {"run": 1}
    assert fn.calls == 1


@pytest.mark.parametrize("stored", [5, {"value": 5}, {"meta": {"format": 1}, "value": 5}, [1, 2]],
                         ids=["int", "no-meta", "wrong-meta", "list"])
def test_readable_but_foreign_entry_is_recomputed(stored, capsys):
    fn = Counter()
    torch.save(stored, entry_path("exp", Config()))
    assert load_or_run("exp", Config(), fn) == {"run": 1}
    assert "recomputing" in capsys.readouterr().err
    assert fn.calls == 1


def test_failing_fn_leaves_no_entry_and_no_temp_file(data_root):
    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        load_or_run("exp", Config(), broken)
    assert list(_results_dir(data_root).iterdir()) == []
    # and the next call computes normally
    assert load_or_run("exp", Config(), Counter()) == {"run": 1}


def test_failing_recompute_keeps_the_old_entry(data_root, monkeypatch):
    load_or_run("exp", Config(), Counter())
    path = entry_path("exp", Config())
    before = path.read_bytes()
    monkeypatch.setattr(primekit.cache, "source_hash", lambda module=None: "0123456789abcdef")

    def broken():
        raise KeyboardInterrupt  # an interrupted run, not only an exception

    with pytest.raises(KeyboardInterrupt):
        load_or_run("exp", Config(), broken)
    assert path.read_bytes() == before
    assert sorted(p.name for p in _results_dir(data_root).iterdir()) == [path.name]


def test_unsaveable_value_leaves_no_temp_file(data_root):
    with pytest.raises((pickle.PicklingError, AttributeError), match="pickle"):
        load_or_run("exp", Config(), lambda: (lambda: None))  # a lambda cannot be pickled
    assert list(_results_dir(data_root).iterdir()) == []


def test_values_round_trip_exactly():
    tensor = torch.tensor([0.1, -2.5e-38, float("inf"), 1 / 3], dtype=torch.float64)
    value = {
        "tensor": tensor,
        "ints": torch.arange(5, dtype=torch.int64),
        "float": 0.1,
        "third": 1 / 3,
        "nested": {"list": [1, 2.5, None, "s"], "tuple": (True, 7)},
    }
    calls = []

    def compute():
        calls.append(1)
        return value

    load_or_run("values", Config(), compute)
    loaded = load_or_run("values", Config(), compute)
    assert len(calls) == 1
    assert torch.equal(loaded["tensor"], tensor) and loaded["tensor"].dtype == torch.float64
    assert torch.equal(loaded["ints"], value["ints"]) and loaded["ints"].dtype == torch.int64
    assert type(loaded["float"]) is float and loaded["float"] == 0.1
    assert loaded["third"] == 1 / 3
    assert loaded["nested"] == {"list": [1, 2.5, None, "s"], "tuple": (True, 7)}


def test_float_and_tensor_results_round_trip():
    pi = Counter(math.pi)
    assert load_or_run("f", {"k": 1}, pi) == math.pi
    assert load_or_run("f", {"k": 1}, pi) == math.pi and pi.calls == 1
    x = Counter(torch.randn(3, 4, generator=torch.Generator().manual_seed(0)))
    load_or_run("t", {"k": 1}, x)
    assert torch.equal(load_or_run("t", {"k": 1}, x), x.value) and x.calls == 1


def test_equal_configs_share_an_entry():
    # dict order does not matter; the hash is of the content
    fn = Counter()
    load_or_run("exp", {"a": 1, "b": [0.5, None]}, fn)
    load_or_run("exp", {"b": [0.5, None], "a": 1}, fn)
    assert fn.calls == 1


@pytest.mark.parametrize("name", ["a/b", "", "with space", "bad\n", "../up", "ü", 3, None],
                         ids=["slash", "empty", "space", "newline", "parent", "unicode", "int", "none"])
def test_bad_name_raises(name):
    with pytest.raises(ValueError, match=r"name=.* must use only letters, digits"):
        load_or_run(name, Config(), Counter())


def test_good_names_are_accepted(data_root):
    for name in ("train-weight_tuning.v2", "A9"):
        assert entry_path(name, Config()).parent == _results_dir(data_root)
        assert entry_path(name, Config()).name.startswith(name + "-")


def test_unhashable_config_raises_type_error():
    with pytest.raises(TypeError, match="cannot hash a object"):
        load_or_run("exp", {"x": object()}, Counter())


# ---------------------------------------------------------------------------------------------------
# fingerprint_files
# ---------------------------------------------------------------------------------------------------


def test_fingerprint_changes_with_content(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"0123456789")
    b.write_bytes(b"abc")
    first = fingerprint_files([a, b])
    assert fingerprint_files([str(b), str(a)]) == first  # order of the list does not matter
    assert fingerprint_files([a, b]) == first
    a.write_bytes(b"0123456780")  # same size, one byte changed
    assert fingerprint_files([a, b]) != first
    a.write_bytes(b"0123456789")
    assert fingerprint_files([a, b]) == first
    assert fingerprint_files([a]) != first


def test_fingerprint_distinguishes_how_bytes_split_between_files(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    (tmp_path / "x" / "a").write_bytes(b"ab")
    (tmp_path / "x" / "b").write_bytes(b"c")
    (tmp_path / "y" / "a").write_bytes(b"a")
    (tmp_path / "y" / "b").write_bytes(b"bc")
    assert fingerprint_files((tmp_path / "x").iterdir()) != fingerprint_files((tmp_path / "y").iterdir())


def test_fingerprint_missing_file_raises(tmp_path):
    (tmp_path / "here").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match=r"cannot fingerprint .*missing\.bin"):
        fingerprint_files([tmp_path / "here", tmp_path / "missing.bin"])
    with pytest.raises(FileNotFoundError, match="cannot fingerprint"):
        fingerprint_files([tmp_path])  # a folder is not a file


# ---------------------------------------------------------------------------------------------------
# source_hash
# ---------------------------------------------------------------------------------------------------


REAL_PACKAGE = primekit.paths.package_dir()


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the primekit package that source_hash reads instead of the real one."""
    copy = tmp_path / "pkgcopy" / "primekit"
    shutil.copytree(REAL_PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(primekit.paths, "package_dir", lambda: copy)
    source_hash.cache_clear()
    return copy


def _fresh_hash():
    source_hash.cache_clear()
    return source_hash()


def _hash_of(folder):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(primekit.paths, "package_dir", lambda: folder)
        return _fresh_hash()


def test_source_hash_of_a_copy_equals_the_real_one(package_copy):
    copy_hash = _fresh_hash()
    assert len(copy_hash) == 16 and set(copy_hash) <= set("0123456789abcdef")
    assert copy_hash == _hash_of(REAL_PACKAGE)  # same names, same contents; location is irrelevant


def test_source_hash_changes_when_a_source_file_changes(package_copy):
    original = _fresh_hash()
    neurons = package_copy / "snn" / "neurons.py"
    text = neurons.read_text()
    neurons.write_text(text + "\n# an edit\n")
    assert _fresh_hash() != original
    neurons.write_text(text)
    assert _fresh_hash() == original


def test_source_hash_covers_style_files_and_names(package_copy):
    original = _fresh_hash()
    style = next(package_copy.rglob("*.mplstyle"))
    text = style.read_text()
    style.write_text(text + "\n# edited\n")
    assert _fresh_hash() != original
    style.write_text(text)
    assert _fresh_hash() == original
    (package_copy / "seeding.py").rename(package_copy / "seeding2.py")  # same bytes, new name
    assert _fresh_hash() != original


def test_source_hash_ignores_other_files(package_copy):
    original = _fresh_hash()
    (package_copy / "notes.txt").write_text("not code")
    (package_copy / "__pycache__").mkdir(exist_ok=True)
    (package_copy / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0\1\2")
    assert _fresh_hash() == original


def test_source_hash_is_computed_once_per_process(package_copy):
    original = _fresh_hash()
    (package_copy / "profiles.py").write_text("# replaced\n")
    assert source_hash() == original  # cached until cache_clear
    assert _fresh_hash() != original


def test_source_edit_invalidates_cache_entries(package_copy, capsys):
    fn = Counter()
    load_or_run("exp", Config(), fn)
    (package_copy / "snn" / "timeloop.py").write_text((package_copy / "snn" / "timeloop.py").read_text() + "\n# edit\n")
    source_hash.cache_clear()
    assert load_or_run("exp", Config(), fn) == {"run": 2}
    assert "recomputing" in capsys.readouterr().err


def test_a_module_hash_covers_its_imports_and_nothing_else(package_copy):
    train, stop = _fresh_hash_of("primekit.experiments.training"), _fresh_hash_of("primekit.inference.sweeps")
    whole = _fresh_hash()
    sweeps = package_copy / "inference" / "sweeps.py"
    sweeps.write_text(sweeps.read_text() + "\n# an edit\n")
    assert _fresh_hash_of("primekit.experiments.training") == train  # training does not import sweeps
    assert _fresh_hash_of("primekit.inference.sweeps") != stop
    assert _fresh_hash() != whole
    neurons = package_copy / "snn" / "neurons.py"  # imported by train through models
    neurons.write_text(neurons.read_text() + "\n# an edit\n")
    assert _fresh_hash_of("primekit.experiments.training") != train


def test_dependency_files_follow_relative_and_absolute_imports(package_copy):
    (package_copy / "extra.py").write_text("import primekit.seeding\nfrom .checks import is_number\n")
    files = primekit.cache._dependency_files("primekit.extra", package_copy)
    assert sorted(p.name for p in files) == ["checks.py", "extra.py", "seeding.py"]


def test_a_re_exporting_package_init_ties_no_module_to_its_subpackage(package_copy):
    stop = _fresh_hash_of("primekit.inference.early_stop")
    init = package_copy / "inference" / "__init__.py"
    init.write_text(init.read_text() + "\nfrom primekit.inference.metrics import accuracy  # a re-export\n")
    metrics = package_copy / "inference" / "metrics.py"
    metrics.write_text(metrics.read_text() + "\n# an edit\n")
    assert _fresh_hash_of("primekit.inference.early_stop") == stop


def test_entries_of_functions_defined_outside_primekit_depend_on_the_whole_package():
    def outside():
        return 1

    assert primekit.cache._module_of(outside) == __name__
    assert source_hash(__name__) == source_hash()
    assert primekit.cache._module_of(Counter()) == __name__  # a callable object: its class's module


def _fresh_hash_of(module):
    source_hash.cache_clear()
    return source_hash(module)


def test_a_bit_flip_in_the_payload_is_caught_by_the_checksum(capsys):
    fn = Counter(torch.tensor([999.0, 1.0]))
    load_or_run("flip", Config(), fn)
    path = entry_path("flip", Config())
    raw = bytearray(path.read_bytes())
    stored = torch.load(path, weights_only=False)
    payload = stored["payload"]
    # flip one bit of the tensor's bytes (999.0 as float32) inside the stored payload
    target = raw.find(payload[payload.find(torch.tensor([999.0]).numpy().tobytes()):][:4])
    assert target > 0
    raw[target + 2] ^= 0x10
    path.write_bytes(bytes(raw))
    capsys.readouterr()
    value = load_or_run("flip", Config(), fn)
    assert torch.equal(value, torch.tensor([999.0, 1.0])) and fn.calls == 2
    assert "fails its checksum" in capsys.readouterr().err


def test_a_function_defined_outside_primekit_is_keyed_by_its_source():
    assert load_or_run("outside", Config(), lambda: 1) == 1
    assert load_or_run("outside", Config(), lambda: 2) == 2     # edited: not the old value
    assert load_or_run("outside", Config(), lambda: 2) == 2


def test_library_versions_are_part_of_the_key(monkeypatch, capsys):
    fn = Counter()
    load_or_run("versions", Config(), fn)
    monkeypatch.setattr(primekit.cache, "library_versions", lambda: {"torch": "0.0", "numpy": "0.0"})
    assert load_or_run("versions", Config(), fn) == {"run": 2}
    assert "another library version" in capsys.readouterr().err


def test_the_real_data_fingerprint_sees_an_edit_that_keeps_the_size(data_root):
    import os

    from primekit import profiles
    from primekit.data.datasets import _real_fingerprint

    folder = profiles.nmnist_dir() / "Train" / "4"
    folder.mkdir(parents=True)
    recording = folder / "00001.bin"
    recording.write_bytes(bytes(range(10)))
    os.utime(recording, ns=(1_000_000_000, 1_000_000_000))
    before = _real_fingerprint()
    recording.write_bytes(bytes(range(1, 11)))          # same size, other bytes
    os.utime(recording, ns=(2_000_000_000, 2_000_000_000))
    assert _real_fingerprint() != before
    os.utime(recording, ns=(1_000_000_000, 1_000_000_000))
    assert _real_fingerprint() == before                 # names, sizes and times: the contents are not hashed
