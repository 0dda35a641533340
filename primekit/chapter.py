"""What every chapter notebook starts with, in one call: profile banner, seeds, shared constants, glue.

::

    chapter = start_chapter("early-stop")     # style, profile, global seed, banner, basic glue values
    chapter.seed("chip")                      # one seed per purpose, derived from the profile's seed
    chapter.glue_values({"acc_full": 0.963, "theta": chapter.theta})

The constants every chapter shares (the read noise of "hardware PRIME", the authors' threshold) come from
:mod:`primekit.profiles`, so two chapters never disagree about them. Glue writes MyST-NB's format through
IPython alone, so primekit works without the book's packages.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from primekit import profiles
from primekit.data.datasets import SOURCE_NAMES
from primekit.seeding import derive_seed, seed_everything

#: MyST-NB's prefix of glued, hidden outputs (``myst_nb.ext.glue.GLUE_PREFIX``; tests/test_chapter.py checks it).
GLUE_PREFIX = "application/papermill.record/"


@dataclass
class Chapter:
    """One chapter's run: its profile, the data it uses, and its seeds.

    Attributes:
        name: the chapter's short name (part of every seed it derives).
        profile: the run profile (``$PRIMEKIT_PROFILE``, else ``book``).
        data_name: "emulated N-MNIST" or "real N-MNIST" (None for a chapter that reads no data).
        read_noise: relative read noise of the book's hardware PRIME (:data:`primekit.profiles.HARDWARE_READ_NOISE`).
        theta: the authors' early-stop threshold (:data:`primekit.profiles.PAPER_THRESHOLD`).
        started: ``time.perf_counter()`` when the chapter started (for its run time).
    """

    name: str
    profile: profiles.Profile
    data_name: str | None
    read_noise: float = profiles.HARDWARE_READ_NOISE
    theta: float = profiles.PAPER_THRESHOLD
    started: float = field(default_factory=time.perf_counter)

    @property
    def timesteps(self) -> int:
        """T of the profile."""
        return self.profile.timesteps

    def seed(self, purpose: str | int) -> int:
        """A seed for one purpose of this chapter, derived from the profile's root seed."""
        return derive_seed(self.profile.seed, f"{self.name}-chapter", purpose)

    def glue(self, name: str, value: Any) -> Any:
        """Glue one value for the chapter's text (``{glue:text}`name```) without showing it; returns it.

        The same display call as ``myst_nb.glue(name, value, display=False)``, made directly: importing MyST-NB's
        glue module costs about 1.5 s per notebook (nbformat, jsonschema) and the call itself nothing.
        """
        from IPython.core.formatters import format_display_data
        from IPython.display import display

        bundle, metadata = format_display_data(value)
        metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
        display({GLUE_PREFIX + kind: data for kind, data in bundle.items()}, raw=True, metadata=metadata)
        return value

    def glue_values(self, values: Mapping[str, Any], prefix: str = "", *, percent: bool = False) -> None:
        """Glue every ``name: value`` of ``values`` (names prefixed by ``prefix``).

        ``percent=True`` also glues every float as ``<name>_pct``, 100 times it: the text then writes
        ``{glue:text}`x_pct:.1f` %`` ("96.3 %"; Python's ``:.1%`` format gives ``96.3%``, without the space).
        """
        for name, value in values.items():
            self.glue(f"{prefix}{name}", value)
            if percent and isinstance(value, (float, np.floating)):
                self.glue(f"{prefix}{name}_pct", 100 * float(value))

    def glue_figure(self, name: str, fig) -> None:
        """Glue a figure for ``{glue:figure}`` and close it, so the cell does not show it a second time."""
        import matplotlib.pyplot as plt

        self.glue(name, fig)
        plt.close(fig)

    def record(self, key: str, values: Mapping[str, Any], *, data: Mapping[str, Any] | None = None,
               fig=None) -> None:
        """Record what this chapter measured for the paper's figure or number ``key`` (a row of
        :data:`primekit.ledger.rows.ROWS`): the values its verdict needs (fractions, not percent), the data
        behind the figure, and the figure itself (saved as PNG and SVG). The ledger page and
        ``python -m primekit reproduce`` read these records; a record is current only for this profile, this
        primekit code and this notebook's code."""
        from primekit.ledger import records, rows, verdicts

        row = rows.row(key)
        verdicts.decide(key, values)  # fails here, naming what is missing, rather than on the ledger page
        book = records.book_dir()
        if book is None:
            return  # an installed primekit without the book: nothing to record against
        records.save_record(records.FigureRecord(key, dict(values), dict(data or {})), self.profile.name,
                            book / f"{row.notebook}.ipynb", fig=fig)

    def runtime_s(self) -> float:
        """Seconds since the chapter started."""
        return time.perf_counter() - self.started

    def banner(self) -> str:
        """One line naming the profile, the data and T."""
        text = f"profile: {self.profile.name} ({self.profile.description})"
        if self.data_name is not None:
            text += f"; N-MNIST source: {self.data_name}; T = {self.timesteps}"
        return text


def start_chapter(name: str, *, reads_data: bool = True, profile: str | None = None) -> Chapter:
    """Start a chapter: the book's figure style, the profile, the global seed, a banner, basic glue values.

    Args:
        name: the chapter's short name, e.g. ``"early-stop"``.
        reads_data: False for a chapter that reads no dataset (it then runs in any profile, even ``paper``
            without the real data on disk).
        profile: a profile name; None means ``$PRIMEKIT_PROFILE``, else ``book``.

    Glued: ``profile_name``, ``profile_description``, ``data_name`` and ``T`` (the last two only when
    ``reads_data``), ``read_noise`` and ``theta_paper``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name={name!r} must be a non-empty string naming the chapter")
    from primekit import plots  # the chapter layer is the one place besides the CLI that may import plots

    plots.use_style()
    chosen = profiles.get_profile(profile, check=reads_data)
    seed_everything(chosen.seed)
    chapter = Chapter(name, chosen, SOURCE_NAMES[chosen.data_source] if reads_data else None)
    chapter.glue_values({"profile_name": chosen.name, "profile_description": chosen.description,
                         "read_noise": chapter.read_noise, "theta_paper": chapter.theta})
    if reads_data:
        chapter.glue_values({"data_name": chapter.data_name, "T": chapter.timesteps})
    print(chapter.banner())
    return chapter
