"""Explicit seeds: every random draw in primekit takes a seed or a generator made here."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch's global generators; return a fresh torch generator.

    Library code prefers explicit generators (:func:`make_generator`); this is for notebooks and
    scripts that also call code using the global generators (e.g. ``nn.init``).
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return make_generator(seed)


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch generator seeded with ``seed`` (independent of the global one)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(_check_seed(seed))
    return generator


def derive_seed(seed: int, *labels: str | int) -> int:
    """A child seed for one named purpose, e.g. ``derive_seed(profile.seed, "chip", 3)``.

    Different labels give unrelated streams, so adding a new random draw does not shift others.
    """
    seed = _check_seed(seed)
    # The labels enter as a fixed-length hash of their typed list: fed to SeedSequence directly, trailing
    # zeros were padding (("chip",) == ("chip", 0)) and "a" equalled 97.
    key = hashlib.sha256(repr([_label_key(x) for x in labels]).encode()).digest()
    words = tuple(int(w) for w in np.frombuffer(key, dtype="<u4"))
    sequence = np.random.SeedSequence(seed, spawn_key=words)
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _label_key(label: str | int) -> tuple[str, int | str]:
    if isinstance(label, (int, np.integer)):
        return ("int", int(label))
    return ("str", str(label))


#: Seeds are 32-bit: torch's CPU generator ignores higher bits (2**32 would replay seed 0).
SEED_LIMIT = 2**32


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"seed={seed!r} must be an integer in [0, 2**32)")
    return int(seed)
