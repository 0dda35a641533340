"""Where primekit reads raw datasets and writes derived files.

Layout under the data root (``data/`` at the repository root unless ``PRIMEKIT_DATA`` says otherwise)::

    data/raw/     datasets a user adds (real N-MNIST, MNIST IDX files); never deleted by primekit
    data/cache/   everything derived (emulated data, frames, trained models, results); ``make clean``

Paths are resolved from the repository root (or the environment variable), never from the current
working directory, so a notebook in ``book/`` and a test in ``tests/`` see the same files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

DATA_ENV = "PRIMEKIT_DATA"

_PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path | None:
    """The repository holding this primekit checkout, or None for a non-editable install."""
    candidate = _PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file() and (candidate / "primekit").is_dir():
        return candidate
    return None


def data_root() -> Path:
    """The data root: ``$PRIMEKIT_DATA`` if set, else ``<repo>/data``, else ``~/.primekit/data``."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    root = repo_root()
    if root is not None:
        return root / "data"
    return Path.home() / ".primekit" / "data"


def raw_dir() -> Path:
    """Folder for datasets a user adds (not created here: it is the user's)."""
    return data_root() / "raw"


def cache_dir(*parts: str) -> Path:
    """A folder under ``data/cache`` for derived files, created on demand."""
    path = data_root().joinpath("cache", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_dir() -> Path:
    """The installed primekit package folder (its source files are part of every cache key)."""
    return _PACKAGE_DIR


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Write a file all at once: ``write(stream)`` fills a temporary file that then replaces ``path``.

    A crash or an exception leaves the old file (or none), never half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
