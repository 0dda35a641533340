"""Chip transfer: does a topology trained on one chip's random conductances work on another chip?

Memristor Pruning learns *which* of its chip's formed cells to keep. Its scores say nothing about weights it has
never seen, so moved to a freshly formed chip of the same device (other random conductances, the same mask,
:func:`primekit.chip.deploy.on_fresh_chip`) it should lose what training gave it. This measures that, beside
the untrained random topology on the training chip (the paper's Random Memristor), without any device noise.
Accuracies are fractions of the test split, without early stop (time-mean output, all T steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from primekit import cache, profiles
from primekit.checks import is_count
from primekit.chip.deploy import on_fresh_chip
from primekit.data.datasets import nmnist_frames
from primekit.experiments.noise_sweep import recording_accuracy
from primekit.experiments.training import TrainConfig, frames_fingerprint, train_method
from primekit.inference.evaluate import record_outputs
from primekit.seeding import SEED_LIMIT, derive_seed


@dataclass(frozen=True)
class ChipTransfer:
    """Accuracies of one trained topology on its own chip and on ``len(fresh)`` freshly formed chips.

    Attributes:
        own: accuracy on the chip it was trained on (noiseless).
        fresh: accuracy on each fresh chip, ``[chips]``.
        random_topology: accuracy of the untrained random mask on the training chip (Random Memristor).
        seed: root seed of the fresh chips (chip ``c`` is formed from ``derive_seed(seed, "fresh chip", c)``).
    """

    own: float
    fresh: np.ndarray
    random_topology: float
    seed: int

    def summary(self) -> dict[str, float]:
        """``transfer_own``, ``transfer_fresh_mean``, ``transfer_fresh_min``, ``transfer_fresh_max``,
        ``transfer_random``, ``transfer_chips`` and ``transfer_kept_share``: the share of the gain over the random
        topology that survives the move, ``(fresh mean - random) / (own - random)``."""
        gain = self.own - self.random_topology
        return {"transfer_own": self.own, "transfer_fresh_mean": float(self.fresh.mean()),
                "transfer_fresh_min": float(self.fresh.min()), "transfer_fresh_max": float(self.fresh.max()),
                "transfer_random": self.random_topology, "transfer_chips": len(self.fresh),
                "transfer_kept_share": float((self.fresh.mean() - self.random_topology) / gain) if gain else float("nan")}


def chip_transfer(profile: profiles.Profile | None = None, splits=None, chips: int = 5, seed: int = 0,
                  method: str = "memristor-pruning") -> ChipTransfer:
    """The trained ``method`` (a network on formed chips) on its own chip and on ``chips`` fresh ones, cached by
    the profile, the training configs, the chips, the seed, the data and the code."""
    if not (is_count(chips) and chips >= 1):
        raise ValueError(f"chips={chips!r} must be a positive integer")
    if not (is_count(seed) and 0 <= seed < SEED_LIMIT):
        raise ValueError(f"seed={seed!r} must be an integer in [0, 2**32)")
    if method not in ("memristor-pruning", "random-memristor"):
        raise ValueError(f"method={method!r} must be a method on formed chips: 'memristor-pruning' or 'random-memristor'")
    profile = profile or profiles.get_profile()
    splits = splits or nmnist_frames(profile)
    key = {"profile": profile, "train": [TrainConfig(method), TrainConfig("random-memristor")], "chips": chips,
           "seed": seed}

    def accuracy(model) -> float:
        return recording_accuracy(record_outputs(model, splits.test, show_progress=False))

    def compute():
        trained = train_method(method, profile, splits).model
        fresh = [accuracy(on_fresh_chip(trained, derive_seed(seed, "fresh chip", c))) for c in range(chips)]
        return ChipTransfer(accuracy(trained), np.array(fresh),
                            accuracy(train_method("random-memristor", profile, splits).model), seed)

    return cache.load_or_run("chip-transfer", key, compute,
                             data_fingerprint=frames_fingerprint(splits.train, splits.test))
