"""Inference over a whole split: full-T recordings, timed early-stop runs, threshold sweeps.

Two ways to get a network's exits on a test split, which give identical answers:

- :func:`record_outputs` runs every sample for all T steps once and keeps the per-step outputs;
  :func:`threshold_sweep` then replays any number of thresholds on them
  (:func:`primekit.early_stop.replay`) without running the network again. Cheap, exact, but it saves
  no time: every step was computed.
- :func:`stream_early_stop` runs :func:`primekit.early_stop.run_early_stop` batch by batch, finished
  samples leaving the batch, and measures the wall time: the saving made real.

Chip layers draw fresh read noise at every step. Both paths restart the read-noise sequence at the start
of each batch from ``read_seed`` and the batch number, so step t of batch b sees the same reads in both,
whatever the samples that already left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch

from .early_stop import EarlyStopResult, SoftmaxConfidence, StopPolicy, load_saved, replay, run_early_stop
from .progress import progress
from .seeding import derive_seed
from .timeloop import StepModule
from .weights import reseed_reads

#: Default batch size of inference: large enough that a shrinking batch stays efficient.
BATCH_SIZE = 250


class Recording(NamedTuple):
    """A full-T run over a split.

    Attributes:
        outputs: the model's per-step outputs ``[T, N, classes]`` (output membranes).
        labels: ``[N]`` true classes.
        hidden: the input of ``hidden_layer`` per step ``[T, N, features]`` (None if not asked for).
    """

    outputs: torch.Tensor
    labels: torch.Tensor
    hidden: torch.Tensor | None = None


def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
    return batch_size


def _selection(split, index) -> np.ndarray:
    """Sample indices of ``split`` (all of them when ``index`` is None)."""
    if index is None:
        return np.arange(len(split))
    index = np.asarray(index)
    if index.dtype == bool:
        index = np.flatnonzero(index)
    if index.ndim != 1 or (len(index) and (index.min() < 0 or index.max() >= len(split))):
        raise ValueError(f"index must be 1-D sample indices in [0, {len(split)}); got shape {index.shape}")
    return index.astype(np.int64)


def batches_of(split, batch_size: int = BATCH_SIZE, index=None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(frames [T, B, ...], labels [B])`` per batch, in order: built once, so timing sees only the network."""
    index = _selection(split, index)
    _check_batch_size(batch_size)
    labels = torch.as_tensor(np.asarray(split.labels)[index], dtype=torch.long)
    return [(split.time_major(index[i:i + batch_size]), labels[i:i + batch_size])
            for i in range(0, len(index), batch_size)]


def reseed_batch(model: StepModule, read_seed: int, batch_number: int) -> None:
    """Restart the chip read noise of ``model`` for batch ``batch_number`` (no-op without chip layers).

    Every inference path calls this at the start of each batch, so batch b sees the same reads whichever
    path runs it (recorded, streamed, counted)."""
    reseed_reads(model, derive_seed(read_seed, "batch", batch_number))


def record_outputs(model: StepModule, split, *, batch_size: int = BATCH_SIZE, read_seed: int = 0,
                   index=None, hidden_layer: str | None = None, show_progress: bool = True,
                   desc: str = "record outputs") -> Recording:
    """Run ``model`` for all T steps on ``split`` (or the samples at ``index``) and keep every step's output.

    Args:
        model: a step module (e.g. :class:`primekit.models.PRIMENet`, possibly deployed on a chip).
        split: a :class:`primekit.datasets.FrameSplit` (anything with ``time_major``, ``labels``, ``len``).
        batch_size: samples per batch.
        read_seed: restarts chip read noise per batch (ignored by models without chip layers).
        index: sample indices (or a bool mask) of ``split``; None for all.
        hidden_layer: name of a submodule whose *input* to record per step (``"linear"`` records the
            pooled spikes PRIME's readout sees); None records nothing more.
        show_progress, desc: progress report over the batches and its label.
    """
    if hidden_layer is not None:
        modules = dict(model.named_modules())
        if hidden_layer not in modules or hidden_layer == "":
            raise ValueError(f"hidden_layer={hidden_layer!r} is not a submodule of the model; "
                             f"choose one of {[n for n in modules if n]}")
    outputs, hidden, labels = [], [], []
    captured: list[torch.Tensor] = []
    handle = None
    if hidden_layer is not None:
        handle = modules[hidden_layer].register_forward_pre_hook(lambda _m, args: captured.append(args[0].detach()))
    model.eval()
    try:
        with torch.no_grad():
            for number, (x, y) in enumerate(progress(batches_of(split, batch_size, index), desc,
                                                     disable=not show_progress)):
                reseed_batch(model, read_seed, number)
                state = model.init_state(x.shape[1])
                steps = []
                for t in range(x.shape[0]):
                    out, state = model.step(x[t], state)
                    steps.append(out)
                outputs.append(torch.stack(steps))
                labels.append(y)
                if handle is not None:
                    hidden.append(torch.stack(captured))
                    captured.clear()
    finally:
        if handle is not None:
            handle.remove()
    return Recording(torch.cat(outputs, dim=1), torch.cat(labels),
                     torch.cat(hidden, dim=1) if hidden else None)


def stream_early_stop(model: StepModule, batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
                      policy: StopPolicy, *, read_seed: int = 0,
                      first_batch_number: int = 0) -> tuple[EarlyStopResult, float]:
    """Streaming early stop over prepared ``batches`` (see :func:`batches_of`); returns the joined result
    and the wall time in seconds spent in the network and the policy (frames were built beforehand).

    ``first_batch_number``: the number of ``batches[0]`` in the whole split (it selects the batch's reads).
    """
    results, seconds = [], 0.0
    model.eval()
    for number, (x, _) in enumerate(batches, start=first_batch_number):
        reseed_batch(model, read_seed, number)
        start = time.perf_counter()
        results.append(run_early_stop(model, x, policy))
        seconds += time.perf_counter() - start
    joined = EarlyStopResult(torch.cat([r.exit_step for r in results]), torch.cat([r.prediction for r in results]),
                             torch.cat([r.confidence for r in results]), sum(r.steps_run for r in results))
    return joined, seconds


