"""What a chapter measured for one panel or headline number of the paper, stored so the ledger can read it.

A chapter notebook calls :meth:`primekit.chapter.Chapter.record` with the values behind a paper figure (and,
optionally, the figure itself and the data it plots). :func:`save_record` writes them as JSON, with the PNG
and SVG of the figure beside it, into ``<data root>/figures/<profile>/`` (or ``$PRIMEKIT_FIGURES``). A record
holds who wrote it: the profile, primekit's source hash and a hash of the chapter notebook's code cells, plus
a checksum of its content. :func:`load_record` serves a record only when all of these still match, so the
ledger never reports a number that the current code and config did not produce.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from primekit import paths, profiles
from primekit.cache import source_hash
from primekit.log import get_logger

#: Overrides where chapters write their records and figures (``python -m primekit reproduce --out`` sets it).
FIGURES_ENV = "PRIMEKIT_FIGURES"
#: Overrides where the chapter notebooks are (default ``<repository>/book``; tests point it elsewhere).
BOOK_ENV = "PRIMEKIT_BOOK"
_FORMAT = 1
_LOG = get_logger("ledger")


@dataclass(frozen=True)
class FigureRecord:
    """One paper figure (or headline number) as a chapter measured it.

    Attributes:
        key: the ledger row, e.g. ``"3b"`` or ``"accuracy"`` (:data:`primekit.ledger.rows.ROWS`).
        values: named numbers and short texts the row's verdict reads (fractions, not percent).
        data: the data behind the figure (lists of numbers or strings), written as JSON for ``reproduce``.
        meta: who wrote it (profile, source hash, notebook hash); filled by :func:`save_record`.
    """

    key: str
    values: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def book_dir() -> Path | None:
    """The chapter notebooks: ``$PRIMEKIT_BOOK`` if set, else ``<repository>/book``; None for an installed primekit
    without the book."""
    env = os.environ.get(BOOK_ENV)
    if env:
        return Path(env).expanduser().resolve()
    root = paths.repo_root()
    return None if root is None else root / "book"


def figures_dir(profile: str | None = None) -> Path:
    """Where records and figures of ``profile`` go: ``$PRIMEKIT_FIGURES`` if set, else
    ``<data root>/figures/<profile>``."""
    name = profiles.get_profile(profile, check=False).name
    env = os.environ.get(FIGURES_ENV)
    return Path(env).expanduser().resolve() if env else paths.data_root() / "figures" / name


def notebook_hash(notebook: str | os.PathLike) -> str:
    """A hash of a notebook's code cells (text edits keep records, code edits do not)."""
    path = Path(notebook)
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"notebook={str(path)!r} is not a readable notebook ({type(error).__name__}: {error})") from None
    code = ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]
    return hashlib.sha256("\x00".join(code).encode()).hexdigest()[:16]


def expected_meta(profile: str, notebook: str | os.PathLike) -> dict[str, Any]:
    """The ``meta`` a record of ``profile`` written by ``notebook`` must carry to be current."""
    chosen = profiles.get_profile(profile, check=False)
    return {"format": _FORMAT, "profile": chosen.name, "profile_hash": profiles.stable_hash(chosen),
            "source_hash": source_hash(), "notebook": Path(notebook).stem, "notebook_hash": notebook_hash(notebook)}


def _checksum(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON: numbers (NaN as None), strings, booleans, lists and dicts of them."""
    if hasattr(value, "tolist"):  # NumPy arrays and scalars, torch tensors
        value = value.tolist()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise TypeError(f"{where} holds a {type(value).__name__}; a record stores numbers, strings, lists and dicts")


def save_record(record: FigureRecord, profile: str, notebook: str | os.PathLike, fig=None,
                out: Path | None = None) -> Path:
    """Write ``record`` (and ``fig`` as PNG and SVG) into ``out`` (default :func:`figures_dir`); returns the
    JSON file."""
    out = figures_dir(profile) if out is None else Path(out)
    content = {"key": record.key, "values": _plain(dict(record.values), "values"),
               "data": _plain(dict(record.data), "data"), "meta": expected_meta(profile, notebook)}
    text = json.dumps({**content, "sha256": _checksum(content)}, indent=1, sort_keys=True)
    path = out / f"{record.key}.json"
    paths.atomic_write(path, lambda stream: stream.write(text.encode()))
    if fig is not None:
        for suffix in ("png", "svg"):
            paths.atomic_write(out / f"{record.key}.{suffix}",
                               lambda stream, s=suffix: fig.savefig(stream, format=s, dpi=150, bbox_inches="tight"))
    return path


def load_record(key: str, profile: str, notebook: str | os.PathLike, out: Path | None = None) -> FigureRecord | None:
    """The current record of ``key``, or None when it is missing, stale (other code, notebook or profile) or
    damaged (a damaged one is logged as a warning)."""
    path = (figures_dir(profile) if out is None else Path(out)) / f"{key}.json"
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
        content = {k: stored[k] for k in ("key", "values", "data", "meta")}
    except (OSError, ValueError, KeyError, TypeError) as error:
        _LOG.warning(f"{path.name} is unreadable ({type(error).__name__}); the chapter will be run again")
        return None
    if stored.get("sha256") != _checksum(content) or content["key"] != key:
        _LOG.warning(f"{path.name} fails its checksum (changed after it was written); the chapter will be run again")
        return None
    if content["meta"] != expected_meta(profile, notebook):
        _LOG.info(f"{path.name} was written by other code, another notebook version or another profile")
        return None
    values = {k: (math.nan if v is None else v) for k, v in content["values"].items()}
    return FigureRecord(key, values, content["data"], content["meta"])
