"""Shared test setup: every test runs against a throw-away data root and the default profile."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest
import torch

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
    that monkeypatches the package folder cannot leak its hash into the next test. Torch's and NumPy's global
    random states are seeded at the start of every test (unseeded draws do not depend on the order of the
    tests) and restored afterwards, with torch's thread count and default dtype, and matplotlib's rcParams.
    """
    data_root = tmp_path / "primekit-data"
    data_root.mkdir()
    monkeypatch.setenv("PRIMEKIT_DATA", str(data_root))
    monkeypatch.delenv("PRIMEKIT_PROFILE", raising=False)
    _SOURCE_HASH.cache_clear()
    # every test starts from the same global random state and leaves torch's global state as it found it
    saved = torch.get_rng_state(), torch.get_num_threads(), torch.get_default_dtype(), np.random.get_state()
    torch.manual_seed(0)
    np.random.seed(0)
    with matplotlib.rc_context():  # a test that applies primekit's figure style does not restyle later tests
        yield data_root
    torch.set_rng_state(saved[0])
    torch.set_num_threads(saved[1])
    torch.set_default_dtype(saved[2])
    np.random.set_state(saved[3])
    _SOURCE_HASH.cache_clear()


@pytest.fixture
def data_root(isolated_environment):
    """The temporary data root of the current test."""
    return isolated_environment


@pytest.fixture
def book_style():
    """The book's figure style for one test, and every figure closed after it (the plot tests use it)."""
    import matplotlib.pyplot as plt

    from primekit import plots

    with plt.style.context(plots.STYLE_PATH):
        yield
    plt.close("all")
