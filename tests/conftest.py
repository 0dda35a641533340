"""Shared test setup: every test runs against a throw-away data root and the default profile."""

from __future__ import annotations

import os

import pytest

import primekit.cache
from primekit import paths

# Nothing may read beside the repository (a user's clone has nothing beside it): the guard raises on any such
# open, here and in the notebook kernels of the book build, which inherit the variable.
os.environ[paths.STRICT_ENV] = "1"
paths.forbid_files_beside_repository()

# The real lru_cached function, kept here because a test may monkeypatch primekit.cache.source_hash
# (the patch is still in place when this fixture tears down).
_SOURCE_HASH = primekit.cache.source_hash


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Point PRIMEKIT_DATA at a fresh temporary folder and unset PRIMEKIT_PROFILE.

    No test writes into the repository's data/ folder, and no test depends on the profile the
    developer happens to have exported. The source-hash cache is cleared before and after, so a test
    that monkeypatches the package folder cannot leak its hash into the next test.
    """
    data_root = tmp_path / "primekit-data"
    data_root.mkdir()
    monkeypatch.setenv("PRIMEKIT_DATA", str(data_root))
    monkeypatch.delenv("PRIMEKIT_PROFILE", raising=False)
    _SOURCE_HASH.cache_clear()
    yield data_root
    _SOURCE_HASH.cache_clear()


@pytest.fixture
def data_root(isolated_environment):
    """The temporary data root of the current test."""
    return isolated_environment
