"""Noise robustness: accuracy of trained networks on simulated chips with more and more device noise.

The two noises of :mod:`primekit.chip.memristor`, both relative to each cell's own conductance:

- *programming noise*: every cell misses its intended conductance by ``G * level * eps``, drawn once per
  chip (the ``seed`` of :func:`primekit.chip.deploy.deploy`) and fixed at every timestep;
- *read noise*: every read of the array (one per timestep) sees ``G * (1 + level * eps)``, redrawn; by
  default every sample gets its own read (``MemristorConfig.read_mode``), keyed by (chip read seed, layer,
  sample, step), so the results do not depend on the batch size.

:func:`noise_sweep` puts each trained network on ``chips`` simulated chips at every level of every
kind and records one full-T run per chip (:func:`primekit.inference.evaluate.record_outputs`); the accuracy
without early stop and the accuracy and mean exit step of every early-stop threshold are replayed from
that one recording (:func:`primekit.inference.sweeps.threshold_sweep`). Chip ``c`` uses the same programming
and read seeds for every method and every level (common random numbers): at level ``2s`` every cell's
deviation is exactly twice its deviation at level ``s``, so the curves differ by the level and the
method, not by the luck of the draw. Level 0 is the same noiseless chip for both kinds and is run once.

:func:`layer_noise_anatomy` and :func:`sweep_margins` measure *why* networks differ: how much weight
noise and input-current noise one unit of cell noise causes in each layer (weight magnitudes, RESET
pairs), and how far each sample's decision is from flipping (margins). :func:`deploy_range_filling`
maps each layer with its own ``weight_scale``, to measure how much the mapping of trained weights onto
conductances matters.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from primekit import cache, profiles
from primekit.checks import is_count, is_number
from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.data.datasets import nmnist_frames
from primekit.experiments.training import TRAINED_METHODS, TrainConfig, frames_fingerprint, train_method
from primekit.inference.evaluate import BATCH_SIZE, Recording, record_outputs
from primekit.inference.sweeps import threshold_sweep
from primekit.progress import progress
from primekit.seeding import SEED_LIMIT, derive_seed

#: The two kinds of device noise, as keyword names of :meth:`MemristorConfig.with_noise`.
NOISE_KINDS = ("programming", "read")


def _check_levels(levels) -> tuple[float, ...]:
    if isinstance(levels, (str, bytes)) or not hasattr(levels, "__len__") or len(levels) == 0:
        raise ValueError(f"levels={levels!r} must be a non-empty sequence of noise levels >= 0 (0.05 = 5 %)")
    out = []
    for level in levels:
        if not (is_number(level) and math.isfinite(level) and level >= 0):
            raise ValueError(f"levels contains {level!r}; every level must be a finite number >= 0 (0.05 = 5 %)")
        out.append(float(level))
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"levels={tuple(levels)!r} must be strictly increasing")
    return tuple(out)


@dataclass(frozen=True)
class NoiseSweepConfig:
    """What a noise sweep runs (levels relative to each cell's conductance: 0.05 = 5 %).

    Attributes:
        levels: noise levels, strictly increasing; include 0 to get the noiseless reference.
        kinds: which noises to sweep, a subset of :data:`NOISE_KINDS` (one at a time, the other off).
        chips: simulated chips (programming and read seeds) per point.
        thresholds: early-stop thresholds in (0, 1) replayed on every run (softmax confidence,
            temperature 2); the accuracy without early stop is always recorded.
        memristor: the device whose noise is swept (its own noise levels are replaced).
        batch_size: samples per batch (speed only: the reads are keyed by sample and step).
        seed: root seed of the chips' programming and read noise.
    """

    levels: tuple[float, ...] = (0.0, 0.05, 0.10, 0.15, 0.20)
    kinds: tuple[str, ...] = NOISE_KINDS
    chips: int = 5
    thresholds: tuple[float, ...] = (0.5, 0.7, 0.8, 0.9)
    memristor: MemristorConfig = field(default_factory=MemristorConfig)
    batch_size: int = BATCH_SIZE
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", _check_levels(self.levels))
        kinds = tuple(self.kinds) if isinstance(self.kinds, (list, tuple)) else None
        if not kinds or any(k not in NOISE_KINDS for k in kinds) or len(set(kinds)) != len(kinds):
            raise ValueError(f"kinds={self.kinds!r} must be distinct names from {NOISE_KINDS}")
        object.__setattr__(self, "kinds", kinds)
        if not (is_count(self.chips) and self.chips >= 1):
            raise ValueError(f"chips={self.chips!r} must be a positive integer")
        thresholds = tuple(self.thresholds) if isinstance(self.thresholds, (list, tuple)) else None
        if thresholds is None or any(not (is_number(t) and 0 < t < 1) for t in thresholds):
            raise ValueError(f"thresholds={self.thresholds!r} must be a sequence of numbers in (0, 1) "
                             f"(the run without early stop is always recorded)")
        object.__setattr__(self, "thresholds", tuple(float(t) for t in thresholds))
        if not isinstance(self.memristor, MemristorConfig):
            raise ValueError(f"memristor must be a MemristorConfig, got {type(self.memristor).__name__}")
        if not (is_count(self.batch_size) and self.batch_size >= 1):
            raise ValueError(f"batch_size={self.batch_size!r} must be a positive integer")
        if not (is_count(self.seed) and 0 <= self.seed < SEED_LIMIT):
            raise ValueError(f"seed={self.seed!r} must be an integer in [0, 2**32)")

    def point_memristor(self, kind: str, level: float) -> MemristorConfig:
        """The device of one point: noise ``kind`` at ``level``, the other noise off."""
        if kind not in NOISE_KINDS:
            raise ValueError(f"kind={kind!r} is not one of {NOISE_KINDS}")
        other = "read" if kind == "programming" else "programming"
        return self.memristor.with_noise(**{kind: level, other: 0.0})

    def chip_seeds(self, chip: int) -> tuple[int, int]:
        """``(programming seed, read seed)`` of chip number ``chip``: the same for every method and level."""
        return derive_seed(self.seed, "chip", chip), derive_seed(self.seed, "reads", chip)


@dataclass(frozen=True)
class NoiseSweep:
    """Results of :func:`noise_sweep`; accuracies are fractions, exit steps count from 1 to ``timesteps``.

    Attributes:
        config: the sweep's configuration.
        methods: the names of the swept networks, in the order of the first axis.
        accuracy: accuracy without early stop, ``[methods, kinds, levels, chips]``.
        early_accuracy: accuracy with early stop, ``[methods, kinds, levels, chips, thresholds]``.
        mean_exit: mean exit step with early stop, same shape as ``early_accuracy``.
        logits: every run's time-mean output, ``[methods, kinds, levels, chips, samples, classes]``
            (float32, output units), for margins and flips (:func:`sweep_margins`).
        labels: the true classes, ``[samples]``.
        timesteps: T of the test frames.
        seconds: wall time of the sweep (s).
    """

    config: NoiseSweepConfig
    methods: tuple[str, ...]
    accuracy: np.ndarray
    early_accuracy: np.ndarray
    mean_exit: np.ndarray
    logits: np.ndarray
    labels: np.ndarray
    timesteps: int
    seconds: float

    @property
    def n_samples(self) -> int:
        """Test samples per run."""
        return int(self.labels.shape[0])

    @property
    def levels(self) -> np.ndarray:
        """The noise levels, ``[levels]`` (0.05 = 5 %)."""
        return np.asarray(self.config.levels)

    def _index(self, method: str, kind: str) -> tuple[int, int]:
        if method not in self.methods:
            raise ValueError(f"method={method!r} is not in this sweep; it has {self.methods}")
        if kind not in self.config.kinds:
            raise ValueError(f"kind={kind!r} is not in this sweep; it has {self.config.kinds}")
        return self.methods.index(method), self.config.kinds.index(kind)

    def _threshold_index(self, threshold: float) -> int:
        if threshold not in self.config.thresholds:
            raise ValueError(f"threshold={threshold!r} is not in this sweep; it has {self.config.thresholds}")
        return self.config.thresholds.index(threshold)

    def per_chip(self, method: str, kind: str, threshold: float | None = None, quantity: str = "accuracy") -> np.ndarray:
        """``[levels, chips]`` values of one method and noise kind.

        ``threshold`` None means without early stop; ``quantity`` is ``"accuracy"`` or ``"mean_exit"``
        (the mean exit without early stop is T).
        """
        m, k = self._index(method, kind)
        if quantity not in ("accuracy", "mean_exit"):
            raise ValueError(f"quantity={quantity!r} must be 'accuracy' or 'mean_exit'")
        if threshold is None:
            values = self.accuracy[m, k]
            return values if quantity == "accuracy" else np.full_like(values, float(self.timesteps))
        h = self._threshold_index(threshold)
        return (self.early_accuracy if quantity == "accuracy" else self.mean_exit)[m, k, :, :, h]

    def stats(self, method: str, kind: str, threshold: float | None = None,
              quantity: str = "accuracy") -> tuple[np.ndarray, np.ndarray]:
        """``(mean, spread)`` over chips at every level, ``[levels]`` each; spread is the sample
        standard deviation over chips (zeros for a single chip)."""
        values = self.per_chip(method, kind, threshold, quantity)
        spread = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(values.shape[0])
        return values.mean(axis=1), spread

    def at(self, method: str, kind: str, level: float, threshold: float | None = None) -> tuple[float, float]:
        """``(mean, spread)`` of the accuracy at one level (which must be in the sweep)."""
        if level not in self.config.levels:
            raise ValueError(f"level={level!r} is not in this sweep; it has {self.config.levels}")
        mean, spread = self.stats(method, kind, threshold)
        i = self.config.levels.index(level)
        return float(mean[i]), float(spread[i])

    def drop(self, method: str, kind: str, level: float, threshold: float | None = None) -> float:
        """Mean accuracy at level 0 minus mean accuracy at ``level`` (a fraction: 0.05 = 5 points)."""
        if 0.0 not in self.config.levels:
            raise ValueError(f"the sweep's levels {self.config.levels} lack 0: no noiseless reference")
        return self.at(method, kind, 0.0, threshold)[0] - self.at(method, kind, level, threshold)[0]


def recording_accuracy(recording: Recording) -> float:
    """Accuracy without early stop: the argmax of the time-mean output (as :func:`primekit.experiments.training.evaluate`)."""
    prediction = recording.outputs.mean(dim=0).argmax(dim=1)
    return (prediction == recording.labels).double().mean().item()


@contextmanager
def _one_thread():
    """Run tiny tensor operations on one thread: replaying exits applies softmax to ``[N, classes]``
    tensors thousands of times, and on a busy 2-core machine waking a second thread costs ~100 x the
    operation itself (measured: 16 ms against 0.12 ms for a 400 x 10 softmax)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def sweep_jobs(n_models: int, config: NoiseSweepConfig) -> list[tuple[int, int, int, int]]:
    """``(model, chip, kind, level)`` indices of every distinct run of a sweep: level 0 is the same noiseless
    chip for every kind, so it is run once (under the first kind) and fills them all (:func:`filled_kinds`)."""
    return [(m, chip, k, i) for m in range(n_models) for chip in range(config.chips)
            for k in range(len(config.kinds)) for i, level in enumerate(config.levels) if not (level == 0 and k > 0)]


def filled_kinds(config: NoiseSweepConfig, kind: int, level: int) -> range | tuple[int]:
    """The kind indices a run of ``(kind, level)`` stands for: all at level 0, else its own."""
    return range(len(config.kinds)) if config.levels[level] == 0 else (kind,)


def point_chip(model: nn.Module, config: NoiseSweepConfig, kind: int, level: int, chip: int) -> tuple[nn.Module, int]:
    """``model`` deployed on chip number ``chip`` at one point of the sweep, and that chip's read seed. A model
    with ``pruned_layers()`` (the spiking VAE) puts only those on the chip; the rest stays digital."""
    programming_seed, read_seed = config.chip_seeds(chip)
    pruned = getattr(model, "pruned_layers", None)
    chip_model, _ = deploy(model, config.point_memristor(config.kinds[kind], config.levels[level]), programming_seed,
                           only=None if pruned is None else pruned())
    return chip_model.eval(), read_seed


def noise_sweep(models: Mapping[str, nn.Module], split, config: NoiseSweepConfig = NoiseSweepConfig(), *,
                show_progress: bool = True) -> NoiseSweep:
    """Accuracy (and early-stop exits) of every model on simulated chips at every noise level.

    Args:
        models: trained step modules by name (e.g. ``{"weight-tuning": model, ...}``); each is deployed
            with :func:`primekit.chip.deploy.deploy` (chip weights keep their formed conductances, other
            weights are mapped to pairs; pruned pairs are RESET).
        split: the test split (a :class:`primekit.data.datasets.FrameSplit` or anything with ``time_major``,
            ``labels`` and ``len``).
        config: levels, kinds, chips, thresholds, memristor, seeds.
        show_progress: one progress report over all runs.
    """
    if not isinstance(models, Mapping) or len(models) == 0:
        raise ValueError("models must be a non-empty mapping of name -> model")
    if not isinstance(config, NoiseSweepConfig):
        raise ValueError(f"config must be a NoiseSweepConfig, got {type(config).__name__}")
    methods = tuple(models)
    levels, kinds = config.levels, config.kinds
    shape = (len(methods), len(kinds), len(levels), config.chips)
    accuracy = np.full(shape, np.nan)
    early = np.full(shape + (len(config.thresholds),), np.nan)
    exits = np.full_like(early, np.nan)
    logits = None
    start = time.perf_counter()
    for m, chip, k, i in progress(sweep_jobs(len(methods), config), "noise sweep", unit="runs",
                                       disable=not show_progress):
        chip_model, read_seed = point_chip(models[methods[m]], config, k, i, chip)
        recording = record_outputs(chip_model, split, batch_size=config.batch_size, read_seed=read_seed,
                                   show_progress=False)
        with _one_thread():
            rows = threshold_sweep(recording, config.thresholds) if config.thresholds else []
        mean_output = recording.outputs.mean(dim=0).float().numpy()
        if logits is None:
            logits = np.zeros(shape + mean_output.shape, dtype=np.float32)
        for target in filled_kinds(config, k, i):
            accuracy[m, target, i, chip] = recording_accuracy(recording)
            logits[m, target, i, chip] = mean_output
            for h, row in enumerate(rows):
                early[m, target, i, chip, h] = row.accuracy
                exits[m, target, i, chip, h] = row.mean_exit
    return NoiseSweep(config, methods, accuracy, early, exits, logits, np.asarray(split.labels).astype(np.int64),
                      int(recording.outputs.shape[0]), time.perf_counter() - start)


def method_noise_sweep(profile: profiles.Profile | None = None, splits=None,
                       sweep_config: NoiseSweepConfig = NoiseSweepConfig(), methods: Sequence[str] = TRAINED_METHODS, *,
                       show_progress: bool = True) -> NoiseSweep:
    """:func:`noise_sweep` of the trained ``methods`` (:func:`primekit.experiments.training.train_method`) on the test
    split of ``profile``, cached by the profile, the sweep, the training configs, the data and the code."""
    profile = profile or profiles.get_profile()
    splits = splits or nmnist_frames(profile)
    methods = tuple(methods)
    for method in methods:
        TrainConfig(method)  # raises for an unknown method
    key = {"profile": profile, "sweep": sweep_config, "train": [TrainConfig(m) for m in methods]}

    def compute():
        models = {m: train_method(m, profile, splits).model for m in methods}
        return noise_sweep(models, splits.test, sweep_config, show_progress=show_progress)

    return cache.load_or_run("noise-sweep", key, compute,
                             data_fingerprint=frames_fingerprint(splits.train, splits.test))
