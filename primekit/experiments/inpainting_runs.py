"""The inpainting chapter's experiments, cached: consistency thresholds, methods, noisy chips and energy.

Every experiment records each network's full-T reconstructions once through the one evaluation path
(:func:`primekit.inference.evaluate.run_split`) and answers every consistency threshold ``eps`` by replaying
them (:func:`primekit.inference.early_stop.replay` with :class:`~primekit.inference.consistency.ConsistencyStop`),
which gives the exits of a streaming run exactly (every draw is keyed by sample and step). ``eps = None`` is
the run without early stop (the paper's "ES 1.0"). Quality at each point: reconstruction MSE on the whole
image and on the damaged square, the MNIST Inception Score and the digit classifier's accuracy on the
reconstructions (:mod:`primekit.inference.inception`).

- :func:`threshold_study`: quality and mean exit against ``eps`` for several networks (Fig. 4b, 4c, 4e);
- :func:`inpainting_noise_sweep`: the same on chips with programming or read noise, through the classifier's
  sweep plan (:func:`primekit.experiments.noise_sweep.sweep_jobs`, :func:`~primekit.experiments.noise_sweep.point_chip`;
  Fig. 4d, 5e);
- :func:`vae_energy_rows`: energy per image of the hybrid and the digital system against ``eps`` (Fig. 4f).
  In the hybrid system only the pruned layers are crossbars; the trained posterior MLP runs on the digital
  side (writing trained weights into memristors is what PRIME avoids), and the prior is not run at inference.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from primekit import cache
from primekit.energy.count_records import CountTable, OperationCounts
from primekit.energy.counts import CountRecording, record_counts
from primekit.energy.prices import EnergyConfig, energy
from primekit.experiments.cached_runs import model_fingerprint
from primekit.experiments.inpainting_training import digits_fingerprint
from primekit.experiments.noise_sweep import NoiseSweepConfig, filled_kinds, point_chip, sweep_jobs
from primekit.inference.consistency import ConsistencyStop
from primekit.inference.early_stop import replay
from primekit.inference.evaluate import run_split
from primekit.inference.inception import digit_quality
from primekit.inference.inpainting_metrics import mean_losses
from primekit.progress import progress

#: The quantities measured at every point, in the order of the sweep arrays' last axis.
QUANTITIES = ("whole", "damaged", "mnist_is", "accuracy", "mean_exit")


@dataclass(frozen=True)
class Quality:
    """One network at one threshold: MSE on the whole image and on the damaged square, MNIST IS, the digit
    classifier's accuracy on the reconstructions (fraction) and the mean exit step (of T)."""

    eps: float | None
    whole: float
    damaged: float
    mnist_is: float
    accuracy: float
    mean_exit: float


def _check_eps(epsilons) -> tuple[float, ...]:
    values = tuple(epsilons)
    if any(not (isinstance(e, (int, float)) and not isinstance(e, bool) and e > 0) for e in values):
        raise ValueError(f"epsilons={epsilons!r} must be numbers > 0 (None, no early stop, is always measured)")
    return tuple(float(e) for e in values)


def record_reconstructions(model: nn.Module, split, *, index=None, read_seed: int = 0) -> torch.Tensor:
    """Every step's reconstruction ``[T, N, 1, 32, 32]`` of ``split`` (or its samples ``index``), full T."""
    return run_split(model, split, index=index, read_seed=read_seed).outputs


def cached_reconstructions(model: nn.Module, split, *, index=None, read_seed: int = 0) -> torch.Tensor:
    """:func:`record_reconstructions`, cached by the network's content, the samples and the read seed."""
    index = np.arange(len(split)) if index is None else np.asarray(index)
    key = {"model": model_fingerprint(model), "index": index.tolist(), "read_seed": read_seed}
    return cache.load_or_run("inpainting-record", key,
                             lambda: record_reconstructions(model, split, index=index, read_seed=read_seed),
                             data_fingerprint=digits_fingerprint(split))


@dataclass(frozen=True)
class SemanticsRow:
    """One early-stop semantics at one threshold: mean exit, network steps run per digit (the re-run pays
    ``1 + 2 + ... + t`` to stop at t), MSEs and the wall time of the run (s)."""

    semantics: str
    eps: float
    mean_exit: float
    steps_per_digit: float
    whole: float
    damaged: float
    seconds: float


