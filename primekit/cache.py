"""A result cache that cannot serve a stale result.

``load_or_run(name, config, fn)`` returns ``fn()``; the first call stores it under ``data/cache/results``
and later calls load it, as long as three things are unchanged:

- the config (hashed by :func:`primekit.profiles.stable_hash`),
- the primekit source code the computation depends on: the module that defines ``fn`` and every
  primekit module it imports, directly or not (found by reading their ``import`` statements; a
  version string would miss an edit). Editing the energy model therefore keeps the trained networks,
  while editing the LIF neuron retrains them. A ``fn`` defined outside primekit (a notebook, a test)
  depends on the whole package, and

- the data fingerprint the caller passes (e.g. :func:`fingerprint_files` of the raw files used),
- the versions of the libraries that change results (torch, NumPy).

A ``fn`` defined outside primekit (a notebook cell, a test) is also keyed by its own source (or, without
one, its compiled code), so editing it recomputes. Every stored payload carries a SHA-256 checksum verified
on load. An entry whose code hash or versions no longer match, whose checksum fails, or that cannot be read,
is recomputed with a warning (:mod:`primekit.log`); it is never silently reused. Writes are atomic (temporary file +
rename), so an interrupted run leaves either the old entry or the new one, never half a file.

Not in the key, on purpose: the number of threads and the batch size used to compute a result (they change
speed, and floating-point rounding in the last bits, never the meaning of a result; every random draw is keyed
by sample and step, not by batch), and the machine. A result computed on another machine with the same code,
config, data and library versions is served as is.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import io
import logging
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch

from primekit import paths
from primekit.log import get_logger
from primekit.profiles import stable_hash

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
_LOG = get_logger("cache")
_STALE = "was written by other code, another library version or another cache format"
_FORMAT = 2  # 2: payload stored as checksummed bytes


@functools.lru_cache(maxsize=None)
def source_hash(module: str | None = None) -> str:
    """Hash of primekit source files (names and contents), computed once per process.

    Args:
        module: a primekit module name (``"primekit.experiments.training"``): hash that module and the primekit modules
            it imports, transitively. ``None`` (or a module outside primekit) hashes every ``.py`` and
            ``.mplstyle`` file of the package.
    """
    root = paths.package_dir()
    if module is not None and (module == "primekit" or module.startswith("primekit.")):
        files = sorted(_dependency_files(module, root))
    else:
        files = sorted(p for p in root.rglob("*") if p.suffix in (".py", ".mplstyle") and p.is_file())
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _module_file(name: str, root: Path) -> Path | None:
    """The source file of primekit module ``name`` (dotted, e.g. ``primekit.plots.memristor_noise``)."""
    parts = name.split(".")[1:]
    base = root.joinpath(*parts) if parts else root
    for candidate in (base.with_suffix(".py") if parts else None, base / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, name: str) -> set[str]:
    """Names of the primekit modules that the file ``path`` (module ``name``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)  # `from . import cache`
    return {m for m in found if m == "primekit" or m.startswith("primekit.")}


def _dependency_files(module: str, root: Path) -> set[Path]:
    """Source files of ``module`` and of every primekit module it imports, transitively."""
    seen: set[str] = set()
    files: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name, root)
        if path is None:  # `from .x import y` also lists x.y, which is a name, not a module
            continue
        if path.name == "__init__.py" and name != module:  # package __init__s re-export, they compute nothing
            continue
        files.add(path)
        todo.extend(_imported_modules(path, name))
    return files


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


def fingerprint_arrays(*arrays) -> str:
    """A fingerprint of arrays' contents (bytes), e.g. a split's frames and labels: a cached result keyed by
    it never outlives its data."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
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
        verbose: log (at INFO, :mod:`primekit.log`) whether the result was loaded or computed.
    """
    path = entry_path(name, config, data_fingerprint)
    meta = {"format": _FORMAT, "name": name, "source_hash": source_hash(_module_of(fn)),
            "function": function_hash(fn), "versions": library_versions()}
    if path.exists():
        value, problem = _read_entry(path, meta)
        if problem is None:
            if verbose:
                _LOG.info(f"loaded {name} ({path.name})")
            return value
        # a stale entry is routine after an edit; a damaged one is worth a warning even in the book
        _LOG.log(logging.INFO if problem == _STALE else logging.WARNING, f"{path.name} {problem}; recomputing")
    value = fn()
    buffer = io.BytesIO()  # protocol 4 stores NumPy bytes as bytes (protocol 2 inflates them by ~25 %)
    torch.save(value, buffer, pickle_protocol=4)
    payload = buffer.getvalue()
    paths.atomic_write(path, lambda stream: torch.save(
        {"meta": meta, "sha256": hashlib.sha256(payload).hexdigest(), "payload": payload}, stream, pickle_protocol=4))
    if verbose:
        _LOG.info(f"computed {name}, stored as {path.name}")
    return value


def _read_entry(path: Path, meta: dict) -> tuple[Any, str | None]:
    """``(value, None)`` for a valid entry written for ``meta``, else ``(None, what is wrong)``."""
    try:
        stored = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # any unreadable entry is recomputed, never a crash
        return None, f"is unreadable ({type(error).__name__}: {error})"
    if not isinstance(stored, dict) or stored.get("meta") != meta or not isinstance(stored.get("payload"), bytes):
        return None, _STALE
    if hashlib.sha256(stored["payload"]).hexdigest() != stored.get("sha256"):
        return None, "fails its checksum (the file changed after it was written)"
    try:
        return torch.load(io.BytesIO(stored["payload"]), map_location="cpu", weights_only=False), None
    except Exception as error:
        return None, f"holds an unreadable payload ({type(error).__name__}: {error})"


def library_versions() -> dict[str, str]:
    """The versions of the libraries whose upgrade can change a cached result (part of every key)."""
    return {"torch": torch.__version__, "numpy": np.__version__}


def function_hash(fn: Callable) -> str:
    """For a ``fn`` defined outside primekit: a hash of its source (or of its compiled code when the source
    is not available). Empty for primekit's own functions, which :func:`source_hash` covers."""
    module = _module_of(fn)
    if module is not None and (module == "primekit" or module.startswith("primekit.")):
        return ""
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else type(fn)
    try:
        text = inspect.getsource(target)
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        text = repr((code.co_code, code.co_consts, code.co_names)) if code is not None else repr(target)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _module_of(fn: Callable) -> str | None:
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return module if isinstance(module, str) else None

