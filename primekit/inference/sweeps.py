"""Threshold sweeps of early stop: replayed accuracy and exits, and measured wall time.

- :func:`threshold_sweep` replays any number of thresholds on one full-T recording
  (:func:`primekit.inference.evaluate.record_outputs`): accuracy, mean exit step and the fraction of
  timesteps saved per threshold (:class:`SweepRow`), without running the network again; :func:`exits_rise`
  and :func:`sweep_columns` read a sweep.
- :func:`timed_sweep` runs streaming early stop (finished samples leave the batch) at each threshold and
  the full-T run through the same code, interleaved and repeated, and reports the wall time saved against
  the timesteps saved (:class:`TimedRow`); :func:`realised_fraction` summarises it in one slope.

Both go through the one evaluation path, :func:`primekit.inference.evaluate.run_split`, whose chip reads are
keyed by (``read_seed``, layer, sample, step): replayed and streamed exits are identical.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from primekit.inference.early_stop import (
    SoftmaxConfidence,
    StopPolicy,
    replay,
    steps_saved,
)
from primekit.inference.evaluate import Recording, run_split
from primekit.progress import progress
from primekit.snn.timeloop import StepModule


@dataclass(frozen=True)
class SweepRow:
    """One threshold of a sweep: accuracy (fraction), mean exit step (1..T) and load saved (fraction)."""

    threshold: float
    accuracy: float
    mean_exit: float
    steps_saved: float


def default_policy(threshold: float) -> StopPolicy:
    """PRIME's policy at ``threshold`` (softmax confidence, temperature 2)."""
    return SoftmaxConfidence(threshold)


def threshold_sweep(recording: Recording, thresholds: Sequence[float],
                    policy: Callable[[float], StopPolicy] = default_policy) -> list[SweepRow]:
    """Accuracy, mean exit and load saved at each threshold, replayed on a full-T ``recording``."""
    if not isinstance(getattr(recording, "outputs", None), torch.Tensor):
        raise ValueError(f"recording must be a full-T Recording (record_outputs), got {type(recording).__name__}")
    if len(thresholds) == 0:
        raise ValueError("thresholds is empty; give at least one value in (0, 1]")
    steps = recording.outputs.shape[0]
    rows = []
    for threshold in thresholds:
        result = replay(recording.outputs, policy(threshold))
        accuracy = (result.prediction == recording.labels).float().mean().item()
        rows.append(SweepRow(float(threshold), accuracy, result.exit_step.float().mean().item(),
                             steps_saved(result.exit_step, steps)))
    return rows


def exits_rise(rows: Sequence[SweepRow]) -> bool:
    """Whether the mean exit step rises with the threshold: it never falls from one threshold to the next higher
    one and ends above where it starts (a network sure at the first step, or never sure, does not rise)."""
    if len(rows) < 2:
        raise ValueError(f"rows has {len(rows)} thresholds; whether exits rise needs at least 2")
    exits = [r.mean_exit for r in sorted(rows, key=lambda r: r.threshold)]
    return all(a <= b for a, b in itertools.pairwise(exits)) and exits[-1] > exits[0]


def sweep_columns(rows: Sequence[SweepRow]) -> dict[str, list[float]]:
    """A sweep as columns (lists in the rows' order): ``threshold``, ``accuracy`` and ``steps_saved``
    (fractions), ``mean_exit`` (timesteps); e.g. the data behind a figure for the ledger."""
    return {"threshold": [r.threshold for r in rows], "accuracy": [r.accuracy for r in rows],
            "mean_exit": [r.mean_exit for r in rows], "steps_saved": [r.steps_saved for r in rows]}


@dataclass(frozen=True)
class TimedRow:
    """Measured wall time of one threshold against the full-T run (seconds; savings as fractions)."""

    threshold: float
    seconds: float
    full_seconds: float
    steps_saved: float
    full_spread: float = 0.0  # (slowest - fastest) / fastest of the repeated full-T runs: the timing noise

    @property
    def time_saved(self) -> float:
        """Wall time saved against the full-T run: ``1 - seconds / full_seconds``."""
        return 1.0 - self.seconds / self.full_seconds

    @property
    def realised(self) -> float:
        """Time saved divided by steps saved (1: every skipped step saved its share of time)."""
        return self.time_saved / self.steps_saved if self.steps_saved > 0 else float("nan")


def timed_sweep(model: StepModule, batches, thresholds: Sequence[float], *, repeats: int = 3,
                read_seed: int = 0, policy: Callable[[float], StopPolicy] = default_policy,
                show_progress: bool = True) -> list[TimedRow]:
    """Wall time of streaming early stop at each threshold and of the full-T run (threshold 1).

    Each batch runs every configuration ``repeats`` times, interleaved; the fastest run of each batch
    counts (the least disturbed by other work on the machine; the first run also warms up the kernels
    for the batch's shrinking shapes), and a configuration's time is the sum over batches. The full-T
    run goes through the same code with a policy that never stops early, so the comparison measures only
    the skipped steps. ``batches`` come from :func:`primekit.inference.evaluate.batches_of`.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats={repeats!r} must be a positive integer")
    batches = list(batches)
    if not batches:
        raise ValueError("batches is empty: give at least one batch (primekit.inference.evaluate.batches_of)")
    steps = batches[0][0].shape[0]
    configs = [1.0] + [float(t) for t in thresholds]
    total = {c: 0.0 for c in configs}
    full_runs = [0.0] * repeats  # each repeat's full-T time over all batches, for the spread
    exits: dict[float, list[torch.Tensor]] = {c: [] for c in configs}
    for batch in progress(batches, "timed early stop", unit="batches", disable=not show_progress):
        best, batch_exits = {c: float("inf") for c in configs}, {}
        for repeat in range(repeats):
            for threshold in configs:
                run = run_split(model, [batch], policy=policy(threshold), read_seed=read_seed)
                result, seconds = run.early, run.seconds
                best[threshold] = min(best[threshold], seconds)
                batch_exits[threshold] = result.exit_step  # the same in every repeat (the same reads)
                if threshold == 1.0:
                    full_runs[repeat] += seconds
        for threshold in configs:
            total[threshold] += best[threshold]
            exits[threshold].append(batch_exits[threshold])
    spread = max(full_runs) / min(full_runs) - 1.0
    return [TimedRow(t, total[t], total[1.0], steps_saved(torch.cat(exits[t]), steps), spread) for t in configs[1:]]


def realised_fraction(rows: Sequence[TimedRow]) -> float:
    """Wall time saved per timestep saved over several thresholds: the least-squares slope through the
    origin of time saved against steps saved (1: every skipped step saved its share of time).

    One number for a whole timed sweep; thresholds that save many steps weigh most, which is right because
    a small saving is mostly timing noise.
    """
    steps = np.array([r.steps_saved for r in rows])
    times = np.array([r.time_saved for r in rows])
    if not len(rows) or not (steps > 0).any():
        raise ValueError("rows must include a threshold that saved steps (steps_saved > 0)")
    return float((steps * times).sum() / (steps ** 2).sum())
