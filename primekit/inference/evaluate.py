"""Inference over a whole split: full-T recordings, timed early-stop runs, threshold sweeps.

Two ways to get a network's exits on a test split, which give identical answers:

- :func:`record_outputs` runs every sample for all T steps once and keeps the per-step outputs;
  :func:`threshold_sweep` then replays any number of thresholds on them
  (:func:`primekit.inference.early_stop.replay`) without running the network again. Cheap, exact, but it saves
  no time: every step was computed.
- :func:`stream_early_stop` runs :func:`primekit.inference.early_stop.run_early_stop` batch by batch, finished
  samples leaving the batch, and measures the wall time: the saving made real.

Chip layers draw fresh read noise at every step. Both paths restart the read-noise sequence at the start
of each batch from ``read_seed`` and the batch number, so step t of batch b sees the same reads in both,
whatever the samples that already left.
"""

from __future__ import annotations

import time
from typing import NamedTuple, Sequence

import numpy as np
import torch

from primekit.chip.deploy import reseed_reads
from primekit.inference.early_stop import (
    EarlyStopResult,
    StopPolicy,
    run_early_stop,
)
from primekit.progress import progress
from primekit.seeding import derive_seed
from primekit.snn.timeloop import StepModule

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
        model: a step module (e.g. :class:`primekit.snn.models.PRIMENet`, possibly deployed on a chip).
        split: a :class:`primekit.data.datasets.FrameSplit` (anything with ``time_major``, ``labels``, ``len``).
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
