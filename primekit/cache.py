"""A result cache that cannot serve a stale result.

``load_or_run(name, config, fn)`` returns ``fn()``; the first call stores it under ``data/cache/results``
and later calls load it, as long as three things are unchanged:

- the config (hashed by :func:`primekit.config.stable_hash`),
- primekit's own source code (every ``.py`` and ``.mplstyle`` file of the package: a version string
  would miss an edit), and
- the data fingerprint the caller passes (e.g. :func:`fingerprint_files` of the raw files used).

An entry whose code hash no longer matches, or that cannot be read, is recomputed with a message on
stderr; it is never silently reused. Writes are atomic (temporary file + rename), so an interrupted run
leaves either the old entry or the new one, never half a file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from . import paths
from .config import stable_hash

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
_FORMAT = 1


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """Hash of primekit's source files (names and contents), computed once per process."""
    digest = hashlib.sha256()
    root = paths.package_dir()
    files = sorted(p for p in root.rglob("*") if p.suffix in (".py", ".mplstyle") and p.is_file())
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def fingerprint_files(files: Iterable[str | os.PathLike]) -> str:
    """A fingerprint of data files: their names, sizes and contents (hashed)."""
    digest = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        if not path.is_file():
            raise FileNotFoundError(f"cannot fingerprint {path}: no such file")
        digest.update(path.name.encode() + b"\0" + str(path.stat().st_size).encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def entry_path(name: str, config: Any, data_fingerprint: str = "") -> Path:
    """The file that holds (or will hold) the result for ``name`` and ``config``."""
    # fullmatch, not match: with match the pattern's '$' also accepted a trailing newline
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise ValueError(f"name={name!r} must use only letters, digits, '_', '-' and '.'")
    key = stable_hash({"config": config, "data": data_fingerprint})
    return paths.cache_dir("results") / f"{name}-{key}.pt"


def load_or_run(
    name: str,
    config: Any,
    fn: Callable[[], Any],
    *,
    data_fingerprint: str = "",
    verbose: bool = True,
) -> Any:
    """Return the cached result of ``fn()`` for ``config``, computing and storing it if needed.

    Args:
        name: a short label for the file name (letters, digits, ``_ - .``), e.g. ``"train-weight-tuning"``.
        config: everything ``fn`` depends on besides code and data: dataclasses, dicts, numbers...
        fn: computes the result; anything ``torch.save`` can store (tensors, dicts, lists, numbers).
        data_fingerprint: identifies the data used (see :func:`fingerprint_files`).
        verbose: print a line on stderr saying whether the result was loaded or computed.
    """
    path = entry_path(name, config, data_fingerprint)
    meta = {"format": _FORMAT, "name": name, "source_hash": source_hash()}
    if path.exists():
        try:
            stored = torch.load(path, map_location="cpu", weights_only=False)
            stored_meta = stored["meta"] if isinstance(stored, dict) else None
        except Exception as error:  # any unreadable entry is recomputed, never a crash
            _say(f"[primekit cache] {path.name} is unreadable ({type(error).__name__}: {error}); recomputing")
        else:
            if stored_meta == meta and "value" in stored:
                if verbose:
                    _say(f"[primekit cache] loaded {name} from {path}")
                return stored["value"]
            _say(f"[primekit cache] {path.name} was written by other primekit code; recomputing")
    value = fn()
    paths.atomic_write(  # protocol 4 stores NumPy bytes as bytes (protocol 2 inflates them by ~25 %)
        path, lambda stream: torch.save({"meta": meta, "value": value}, stream, pickle_protocol=4))
    if verbose:
        _say(f"[primekit cache] computed {name}, stored in {path}")
    return value


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
