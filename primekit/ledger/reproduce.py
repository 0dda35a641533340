"""``python -m primekit reproduce``: every paper figure the book measures, as PNG and SVG with the data behind
it (JSON), in one folder, and the ledger's status of each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from primekit import profiles
from primekit.ledger import records
from primekit.ledger.rows import ROWS, row
from primekit.ledger.run import copy_outputs, ensure_entries, ledger_table, load_entries


def figure_keys(only: Sequence[str] | None) -> list[str]:
    """The rows asked for: ``only`` as given ("3b", "fig3b" or "Fig. 3b" all name row 3b), else every row."""
    if not only:
        return [r.key for r in ROWS]
    keys = []
    for name in only:
        key = name.lower().replace("fig.", "").replace("fig", "").strip()
        keys.append(row(key).key)  # an unknown name raises, listing the rows
    return keys


def reproduce(profile: str | None = None, only: Sequence[str] | None = None, out: Path | None = None) -> tuple[Path, str]:
    """Write the records and figures of the rows ``only`` (default all) of ``profile`` into ``out`` (default
    ``<data root>/figures/<profile>``), running the chapters whose records are missing or stale. Returns the
    folder and the summary table as text."""
    name = profiles.get_profile(profile, check=False).name
    keys = figure_keys(only)
    default = records.figures_dir(name)
    target = default if out is None else Path(out).resolve()
    if target != default:  # current records of an earlier run (the book build) are copied, not recomputed
        for entry in load_entries(name, keys):
            if entry.record is not None:
                copy_outputs(entry.row.key, default, target)
    entries = ensure_entries(name, keys, None if target == default else target)
    table = ledger_table(entries, links=False)
    widths = [max(len(c) for c in column) for column in zip(table.header, *table.rows)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in (table.header, *table.rows)]
    return target, "\n".join(lines)