def compare_semantics(model: nn.Module, split, epsilons: Sequence[float], *, index=None,
                      read_seed: int = 0) -> tuple[list[SemanticsRow], str, str]:
    """Streaming early stop against the authors' re-run (:class:`~primekit.inference.consistency.RerunVAE`) at
    every threshold, through the evaluation path; measured once per network, data and code, then loaded from the
    cache with the date (UTC) and the machine it was measured on: ``(rows, measured_at, machine)``."""
    from primekit.experiments.early_stop_timing import machine_description
    from primekit.inference.consistency import RerunVAE

    epsilons = _check_eps(epsilons)
    index = np.arange(len(split)) if index is None else np.asarray(index)
    key = {"model": model_fingerprint(model), "epsilons": epsilons, "index": index.tolist(), "read_seed": read_seed}

    def compute():
        rows = []
        semantics = {"streaming": model, "re-run (authors)": RerunVAE(model, split.timesteps)}
        for eps in epsilons:
            for name, net in semantics.items():
                run = run_split(net, split, index=index, policy=ConsistencyStop(eps), read_seed=read_seed)
                exits = run.early.exit_step
                steps = exits.sum() if name == "streaming" else (exits * (exits + 1) // 2).sum()
                loss = mean_losses(run.early.prediction, split.targets(index))
                rows.append(SemanticsRow(name, eps, exits.float().mean().item(), int(steps) / len(index),
                                         loss["whole"], loss["damaged"], run.seconds))
        measured = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
        return rows, measured, machine_description()

    return cache.load_or_run("inpainting-semantics", key, compute, data_fingerprint=digits_fingerprint(split))


def quality_at(outputs: torch.Tensor, clean: torch.Tensor, labels, classifier: nn.Module, eps: float | None) -> Quality:
    """The quality of recorded reconstructions ``outputs`` stopped by ``ConsistencyStop(eps)`` (None: at T)."""
    if eps is None:
        images, mean_exit = outputs[-1], float(outputs.shape[0])
    else:
        result = replay(outputs, ConsistencyStop(eps))
        images, mean_exit = result.prediction, result.exit_step.float().mean().item()
    losses, quality = mean_losses(images, clean), digit_quality(classifier, images, labels)
    return Quality(eps, losses["whole"], losses["damaged"], quality["mnist_is"], quality["accuracy"], mean_exit)


def _subset(split, index):
    index = np.arange(len(split)) if index is None else np.asarray(index)
    return index, split.targets(index), np.asarray(split.labels)[index]


@dataclass(frozen=True)
class ThresholdStudy:
    """:func:`threshold_study`'s result: ``rows[name]`` one :class:`Quality` per ``eps`` (None last), and the
    reconstructions of the first ``examples[name][eps]`` test digits at each threshold ``[n, 1, 32, 32]``."""

    epsilons: tuple[float, ...]
    rows: dict
    examples: dict
    index: np.ndarray


def threshold_study(models: Mapping[str, nn.Module], split, classifier: nn.Module, epsilons: Sequence[float], *,
                    index=None, read_seed: int = 0, n_examples: int = 8) -> ThresholdStudy:
    """Quality and exits of every network against the consistency threshold, cached by the networks' content."""
    epsilons = _check_eps(epsilons)
    index, clean, labels = _subset(split, index)
    key = {"models": {n: model_fingerprint(m) for n, m in models.items()}, "classifier": model_fingerprint(classifier),
           "epsilons": epsilons, "index": index.tolist(), "read_seed": read_seed, "n_examples": n_examples}

    def compute():
        rows, examples = {}, {}
        for name, model in models.items():
            outputs = record_reconstructions(model, split, index=index, read_seed=read_seed)
            rows[name] = [quality_at(outputs, clean, labels, classifier, e) for e in epsilons + (None,)]
            examples[name] = {  # clones: a view would store the whole recording with it
                e: (outputs[-1] if e is None else replay(outputs, ConsistencyStop(e)).prediction)[:n_examples].clone()
                for e in epsilons + (None,)}
        return ThresholdStudy(epsilons, rows, examples, index)

    return cache.load_or_run("inpainting-thresholds", key, compute, data_fingerprint=digits_fingerprint(split))


@dataclass(frozen=True)
class InpaintingNoiseSweep:
    """:func:`inpainting_noise_sweep`'s result: ``values[method, kind, level, chip, eps, quantity]`` with the
    thresholds ``epsilons + (None,)`` and :data:`QUANTITIES`; ``seconds``: wall time."""

    config: NoiseSweepConfig
    methods: tuple[str, ...]
    epsilons: tuple[float, ...]
    values: np.ndarray
    n_samples: int
    seconds: float

    def stats(self, method: str, kind: str, quantity: str, eps: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, sample std over chips)`` at every level, ``[levels]`` each."""
        if method not in self.methods or kind not in self.config.kinds or quantity not in QUANTITIES:
            raise ValueError(f"method={method!r}, kind={kind!r}, quantity={quantity!r}: this sweep has methods "
                             f"{self.methods}, kinds {self.config.kinds}, quantities {QUANTITIES}")
        if eps is not None and eps not in self.epsilons:
            raise ValueError(f"eps={eps!r} is not in this sweep; it has {self.epsilons} (and None)")
        e = len(self.epsilons) if eps is None else self.epsilons.index(eps)
        per_chip = self.values[self.methods.index(method), self.config.kinds.index(kind), :, :, e,
                               QUANTITIES.index(quantity)]
        spread = per_chip.std(axis=1, ddof=1) if per_chip.shape[1] > 1 else np.zeros(per_chip.shape[0])
        return per_chip.mean(axis=1), spread


def inpainting_noise_sweep(models: Mapping[str, nn.Module], split, classifier: nn.Module, config: NoiseSweepConfig,
                           epsilons: Sequence[float], *, index=None, show_progress: bool = True) -> InpaintingNoiseSweep:
    """Quality of every trained VAE on ``config.chips`` chips at every noise level and threshold, cached.

    The plan is the classifier's (:func:`primekit.experiments.noise_sweep.sweep_jobs`): the same chip seeds for
    every method and level, level 0 run once; each VAE's pruned layers go on the chip, the rest stays digital.
    """
    epsilons = _check_eps(epsilons)
    index, clean, labels = _subset(split, index)
    methods = tuple(models)
    key = {"models": {n: model_fingerprint(m) for n, m in models.items()}, "classifier": model_fingerprint(classifier),
           "sweep": config, "epsilons": epsilons, "index": index.tolist()}

    def compute():
        values = np.full((len(methods), len(config.kinds), len(config.levels), config.chips, len(epsilons) + 1,
                          len(QUANTITIES)), np.nan)
        start = time.perf_counter()
        for m, chip, k, i in progress(sweep_jobs(len(methods), config), "inpainting noise sweep", unit="runs",
                                       disable=not show_progress):
            chip_model, read_seed = point_chip(models[methods[m]], config, k, i, chip)
            outputs = record_reconstructions(chip_model, split, index=index, read_seed=read_seed)
            for e, eps in enumerate(epsilons + (None,)):
                q = quality_at(outputs, clean, labels, classifier, eps)
                for target in filled_kinds(config, k, i):
                    values[m, target, i, chip, e] = [getattr(q, name) for name in QUANTITIES]
        return InpaintingNoiseSweep(config, methods, epsilons, values, len(index), time.perf_counter() - start)

    return cache.load_or_run("inpainting-noise-sweep", key, compute, data_fingerprint=digits_fingerprint(split))


def record_vae_counts(model: nn.Module, split, *, index=None, read_seed: int = 0) -> CountRecording:
    """Reconstructions and operation counts of a full-T run (:func:`primekit.energy.counts.record_counts`), cached."""
    index = np.arange(len(split)) if index is None else np.asarray(index)
    key = {"model": model_fingerprint(model), "index": index.tolist(), "read_seed": read_seed}

    def compute():
        run = record_counts(model, split, index=index, read_seed=read_seed, show_progress=False)
        return {"outputs": run.outputs, "labels": run.labels, "counts": run.counts.counts, "layers": run.counts.layers}

    stored = cache.load_or_run("inpainting-counts", key, compute, data_fingerprint=digits_fingerprint(split))
    return CountRecording(stored["outputs"], stored["labels"], OperationCounts(stored["counts"], tuple(stored["layers"])))


def layer_rows(table: CountTable, layers: Sequence[str]) -> CountTable:
    """The rows of ``table`` that belong to ``layers`` (module names), in the table's order."""
    chosen = [i for i, name in enumerate(table.layers) if name in set(layers)]
    return CountTable(table.values[chosen], tuple(table.layers[i] for i in chosen), table.kinds)


@dataclass(frozen=True)
class VAEEnergyRow:
    """One threshold: mean exit step, and energy per image (pJ) of the digital and the hybrid system."""

    eps: float | None
    mean_exit: float
    digital_pj: float
    hybrid_pj: float

    @property
    def ratio(self) -> float:
        """Digital over hybrid energy."""
        return self.digital_pj / self.hybrid_pj


def vae_energy_rows(recording: CountRecording, analogue_layers: Sequence[str], epsilons: Sequence[float],
                    config: EnergyConfig = EnergyConfig()) -> list[VAEEnergyRow]:
    """Energy per image at each threshold (None last: no early stop). The hybrid system runs
    ``analogue_layers`` (the pruned layers, module names) on crossbars and every other layer digitally."""
    missing = set(analogue_layers) - set(recording.counts.layers)
    if missing:
        raise ValueError(f"analogue_layers {sorted(missing)} are not counted layers {recording.counts.layers}")
    digital_layers = [n for n in recording.counts.layers if n not in set(analogue_layers)]
    rows = []
    for eps in _check_eps(epsilons) + (None,):
        exits = None if eps is None else replay(recording.outputs, ConsistencyStop(eps)).exit_step
        table = recording.counts.per_image(exits)
        hybrid = energy(layer_rows(table, analogue_layers), config, "hybrid").total_pj
        if digital_layers:
            hybrid += energy(layer_rows(table, digital_layers), config, "digital").total_pj
        mean_exit = float(recording.outputs.shape[0]) if exits is None else exits.float().mean().item()
        rows.append(VAEEnergyRow(eps, mean_exit, energy(table, config, "digital").total_pj, hybrid))
    return rows
