"""Where primekit reads raw datasets and writes derived files.

Layout under the data root (``data/`` at the repository root unless ``PRIMEKIT_DATA`` says otherwise)::

    data/raw/     datasets a user adds (real N-MNIST, MNIST IDX files); never deleted by primekit
    data/cache/   everything derived (emulated data, frames, trained models, results); ``make clean``

Paths are resolved from the repository root (or the environment variable), never from the current
working directory, so a notebook in ``book/`` and a test in ``tests/`` see the same files.
"""

from __future__ import annotations

import os
import sys
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


#: Set to 1 to make every read or write of a file beside the repository an error (tests set it).
STRICT_ENV = "PRIMEKIT_FORBID_OUTSIDE_REPO"


class OutsideRepositoryError(PermissionError):
    """A file beside the repository was opened: a user's clone has nothing there."""


_guard_installed = False


def forbid_files_beside_repository() -> None:
    """Make opening any file in the folder that holds the repository, but outside the repository and the
    data root, raise :class:`OutsideRepositoryError` for the rest of this process (a ``sys`` audit hook).

    A user's fresh clone has nothing beside it, so code that reads a neighbour folder works only on the
    developers' machines. The tests call this, and set :data:`STRICT_ENV` so that notebook kernels started
    by the book build (which import primekit) install it too. Audit hooks cannot be removed; calling this
    twice installs one hook.
    """
    global _guard_installed
    root = repo_root()
    if _guard_installed or root is None:
        return
    # The interpreter's own installation is not "beside the repository" even when it sits there (a git
    # worktree run with the main checkout's .venv): packages imported lazily (numba compiling a kernel) must load.
    environment = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    neighbourhood, allowed = root.parent, (root, data_root(), *sorted(environment))

    def hook(event: str, args: tuple) -> None:
        if event != "open" or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path = Path(os.fsdecode(args[0]))
        if not path.is_absolute():
            path = Path.cwd() / path
        path = Path(os.path.normpath(path))
        if path.is_relative_to(neighbourhood) and not any(path.is_relative_to(a) for a in allowed):
            raise OutsideRepositoryError(f"{path} lies beside the repository ({root}), which a user's clone "
                                         f"does not have; ship the file in the repository (e.g. data/reference)")

    sys.addaudithook(hook)
    _guard_installed = True
