"""The Reproducibility appendix's facts about a build: the run profiles as a table, where data lives, and
the versions and source hash that built the page.

Everything here is read from primekit itself (:mod:`primekit.profiles`, :mod:`primekit.paths`,
:func:`primekit.cache.source_hash`), so the appendix never types a value by hand.
"""

from __future__ import annotations

import platform
from typing import Mapping

import torch

from primekit import paths, profiles
from primekit.cache import source_hash
from primekit.tables import Table

#: The profile fields the table shows, in order.
PROFILE_FIELDS = ("data_source", "n_train", "n_test", "timesteps", "epochs", "batch_size", "seed", "device")


def profile_table(known: Mapping[str, profiles.Profile] | None = None) -> Table:
    """One row per profile: its name (as code), :data:`PROFILE_FIELDS` (None shown as "all") and its purpose."""
    known = profiles.PROFILES if known is None else known
    rows = []
    for p in known.values():
        values = ["all" if getattr(p, f) is None else str(getattr(p, f)) for f in PROFILE_FIELDS]
        rows.append([f"`{p.name}`", *values, p.description])
    return Table.of(("profile", *PROFILE_FIELDS, "purpose"), rows)


def data_location_text() -> str:
    """One sentence: the data root's folder name and where the real N-MNIST is expected, relative to it."""
    root = paths.data_root()
    nmnist = profiles.nmnist_dir()
    try:
        shown = nmnist.relative_to(root.parent)
    except ValueError:  # $PRIMEKIT_DATA elsewhere: show the full path
        shown = nmnist
    return f"On this build the data root was `{root.name}/` (real N-MNIST expected in `{shown}`)."


def versions_text(primekit_version: str) -> str:
    """One sentence: the hash of primekit's source and the versions of primekit, torch and Python."""
    return (f"Source hash of the whole primekit package that built this page: `{source_hash()}`; "
            f"primekit {primekit_version}, torch {torch.__version__}, Python {platform.python_version()}.")
