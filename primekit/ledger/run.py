"""The ledger: every row's record (running the chapter that writes it when it is missing), its verdict, and
the tables the "What we reproduced" page and ``python -m primekit reproduce`` show.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from primekit import profiles
from primekit.ledger import records
from primekit.ledger.rows import ROWS, LedgerRow, row
from primekit.ledger.verdicts import Verdict, decide
from primekit.progress import progress
from primekit.tables import Table

#: How the ledger names each chapter notebook in its "where" column.
CHAPTER_TITLES = {"early_stop": "Early stop", "energy": "Energy", "inpainting": "Inpainting",
                  "memristor_noise": "Memristor noise", "noise_robustness": "Noise robustness",
                  "subnet_scoring": "Subnet scoring"}


@dataclass(frozen=True)
class LedgerEntry:
    """A row with its record and verdict (None for both when the chapter recorded nothing)."""

    row: LedgerRow
    record: records.FigureRecord | None
    verdict: Verdict | None


def book_dir() -> Path:
    """The book's notebooks (:func:`primekit.ledger.records.book_dir`); the ledger needs a clone of the repository."""
    folder = records.book_dir()
    if folder is None:
        raise FileNotFoundError("the ledger runs the book's chapter notebooks: use a clone of the repository "
                                "(pip install -e .), not an installed primekit")
    return folder


def _selected(keys: Iterable[str] | None) -> list[LedgerRow]:
    return list(ROWS) if keys is None else [row(k) for k in keys]


def load_entries(profile: str, keys: Iterable[str] | None = None, out: Path | None = None) -> list[LedgerEntry]:
    """The rows with their current records (None where missing or stale) and verdicts."""
    entries = []
    for r in _selected(keys):
        record = records.load_record(r.key, profile, book_dir() / f"{r.notebook}.ipynb", out)
        entries.append(LedgerEntry(r, record, None if record is None else decide(r.key, record.values)))
    return entries


@contextmanager
def _environment(**values: str):
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_chapter(notebook: str, profile: str, out: Path | None = None, timeout_s: int = 3600) -> None:
    """Execute the chapter notebook ``book/<notebook>.ipynb`` in ``profile`` (its records land in ``out``, default
    :func:`primekit.ledger.records.figures_dir`). primekit's cache makes a second run cheap."""
    import nbformat
    from nbclient import NotebookClient

    path = book_dir() / f"{notebook}.ipynb"
    if not path.is_file():
        raise ValueError(f"notebook={notebook!r} is not a chapter: {path} does not exist")
    nb = nbformat.read(path, as_version=4)
    env = {profiles.PROFILE_ENV: profiles.get_profile(profile, check=False).name, "PRIMEKIT_LOG": "warning",
           "PRIMEKIT_PROGRESS": "summary"}
    if out is not None:
        env[records.FIGURES_ENV] = str(Path(out).resolve())
    with _environment(**env):  # the kernel inherits this process's environment
        NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()


def ensure_entries(profile: str, keys: Iterable[str] | None = None, out: Path | None = None,
                   run_missing: bool = True) -> list[LedgerEntry]:
    """:func:`load_entries`, after running (once each) the chapters whose records are missing or stale."""
    entries = load_entries(profile, keys, out)
    missing = sorted({e.row.notebook for e in entries if e.record is None})
    if missing and run_missing:
        for notebook in progress(missing, "running chapters for the ledger", unit="chapters"):
            run_chapter(notebook, profile, out)
        entries = load_entries(profile, keys, out)
    return entries


def ledger_table(entries: Sequence[LedgerEntry], *, links: bool = True) -> Table:
    """One row per entry: the paper's figure, the paper's value or claim, ours, the status, and where the book
    explains it (with the modelling choice behind any status other than "reproduced")."""
    rows = []
    for e in entries:
        title = CHAPTER_TITLES.get(e.row.notebook, e.row.notebook)
        where = f"{{doc}}`{title} <{e.row.notebook}>`" if links else title
        why = "" if e.verdict is None or e.verdict.status == "reproduced" else f"{e.row.why_differs}; "
        rows.append((e.row.label, e.row.paper, ours_text(e), status_text(e), why + where))
    return Table.of(("paper", "the paper says", "ours", "status", "why, and where"), rows)


def ours_text(entry: LedgerEntry) -> str:
    """Our result of a row in words ("not measured" without a record)."""
    return "not measured" if entry.verdict is None else entry.verdict.ours


def status_text(entry: LedgerEntry) -> str:
    """The row's status ("-" without a record)."""
    return "-" if entry.verdict is None else entry.verdict.status


def rules_table(entries: Sequence[LedgerEntry]) -> Table:
    """The rule that decided each row's status."""
    return Table.of(("paper", "status", "decided by"),
                    [(e.row.label, status_text(e), "-" if e.verdict is None else e.verdict.rule) for e in entries])


def copy_outputs(key: str, source: Path, target: Path) -> list[Path]:
    """Copy a record's JSON, PNG and SVG from ``source`` to ``target``; returns the files copied."""
    copied = []
    for suffix in ("json", "png", "svg"):
        file = source / f"{key}.{suffix}"
        if file.is_file():
            target.mkdir(parents=True, exist_ok=True)
            copied.append(Path(shutil.copy2(file, target / file.name)))
    return copied
