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

#: The profile fields the table shows, in order, with the label of their row.
PROFILE_FIELDS = {"data_source": "N-MNIST source", "n_train": "N-MNIST training samples",
                  "n_test": "N-MNIST test samples", "timesteps": "time steps T", "epochs": "epochs",
                  "batch_size": "batch size", "seed": "root seed", "device": "device"}
#: The inpainting task's sizes (``profile.inpainting``), with the label of their row.
INPAINTING_FIELDS = {"n_train": "inpainting: training digits", "n_test": "inpainting: test digits",
                     "timesteps": "inpainting: time steps T", "epochs": "inpainting: epochs",
                     "batch_size": "inpainting: batch size"}


#: How the table names a profile's data source (:data:`primekit.profiles.DATA_SOURCES`).
DATA_SOURCE_NAMES = {"emulated": "emulated offline", "nmnist": "real recordings"}


def _cell(value, field: str = "") -> str:
    if field == "data_source":
        return DATA_SOURCE_NAMES[value]
    if value is None:
        return "all"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def profile_table(known: Mapping[str, profiles.Profile] | None = None) -> Table:
    """One column per profile (its name as code), one row per setting: :data:`PROFILE_FIELDS`, then the
    inpainting sizes :data:`INPAINTING_FIELDS` (None shown as "all"). Profiles are few and settings many, so
    the table stays inside the page's text column; :func:`profile_purposes` gives each profile's purpose."""
    known = profiles.PROFILES if known is None else known
    rows = [[label, *(_cell(getattr(p, field), field) for p in known.values())] for field, label in PROFILE_FIELDS.items()]
    rows += [[label, *(_cell(getattr(p.inpainting, field)) for p in known.values())]
             for field, label in INPAINTING_FIELDS.items()]
    return Table.of(("setting", *(f"`{p.name}`" for p in known.values())), rows)


def profile_purposes(known: Mapping[str, profiles.Profile] | None = None) -> str:
    """A Markdown list: each profile's name (as code) and its purpose."""
    known = profiles.PROFILES if known is None else known
    return "\n".join(f"- `{p.name}`: {p.description}" for p in known.values())


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