@dataclass(frozen=True)
class SweepRow:
    """One threshold of a sweep: accuracy (fraction), mean exit step (1..T) and load saved (fraction)."""

    threshold: float
    accuracy: float
    mean_exit: float
    load_saved: float


def default_policy(threshold: float) -> StopPolicy:
    """PRIME's policy at ``threshold`` (softmax confidence, temperature 2)."""
    return SoftmaxConfidence(threshold)


def threshold_sweep(recording: Recording, thresholds: Sequence[float],
                    policy: Callable[[float], StopPolicy] = default_policy) -> list[SweepRow]:
    """Accuracy, mean exit and load saved at each threshold, replayed on a full-T ``recording``."""
    if len(thresholds) == 0:
        raise ValueError("thresholds is empty; give at least one value in (0, 1]")
    steps = recording.outputs.shape[0]
    rows = []
    for threshold in thresholds:
        result = replay(recording.outputs, policy(threshold))
        accuracy = (result.prediction == recording.labels).float().mean().item()
        rows.append(SweepRow(float(threshold), accuracy, result.exit_step.float().mean().item(),
                             load_saved(result.exit_step, steps)))
    return rows


@dataclass(frozen=True)
class TimedRow:
    """Measured wall time of one threshold against the full-T run (seconds; savings as fractions)."""

    threshold: float
    seconds: float
    full_seconds: float
    load_saved: float
    full_spread: float = 0.0  # (slowest - fastest) / fastest of the repeated full-T runs: the timing noise

    @property
    def time_saved(self) -> float:
        """Wall time saved against the full-T run: ``1 - seconds / full_seconds``."""
        return 1.0 - self.seconds / self.full_seconds

    @property
    def realised(self) -> float:
        """Time saved divided by steps saved (1: every skipped step saved its share of time)."""
        return self.time_saved / self.load_saved if self.load_saved > 0 else float("nan")


def timed_sweep(model: StepModule, batches, thresholds: Sequence[float], *, repeats: int = 3,
                read_seed: int = 0, policy: Callable[[float], StopPolicy] = default_policy,
                show_progress: bool = True) -> list[TimedRow]:
    """Wall time of streaming early stop at each threshold and of the full-T run (threshold 1).

    Each batch runs every configuration ``repeats`` times, interleaved; the fastest run of each batch
    counts (the least disturbed by other work on the machine; the first run also warms up the kernels
    for the batch's shrinking shapes), and a configuration's time is the sum over batches. The full-T
    run goes through the same code with a policy that never stops early, so the comparison measures only
    the skipped steps.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats={repeats!r} must be a positive integer")
    steps = batches[0][0].shape[0]
    configs = [1.0] + [float(t) for t in thresholds]
    total = {c: 0.0 for c in configs}
    full_runs = [0.0] * repeats  # each repeat's full-T time over all batches, for the spread
    exits: dict[float, list[torch.Tensor]] = {c: [] for c in configs}
    for number, batch in enumerate(progress(batches, "timed early stop", disable=not show_progress)):
        best, batch_exits = {c: float("inf") for c in configs}, {}
        for repeat in range(repeats):
            for threshold in configs:
                result, seconds = stream_early_stop(model, [batch], policy(threshold), read_seed=read_seed,
                                                    first_batch_number=number)
                best[threshold] = min(best[threshold], seconds)
                batch_exits[threshold] = result.exit_step  # the same in every repeat (the same reads)
                if threshold == 1.0:
                    full_runs[repeat] += seconds
        for threshold in configs:
            total[threshold] += best[threshold]
            exits[threshold].append(batch_exits[threshold])
    spread = max(full_runs) / min(full_runs) - 1.0
    return [TimedRow(t, total[t], total[1.0], load_saved(torch.cat(exits[t]), steps), spread) for t in configs[1:]]


def realised_fraction(rows: Sequence[TimedRow]) -> float:
    """Wall time saved per timestep saved over several thresholds: the least-squares slope through the
    origin of time saved against steps saved (1: every skipped step saved its share of time).

    One number for a whole timed sweep; thresholds that save many steps weigh most, which is right because
    a small saving is mostly timing noise.
    """
    steps = np.array([r.load_saved for r in rows])
    times = np.array([r.time_saved for r in rows])
    if not len(rows) or not (steps > 0).any():
        raise ValueError("rows must include a threshold that saved steps (load_saved > 0)")
    return float((steps * times).sum() / (steps ** 2).sum())


def mean_until_exit(per_step: torch.Tensor, exit_step: torch.Tensor) -> torch.Tensor:
    """Each sample's mean over steps 1..exit of ``per_step`` ``[T, N, ...]`` -> ``[N, ...]``.

    The features a sample had accumulated when it stopped (for ``exit_step`` = T: the full-run mean).
    """
    steps = per_step.shape[0]
    if exit_step.shape != per_step.shape[1:2] or exit_step.min() < 1 or exit_step.max() > steps:
        raise ValueError(f"exit_step must be [N] = [{per_step.shape[1]}] values in [1, {steps}]")
    cumulative = per_step.cumsum(dim=0)
    picked = cumulative[exit_step - 1, torch.arange(per_step.shape[1])]
    return picked / exit_step.view(-1, *([1] * (per_step.dim() - 2))).to(per_step.dtype)
