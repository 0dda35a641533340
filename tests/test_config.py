"""Profiles, the data check of the paper profile, and stable hashing of configurations."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import primekit
from primekit import PRIME_LIF, DataNotFoundError, Profile, get_profile, stable_hash
from primekit.profiles import PROFILES

REPO = Path(primekit.__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------------------------------


def test_profiles_have_documented_sizes():
    tiny, book, paper = PROFILES["tiny"], PROFILES["book"], PROFILES["paper"]
    assert (tiny.data_source, tiny.n_train, tiny.n_test, tiny.timesteps) == ("emulated", 200, 100, 10)
    assert (book.data_source, book.n_train, book.n_test, book.timesteps) == ("emulated", 4000, 1000, 10)
    assert (book.epochs, book.batch_size, book.device) == (10, 64, "cpu")
    # The authors' training configuration: 14 epochs, batch 128, T = 10, the whole real dataset.
    assert (paper.data_source, paper.n_train, paper.n_test, paper.timesteps) == ("nmnist", None, None, 10)
    assert (paper.epochs, paper.batch_size, paper.device) == (14, 128, "auto")
    assert sorted(PROFILES) == ["book", "paper", "tiny"]
    for name, profile in PROFILES.items():
        assert profile.name == name
        assert profile.seed == 0


def test_default_profile_is_book():
    assert get_profile() is PROFILES["book"]


def test_environment_selects_profile(monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROFILE", "tiny")
    assert get_profile() is PROFILES["tiny"]
    monkeypatch.setenv("PRIMEKIT_PROFILE", "  TINY ")
    assert get_profile() is PROFILES["tiny"]


def test_explicit_name_wins_over_environment(monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROFILE", "tiny")
    assert get_profile("book") is PROFILES["book"]
    assert get_profile(" Book") is PROFILES["book"]


def test_unknown_name_lists_allowed_names(monkeypatch):
    allowed = r"\['book', 'paper', 'tiny'\]"
    with pytest.raises(ValueError, match=r"name='huge' is not a profile; use one of " + allowed):
        get_profile("huge")
    monkeypatch.setenv("PRIMEKIT_PROFILE", "huge")
    with pytest.raises(ValueError, match=r"\$PRIMEKIT_PROFILE='huge'.*" + allowed):
        get_profile()


def test_paper_without_data_names_the_folder(data_root):
    expected = data_root.resolve() / "raw" / "NMNIST"
    with pytest.raises(DataNotFoundError) as info:
        get_profile("paper")
    message = str(info.value)
    assert str(expected) in message
    assert "Train" in message and "Test" in message
    assert isinstance(info.value, FileNotFoundError)


def test_paper_via_environment_is_checked_too(monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROFILE", "paper")
    with pytest.raises(DataNotFoundError, match="Train"):
        get_profile()


def test_paper_with_half_the_data_names_the_missing_half(data_root):
    (data_root / "raw" / "NMNIST" / "Train").mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match=r"has no Test folder"):
        get_profile("paper")


def test_paper_with_data_folders_passes(data_root):
    for sub in ("Train", "Test"):
        (data_root / "raw" / "NMNIST" / sub).mkdir(parents=True)
    assert get_profile("paper") is PROFILES["paper"]


def test_check_false_skips_the_data_check():
    assert get_profile("paper", check=False) is PROFILES["paper"]


def test_emulated_profiles_need_no_data():
    assert get_profile("tiny") is PROFILES["tiny"]  # the data root is empty


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"data_source": "foo"}, r"data_source='foo'.*\('emulated', 'nmnist'\)"),
        ({"n_train": 0}, r"n_train=0"),
        ({"n_test": -3}, r"n_test=-3"),
        ({"n_test": 2.5}, r"n_test=2\.5"),
        ({"timesteps": -1}, r"timesteps=-1"),
        ({"timesteps": 0}, r"timesteps=0"),
        ({"epochs": 0}, r"epochs=0"),
        ({"batch_size": 1.0}, r"batch_size=1\.0"),
        ({"device": "tpu"}, r"device='tpu'"),
    ],
)
def test_invalid_fields_raise(changes, match):
    with pytest.raises(ValueError, match=match):
        PROFILES["book"].replace(**changes)
    fields = {f.name: getattr(PROFILES["book"], f.name) for f in dataclasses.fields(Profile)}
    with pytest.raises(ValueError, match=match):
        Profile(**{**fields, **changes})


def test_replace_returns_changed_copy():
    small = PROFILES["book"].replace(n_train=10, n_test=None)
    assert (small.n_train, small.n_test, small.timesteps) == (10, None, 10)
    assert PROFILES["book"].n_train == 4000


def test_torch_device(monkeypatch):
    assert PROFILES["book"].torch_device().type == "cpu"
    # "auto" follows CUDA's availability, both ways
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert PROFILES["paper"].torch_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert PROFILES["paper"].torch_device() == torch.device("cpu")


# ---------------------------------------------------------------------------------------------------
# stable_hash
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Inner:
    rate: float
    tags: tuple


class Mode(enum.Enum):
    FAST = 1
    SLOW = 2


def _sample_config():
    return {
        "profile": PROFILES["book"],
        "neuron": PRIME_LIF,  # a dataclass holding a dataclass (the surrogate)
        "inner": Inner(rate=0.1, tags=("a", 2, None)),
        "numbers": [1, -0.0, 2.5e-300, float("inf"), True],
        "nested": {"b": {"y": 1, "x": 0.3}, "a": "text"},
    }


_SUBPROCESS_SCRIPT = textwrap.dedent(
    """
    import dataclasses
    from primekit import PRIME_LIF, stable_hash
    from primekit.profiles import PROFILES

    @dataclasses.dataclass(frozen=True)
    class Inner:
        rate: float
        tags: tuple

    config = {
        "nested": {"a": "text", "b": {"x": 0.3, "y": 1}},
        "numbers": [1, -0.0, 2.5e-300, float("inf"), True],
        "inner": Inner(rate=0.1, tags=("a", 2, None)),
        "neuron": PRIME_LIF,
        "profile": PROFILES["book"],
    }
    print(stable_hash(config))
    """
)


def test_stable_hash_is_stable_across_processes():
    expected = stable_hash(_sample_config())
    for hash_seed in ("1", "987"):
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", _SUBPROCESS_SCRIPT], env=env, cwd=str(REPO.parent),
            capture_output=True, text=True, check=True, timeout=120,
        )
        assert out.stdout.strip() == expected


def test_stable_hash_is_sha256_of_canonical_json():
    # An independent computation of the documented format for simple values.
    expected = hashlib.sha256(b'{"a":[null,"x"],"b":1}').hexdigest()[:16]
    assert stable_hash({"b": 1, "a": [None, "x"]}) == expected
    text = json.dumps({"x": (0.5).hex()}, separators=(",", ":"))
    assert stable_hash({"x": 0.5}) == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert len(stable_hash(1, length=8)) == 8
    assert stable_hash(1).startswith(stable_hash(1, length=8))


_CHANGED = {
    "name": "book2",
    "data_source": "nmnist",
    "n_train": 4001,
    "n_test": None,
    "timesteps": 11,
    "epochs": 9,
    "batch_size": 65,
    "seed": 1,
    "device": "auto",
    "description": "other",
    "inpainting": primekit.profiles.InpaintingSizes(n_train=1501, n_test=500, timesteps=16, epochs=4, batch_size=50),
}


def test_every_profile_field_is_covered():
    assert set(_CHANGED) == {f.name for f in dataclasses.fields(Profile)}


@pytest.mark.parametrize("field", sorted(_CHANGED))
def test_stable_hash_changes_with_any_profile_field(field):
    base = PROFILES["book"]
    changed = base.replace(**{field: _CHANGED[field]})
    assert stable_hash(changed) != stable_hash(base)
    assert stable_hash({"outer": [changed]}) != stable_hash({"outer": [base]})


def test_stable_hash_changes_with_nested_fields():
    base = _sample_config()
    variants = [
        {**base, "neuron": dataclasses.replace(PRIME_LIF, surrogate=primekit.Rectangle(0.6))},
        {**base, "neuron": dataclasses.replace(PRIME_LIF, leaky_relu_slope=None)},
        {**base, "inner": Inner(rate=0.1, tags=("a", 3, None))},
        {**base, "nested": {"b": {"y": 1, "x": 0.30000000000000004}, "a": "text"}},
        {**base, "numbers": [1, 0.0, 2.5e-300, float("inf"), True]},  # -0.0 vs 0.0
        {**base, "extra": None},
    ]
    hashes = {stable_hash(v) for v in variants}
    assert len(hashes) == len(variants)
    assert stable_hash(base) not in hashes


def test_stable_hash_distinguishes_types_and_classes():
    assert stable_hash(1) != stable_hash(1.0)
    assert stable_hash(1) != stable_hash(True)
    assert stable_hash(None) != stable_hash(0)
    assert stable_hash(Mode.FAST) != stable_hash(Mode.SLOW)
    assert stable_hash(primekit.Rectangle(10.0)) != stable_hash(primekit.FastSigmoid(10.0))


def test_stable_hash_ignores_dict_order():
    a = {"x": 1, "y": {"p": 0.5, "q": [1, 2]}, "z": None}
    b = {"z": None, "y": {"q": [1, 2], "p": 0.5}, "x": 1}
    assert stable_hash(a) == stable_hash(b)


def test_stable_hash_distinguishes_close_floats():
    assert stable_hash(0.1) != stable_hash(0.1000000001)
    assert stable_hash({"lr": 1e-3}) != stable_hash({"lr": 1.0000000000000002e-3})
    assert stable_hash(float("nan")) == stable_hash(float("nan"))


@pytest.mark.parametrize("bad", [object(), {1, 2}, b"bytes", Path("x"), {"deep": [object()]}],
                         ids=["object", "set", "bytes", "path", "nested"])
def test_stable_hash_rejects_unsupported_objects(bad):
    with pytest.raises(TypeError, match="cannot hash a"):
        stable_hash(bad)


def test_stable_hash_rejects_tensors_and_numpy_scalars():
    import numpy as np
    import torch

    with pytest.raises(TypeError, match="cannot hash a Tensor"):
        stable_hash(torch.zeros(1))
    with pytest.raises(TypeError, match="cannot hash a float32"):
        stable_hash(np.float32(0.5))


@pytest.mark.parametrize("field", ["n_train", "epochs", "batch_size"])
def test_bools_are_not_counts(field):
    with pytest.raises(ValueError, match=rf"{field}=True"):
        get_profile("book").replace(**{field: True})


def test_seed_must_fit_torch_generators():
    with pytest.raises(ValueError, match=r"seed=4294967296 must be an integer in \[0, 2\*\*32\)"):
        get_profile("book").replace(seed=2**32)


def test_dict_keys_keep_their_type_in_the_hash():
    assert stable_hash({1: "a"}) != stable_hash({"1": "a"})
    assert stable_hash({1: "a", 2: "b"}) == stable_hash({2: "b", 1: "a"})
