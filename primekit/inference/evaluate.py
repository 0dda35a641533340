"""The one evaluation path: :func:`run_split` runs a model over a split (or some of its samples).

Every caller that runs a network over data goes through :func:`run_split`: the training loop's test
accuracy (:func:`primekit.experiments.training.evaluate`), full-T recordings (:func:`record_outputs`),
streaming early stop (:func:`stream_early_stop`, :func:`primekit.inference.early_stop.run_early_stop`,
:func:`primekit.inference.sweeps.timed_sweep`), the noise sweeps and the energy counters. It runs the
batches through the per-step contract (``init_state`` / ``step``, :mod:`primekit.snn.timeloop`) and, before
each step, tells the model which samples of the split are in the batch and which step it is
(:func:`primekit.snn.draws.keyed`): chip read noise is keyed by (``read_seed``, layer, sample, step), so a
sample's outputs are the same whatever the batch size, its neighbours, or when they leave the batch.

Two ways to get a network's exits on a test split, which therefore give identical answers:

- :func:`record_outputs` runs every sample for all T steps once and keeps the per-step outputs;
  :func:`primekit.inference.sweeps.threshold_sweep` then replays any number of thresholds on them
  (:func:`primekit.inference.early_stop.replay`) without running the network again. Cheap, exact, but it
  saves no time: every step was computed.
- :func:`stream_early_stop` lets each sample leave its batch when the policy says so and measures the
  wall time: the saving made real.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from primekit.checks import check_indices
from primekit.inference.early_stop import Decision, EarlyStopResult, StopPolicy
from primekit.progress import progress
from primekit.snn import draws
from primekit.snn.timeloop import StepModule, check_time_major, module_device, select_samples

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


class Batch(NamedTuple):
    """One batch: frames ``x`` ``[T, B, ...]``, ``labels`` ``[B]`` and ``samples`` ``[B]``, the samples'
    indices in their split (the keys of their random draws)."""

    x: torch.Tensor
    labels: torch.Tensor
    samples: torch.Tensor


class StepInfo(NamedTuple):
    """What an ``after_step`` callback of :func:`run_split` sees after every step of every batch.

    Attributes:
        batch: the batch's number (from 0); step: the time index (0 for the first frame);
        samples: split indices of the samples that ran this step ``[B_t]``; output: their outputs.
    """

    batch: int
    step: int
    samples: torch.Tensor
    output: torch.Tensor


class SplitRun(NamedTuple):
    """What :func:`run_split` returns (samples in the order they ran).

    Attributes:
        outputs: per-step outputs ``[T, N, ...]`` of a full-T run (None with a policy or ``keep_outputs=False``).
        labels: ``[N]`` true classes; samples: ``[N]`` split indices.
        hidden: the input of ``hidden_layer`` per step ``[T, N, features]`` (None if not asked for).
        early: exits, predictions and confidences with a policy (None without).
        seconds: wall time spent in the network, the policy and the hooks (s), frames built beforehand.
    """

    outputs: torch.Tensor | None
    labels: torch.Tensor
    samples: torch.Tensor
    hidden: torch.Tensor | None
    early: EarlyStopResult | None
    seconds: float


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
        if index.shape != (len(split),):
            raise ValueError(f"index is a boolean mask of shape {index.shape}; a mask needs one entry per sample "
                             f"of the split ({len(split)})")
        index = np.flatnonzero(index)
    if index.ndim != 1:
        raise ValueError(f"index must be 1-D sample indices in [0, {len(split)}); got shape {index.shape}")
    return check_indices("index", index, len(split))


def _iter_batches(split, batch_size: int, index) -> Iterator[Batch]:
    labels = torch.as_tensor(np.asarray(split.labels)[index], dtype=torch.long)
    for i in range(0, len(index), batch_size):
        chosen = index[i:i + batch_size]
        yield Batch(split.time_major(chosen), labels[i:i + batch_size], torch.from_numpy(chosen))


def batches_of(split, batch_size: int = BATCH_SIZE, index=None) -> list[Batch]:
    """Every :class:`Batch` of ``split`` (or of the samples at ``index``), in order: built once, so timing
    sees only the network."""
    index = _selection(split, index)
    return list(_iter_batches(split, _check_batch_size(batch_size), index))


def _as_batches(data, batch_size: int, index) -> tuple[Iterator[Batch], int]:
    """``(batches, count)`` from a split (anything with ``time_major``) or a sequence of batches.

    A batch given as a plain ``(x, labels)`` pair gets the samples that follow the previous batch's
    (position in the sequence), as for consecutive batches of one split.
    """
    _check_batch_size(batch_size)
    if hasattr(data, "time_major"):
        index = _selection(data, index)
        return _iter_batches(data, batch_size, index), -(-len(index) // batch_size)
    if index is not None:
        raise ValueError("index selects samples of a split; with prepared batches, choose them in batches_of")
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence) or not len(data):
        raise ValueError(f"data must be a split or a non-empty sequence of batches, got {type(data).__name__}")
    batches, start = [], 0
    for item in data:
        if not isinstance(item, Batch):
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise ValueError("every batch must be a Batch or an (x, labels) pair")
            x, y = item
            item = Batch(x, torch.as_tensor(y), torch.arange(start, start + x.shape[1]))
        batches.append(item)
        start = int(item.samples.max()) + 1 if len(item.samples) else start
    return iter(batches), len(batches)


def _hidden_module(model, hidden_layer):
    modules = dict(model.named_modules())
    if hidden_layer not in modules or hidden_layer == "":
        raise ValueError(f"hidden_layer={hidden_layer!r} is not a submodule of the model; "
                         f"choose one of {[n for n in modules if n]}")
    return modules[hidden_layer]


def _foldable(model: StepModule, x: torch.Tensor) -> bool:
    """True when ``model`` offers a folded path for ``x`` and no module hook expects one call per step (the
    operation counters of :mod:`primekit.energy.counts` are forward hooks)."""
    if not getattr(model, "can_fold", lambda _: False)(x):
        return False
    hooked = any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    return not (hooked or nn.modules.module._global_forward_hooks or nn.modules.module._global_forward_pre_hooks)


def _run_batch(model: StepModule, batch: Batch, number: int, policy: StopPolicy | None, read_seed: int,
               after_step) -> tuple[torch.Tensor | None, EarlyStopResult | None]:
    """One batch through the per-step contract: all T steps (outputs ``[T, B, ...]``), or streaming early
    stop under ``policy`` (finished samples leave with their model and policy state, through the model's
    ``select_state`` when it has one).

    A run of all T steps with no per-step hook on a model that offers a time-folded path (``can_fold(x)``:
    PRIMENet without per-read draws) takes it: each map runs once over the ``T x B`` frames and each LIF
    layer's T steps run in one fused kernel, which ``python -m primekit bench --compare`` measured faster than
    stepping; the outputs equal the stepped ones (float rounding aside: tests/test_fused.py)."""
    x, samples = batch.x, batch.samples
    check_time_major(x, "x")
    x = x.to(module_device(model))  # the model's device; results come back to the CPU
    steps, size = x.shape[0], x.shape[1]
    if samples.shape != (size,):
        raise ValueError(f"the batch has {size} samples but {tuple(samples.shape)} sample indices")
    if policy is None and after_step is None and _foldable(model, x):
        return model.folded_outputs(x).cpu(), None
    state = model.init_state(size)
    if policy is None:
        outputs = []
        for t in range(steps):
            with draws.keyed(samples, t, read_seed):
                out, state = model.step(x[t], state)
            outputs.append(out)
            if after_step is not None:
                after_step(StepInfo(number, t, samples, out))
        return torch.stack(outputs).cpu(), None
    exit_step = torch.zeros(size, dtype=torch.long)
    prediction = None  # shaped by the policy's first decision: a class index per sample, or e.g. an image
    confidence = torch.zeros(size)
    active = torch.arange(size)
    policy_state, steps_run = policy.init_state(size), 0
    for t in range(steps):
        with draws.keyed(samples[active], t, read_seed):
            out, state = model.step(x[t] if len(active) == size else x[t, active], state)
        if after_step is not None:
            after_step(StepInfo(number, t, samples[active], out))
        steps_run += len(active)
        decision: Decision
        decision, policy_state = policy.update(out, policy_state, t + 1)
        stop = (decision.stop if t + 1 < steps else torch.ones_like(decision.stop)).cpu()
        if not stop.any():
            continue  # nobody leaves: no state to copy
        done = active[stop]
        exit_step[done] = t + 1
        if prediction is None:
            prediction = torch.zeros((size, *decision.prediction.shape[1:]), dtype=decision.prediction.dtype)
        prediction[done] = decision.prediction.cpu()[stop]
        confidence[done] = decision.confidence.cpu()[stop].float()
        keep = ~stop
        if not keep.any():
            break
        active = active[keep]
        state = model.select_state(state, keep) if hasattr(model, "select_state") else select_samples(state, keep)
        policy_state = select_samples(policy_state, keep)
    return None, EarlyStopResult(exit_step, prediction, confidence, steps_run)


def run_split(model: StepModule, data, *, batch_size: int = BATCH_SIZE, index=None, read_seed: int = 0,
              policy: StopPolicy | None = None, keep_outputs: bool = True, hidden_layer: str | None = None,
              hooks: Mapping[str, Callable] | None = None, after_step: Callable[[StepInfo], None] | None = None,
              show_progress: bool = False, desc: str = "evaluate") -> SplitRun:
    """Run ``model`` over ``data`` in batches, in eval mode and without gradients.

    Args:
        model: a step module (e.g. :class:`primekit.snn.models.PRIMENet`, possibly deployed on a chip).
        data: a split (anything with ``time_major``, ``labels`` and ``len``, e.g. a
            :class:`primekit.data.datasets.FrameSplit`) or prepared batches (:func:`batches_of`).
        batch_size: samples per batch (for a split); the results do not depend on it.
        index: sample indices (or a bool mask) of a split; None for all.
        read_seed: the seed of every keyed random draw (chip read noise): a sample's draws at step ``t``
            depend only on (``read_seed``, layer, sample index, ``t``).
        policy: None runs all T steps; a :class:`primekit.inference.early_stop.StopPolicy` lets every
            sample leave its batch when the policy says so (streaming early stop).
        keep_outputs: keep every step's output (full-T runs only).
        hidden_layer: name of a submodule whose *input* to record per step (full-T runs only).
        hooks: forward hooks by submodule name, attached for the run (e.g. operation counters).
        after_step: called with a :class:`StepInfo` after every step of every batch.
        show_progress, desc: progress report over the batches and its label.
    """
    if policy is not None and hidden_layer is not None:
        raise ValueError(f"hidden_layer={hidden_layer!r} needs a full-T run: give policy=None")
    if isinstance(read_seed, bool) or not isinstance(read_seed, (int, np.integer)) or read_seed < 0:
        raise ValueError(f"read_seed={read_seed!r} must be an integer >= 0")
    batches, count = _as_batches(data, batch_size, index)
    modules = dict(model.named_modules())
    handles, captured = [], []
    if hidden_layer is not None:
        handles.append(_hidden_module(model, hidden_layer).register_forward_pre_hook(
            lambda _m, args: captured.append(args[0].detach().cpu())))
    for name, hook in (hooks or {}).items():
        if name not in modules:
            raise ValueError(f"hooks name {name!r}, which is not a submodule of the model")
        handles.append(modules[name].register_forward_hook(hook))
    outputs, hidden, labels, samples, results, seconds = [], [], [], [], [], 0.0
    model.eval()
    try:
        with torch.no_grad():
            reports = progress(batches, desc, total=count, unit="batches", disable=not show_progress)
            for number, batch in enumerate(reports):
                start = time.perf_counter()
                out, early = _run_batch(model, batch, number, policy, int(read_seed), after_step)
                seconds += time.perf_counter() - start
                labels.append(batch.labels)
                samples.append(batch.samples)
                if early is not None:
                    results.append(early)
                elif keep_outputs:
                    outputs.append(out)
                if captured:
                    hidden.append(torch.stack(captured))
                    captured.clear()
    finally:
        for handle in handles:
            handle.remove()
    early = None if not results else EarlyStopResult(
        torch.cat([r.exit_step for r in results]), torch.cat([r.prediction for r in results]),
        torch.cat([r.confidence for r in results]), sum(r.steps_run for r in results))
    return SplitRun(torch.cat(outputs, dim=1) if outputs else None, torch.cat(labels), torch.cat(samples),
                    torch.cat(hidden, dim=1) if hidden else None, early, seconds)


def record_outputs(model: StepModule, split, *, batch_size: int = BATCH_SIZE, read_seed: int = 0,
                   index=None, hidden_layer: str | None = None, show_progress: bool = True,
                   desc: str = "record outputs") -> Recording:
    """Run ``model`` for all T steps on ``split`` (or the samples at ``index``) and keep every step's output.

    :func:`run_split` with every step's output kept; ``read_seed`` seeds the keyed chip reads;
    ``hidden_layer`` names a submodule whose input is recorded per step (``"linear"`` records the pooled
    spikes PRIME's readout sees).
    """
    run = run_split(model, split, batch_size=batch_size, index=index, read_seed=read_seed,
                    hidden_layer=hidden_layer, show_progress=show_progress, desc=desc)
    return Recording(run.outputs, run.labels, run.hidden)


def stream_early_stop(model: StepModule, batches: Sequence, policy: StopPolicy, *, read_seed: int = 0,
                      first_batch_number: int = 0) -> tuple[EarlyStopResult, float]:
    """Streaming early stop over prepared ``batches`` (:func:`batches_of`): the joined result and the wall
    time in seconds spent in the network and the policy (frames were built beforehand).

    ``first_batch_number`` is accepted for old callers and ignored: the batches carry their samples'
    split indices, which key the reads.
    """
    run = run_split(model, batches, policy=policy, read_seed=read_seed)
    return run.early, run.seconds


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
