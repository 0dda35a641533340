"""The real files shipped in ``data/reference``: a recorded N-MNIST sample and the authors' released model.

:func:`reference_path` returns a file's path after checking its SHA-256 against :data:`REFERENCE_FILES`, so
a corrupt or edited file stops with an error naming it instead of giving wrong numbers. The loaders that
read them live with the code that understands them: :func:`primekit.data.nmnist.read_reference_recording`
and :func:`primekit.snn.models.load_released_model`. Origins and licences: ``data/reference/README.md``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from primekit import paths


@dataclass(frozen=True)
class ReferenceFile:
    """One shipped file: its path under ``data/reference``, its SHA-256 and where it comes from."""

    relative_path: str
    sha256: str
    origin: str


REFERENCE_FILES = {
    "nmnist-sample": ReferenceFile(
        "nmnist/sample_nmnist.bin",
        "3c9159329633efbb6879bba1b430598b78cc06a779a55d1259ec13e203ad00ee",
        "one real N-MNIST recording (a 4; Orchard et al. 2015), tonic's test file sample_nmnist.bin (GPL-3.0)"),
    "released-classifier": ReferenceFile(
        "prime-official/classification.pt",
        "bece51d6d024107601e3af3d4a576bdf5b9b056a0f0af6f7bf8dc45dac9e51ca",
        "the authors' released N-MNIST network, bo-wang-up/PRIME "
        "Classification/Pretrained_models/classification.pt (MIT)"),
}


class ReferenceDataError(RuntimeError):
    """A shipped reference file is missing or differs from the one the book was checked with."""


def reference_dir() -> Path:
    """``<repository>/data/reference`` (it is part of the repository, so ``PRIMEKIT_DATA`` does not move it)."""
    root = paths.repo_root()
    if root is None:
        raise ReferenceDataError("primekit is not installed from a checkout of the repository, so "
                                 "data/reference is not available; install it with `pip install -e .`")
    return root / "data" / "reference"


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def reference_path(name: str) -> Path:
    """The checked path of reference file ``name`` (a key of :data:`REFERENCE_FILES`).

    Raises:
        ValueError: ``name`` is not a reference file.
        ReferenceDataError: the file is missing or its SHA-256 differs.
    """
    if name not in REFERENCE_FILES:
        raise ValueError(f"name={name!r} is not a reference file; choose one of {sorted(REFERENCE_FILES)}")
    return _checked(name, reference_dir())


@functools.lru_cache(maxsize=None)
def _checked(name: str, folder: Path) -> Path:
    entry = REFERENCE_FILES[name]
    path = folder / entry.relative_path
    if not path.is_file():
        raise ReferenceDataError(f"reference file {path} is missing ({entry.origin}); restore it with "
                                 f"`git checkout -- data/reference`")
    found = sha256_of(path)
    if found != entry.sha256:
        raise ReferenceDataError(f"reference file {path} has SHA-256 {found}, expected {entry.sha256} "
                                 f"({entry.origin}); restore it with `git checkout -- data/reference`")
    return path
