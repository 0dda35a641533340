"""Where primekit reads and writes: PRIMEKIT_DATA, else <repo>/data, never the working directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import primekit
import primekit.paths as paths
from primekit.profiles import nmnist_dir

PACKAGE = Path(primekit.__file__).resolve().parent
REPO = PACKAGE.parent


def test_environment_variable_overrides_the_root(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    monkeypatch.setenv("PRIMEKIT_DATA", str(target))
    assert paths.data_root() == target.resolve()
    assert paths.raw_dir() == target.resolve() / "raw"
    assert nmnist_dir() == target.resolve() / "raw" / "NMNIST"


def test_environment_variable_is_resolved_and_expanded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIMEKIT_DATA", "relative/../rel")
    assert paths.data_root() == (tmp_path / "rel").resolve()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PRIMEKIT_DATA", "~/d")
    assert paths.data_root() == (tmp_path / "home" / "d").resolve()


@pytest.mark.parametrize("unset", ["delete", "empty"])
def test_default_root_is_repo_data_whatever_the_cwd(tmp_path, monkeypatch, unset):
    if unset == "delete":
        monkeypatch.delenv("PRIMEKIT_DATA")
    else:
        monkeypatch.setenv("PRIMEKIT_DATA", "")  # an empty value means unset
    assert (REPO / "pyproject.toml").is_file(), "this test expects the repository checkout"
    for cwd in (tmp_path, REPO / "tests", REPO):
        monkeypatch.chdir(cwd)
        assert os.getcwd() == str(cwd)
        assert paths.repo_root() == REPO
        assert paths.data_root() == REPO / "data"
        assert paths.raw_dir() == REPO / "data" / "raw"


def test_repo_root_needs_pyproject_and_package(tmp_path, monkeypatch):
    # A fake checkout: <fake>/pyproject.toml and <fake>/primekit/ -> data root <fake>/data.
    fake = tmp_path / "fake"
    (fake / "primekit").mkdir(parents=True)
    (fake / "pyproject.toml").write_text("[project]\nname = 'primekit'\n")
    monkeypatch.setattr(paths, "_PACKAGE_DIR", fake / "primekit")
    monkeypatch.delenv("PRIMEKIT_DATA")
    monkeypatch.chdir(tmp_path)
    assert paths.repo_root() == fake
    assert paths.data_root() == fake / "data"
    # Without pyproject.toml (a non-editable install in site-packages): ~/.primekit/data.
    (fake / "pyproject.toml").unlink()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.repo_root() is None
    assert paths.data_root() == tmp_path / "home" / ".primekit" / "data"


def test_cache_dir_creates_folders_under_the_data_root(data_root):
    assert not (data_root / "cache").exists()
    made = paths.cache_dir("results", "sub")
    assert made == data_root.resolve() / "cache" / "results" / "sub"
    assert made.is_dir()
    assert paths.cache_dir("results", "sub") == made  # idempotent
    assert paths.cache_dir() == data_root.resolve() / "cache"


def test_raw_dir_is_not_created(data_root):
    raw = paths.raw_dir()
    assert raw == data_root.resolve() / "raw"
    assert not raw.exists()


def test_package_dir_is_the_imported_package():
    assert paths.package_dir() == PACKAGE
    assert (paths.package_dir() / "snn" / "neurons.py").is_file()


def test_tests_never_write_into_the_repository_data_folder(data_root):
    # The autouse fixture points every test elsewhere.
    assert paths.data_root() == data_root.resolve()
    assert REPO / "data" not in paths.cache_dir("x").parents


def test_atomic_write_replaces_whole_files_with_normal_permissions(tmp_path):
    import os

    from primekit.paths import atomic_write

    target = tmp_path / "sub" / "file.bin"
    atomic_write(target, lambda stream: stream.write(b"first"))
    atomic_write(target, lambda stream: stream.write(b"second"))
    assert target.read_bytes() == b"second"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask

    def fail(stream):
        stream.write(b"half")
        raise RuntimeError("disk full")

    try:
        atomic_write(target, fail)
    except RuntimeError:
        pass
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]  # no temporary left behind
