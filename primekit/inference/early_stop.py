"""Input-aware early stop: end each sample's time loop once the network is confident.

A *policy* watches a model's output one timestep at a time and says, per sample, whether to stop. Its
state is batch-first like the model's, so finished samples leave the batch together with their model
state, and the work skipped is really skipped (:func:`run_early_stop`). Exit steps count from 1: a
sample that stops after the first frame has exit step 1; one that never stops has exit step T.

- :class:`SoftmaxConfidence` (PRIME's classifier): the running mean of the output membranes
  ``ybar_t``, ``p_t = softmax(ybar_t / temperature)`` (temperature 2), stop at the first ``t`` with
  ``max p_t > threshold`` (the authors use 0.8); the prediction is ``argmax ybar_t``.
- :class:`MarginConfidence`: the same running mean, but stop when the top-1 minus top-2 probability
  exceeds the threshold.

A policy for another task (the inpainting chapter's consistency score reads successive
reconstructions) implements the same two methods, ``init_state`` and ``update``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from primekit.snn.timeloop import StepModule, check_time_major


class Decision(NamedTuple):
    """A policy's verdict at one step, one entry per sample still running.

    Attributes:
        stop: bool, the sample may stop now.
        confidence: the score compared with the threshold.
        prediction: the sample's current answer (class index for classification).
    """

    stop: torch.Tensor
    confidence: torch.Tensor
    prediction: torch.Tensor


class StopPolicy:
    """Base class of early-stop policies."""

    def init_state(self, batch_size: int) -> Any:
        """A fresh policy state (batch-first tensors, or None)."""
        raise NotImplementedError

    def update(self, output: torch.Tensor, state: Any, step: int) -> tuple[Decision, Any]:
        """Read the model's output at ``step`` (counted from 1); return the decision and the new state."""
        raise NotImplementedError


def _check_threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"threshold={threshold!r} must be in (0, 1] (1 never stops early)")
    return float(threshold)


class _RunningMeanState(NamedTuple):
    total: torch.Tensor  # sum of the outputs so far, [B, classes]


@dataclass(frozen=True)
class SoftmaxConfidence(StopPolicy):
    """PRIME's policy: stop when ``max softmax(ybar_t / temperature) > threshold``.

    Attributes:
        threshold: in (0, 1]; 1 never stops early (a probability cannot exceed 1).
        temperature: > 0; divides the running-mean logits (the authors use 2).
    """

    threshold: float = 0.8
    temperature: float = 2.0

    def __post_init__(self) -> None:
        _check_threshold(self.threshold)
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float)) or not self.temperature > 0:
            raise ValueError(f"temperature={self.temperature!r} must be > 0")

    def init_state(self, batch_size: int) -> None:
        return None

    def probabilities(self, total: torch.Tensor, step: int) -> torch.Tensor:
        return torch.softmax(total / step / self.temperature, dim=-1)

    def update(self, output, state, step):
        total = output if state is None else state.total + output
        p = self.probabilities(total, step)
        confidence = self._score(p)
        return Decision(confidence > self.threshold, confidence, total.argmax(dim=-1)), _RunningMeanState(total)

    def _score(self, p: torch.Tensor) -> torch.Tensor:
        return p.max(dim=-1).values


@dataclass(frozen=True)
class MarginConfidence(SoftmaxConfidence):
    """Stop when the top-1 minus top-2 probability of ``softmax(ybar_t / temperature)`` exceeds ``threshold``."""

    threshold: float = 0.6

    def _score(self, p: torch.Tensor) -> torch.Tensor:
        top2 = p.topk(2, dim=-1).values
        return top2[..., 0] - top2[..., 1]


class EarlyStopResult(NamedTuple):
    """Per sample: ``exit_step`` (1..T), ``prediction`` (a class index, or the policy's answer of another shape,
    e.g. the inpainted image), ``confidence`` at exit; and ``steps_run``, the number of (sample, step) pairs
    actually computed (the work done)."""

    exit_step: torch.Tensor
    prediction: torch.Tensor
    confidence: torch.Tensor
    steps_run: int


def run_early_stop(model: StepModule, x: torch.Tensor, policy: StopPolicy, *, read_seed: int = 0,
                   samples: torch.Tensor | None = None) -> EarlyStopResult:
    """Run ``model`` over time-major ``x`` (``[T, B, ...]``); each sample leaves the batch when ``policy`` says so.

    A sample still running at step T stops there. Finished samples are removed from the batch (with their
    model and policy state), so later steps compute only the samples still running. This is one batch of
    the one evaluation path (:func:`primekit.inference.evaluate.run_split`); ``samples`` are the samples'
    split indices (default ``0..B-1``) and ``read_seed`` the seed of their keyed random draws.
    """
    from primekit.inference.evaluate import Batch, run_split  # the evaluation path imports this module

    check_time_major(x)
    samples = torch.arange(x.shape[1]) if samples is None else torch.as_tensor(samples, dtype=torch.long)
    batch = Batch(x, torch.zeros(x.shape[1], dtype=torch.long), samples)
    return run_split(model, [batch], policy=policy, read_seed=read_seed).early


def run_early_stop_one_by_one(model: StepModule, x: torch.Tensor, policy: StopPolicy, *,
                              read_seed: int = 0) -> EarlyStopResult:
    """The batch-1 reference: every sample alone, keyed as sample ``b`` (slow, for checking :func:`run_early_stop`)."""
    check_time_major(x)
    results = [run_early_stop(model, x[:, b:b + 1], policy, read_seed=read_seed, samples=torch.tensor([b]))
               for b in range(x.shape[1])]
    return EarlyStopResult(
        torch.cat([r.exit_step for r in results]),
        torch.cat([r.prediction for r in results]),
        torch.cat([r.confidence for r in results]),
        sum(r.steps_run for r in results),
    )


def steps_saved(exit_step: torch.Tensor, timesteps: int) -> float:
    """The fraction of timesteps saved (the computational load saved): ``1 - mean(exit_step) / T``."""
    if timesteps < 1:
        raise ValueError(f"timesteps={timesteps!r} must be >= 1")
    if not isinstance(exit_step, torch.Tensor):
        raise ValueError(f"exit_step must be a torch.Tensor of exit steps, got {type(exit_step).__name__}")
    if exit_step.numel() and (exit_step.min() < 1 or exit_step.max() > timesteps):
        raise ValueError(f"exit steps must lie in [1, {timesteps}], got [{int(exit_step.min())}, {int(exit_step.max())}]")
    return 1.0 - exit_step.float().mean().item() / timesteps


def replay(outputs: torch.Tensor, policy: StopPolicy) -> EarlyStopResult:
    """The exits ``policy`` would take, computed from recorded per-step outputs ``[T, B, ...]``.

    A full-T run recorded once (see :func:`primekit.inference.evaluate.record_outputs`) answers any threshold
    without running the network again. It gives the same exits, predictions and confidences as
    :func:`run_early_stop` because a sample's outputs up to its exit do not depend on the other samples
    (with read noise too: the evaluation path keys every read by sample and step, see
    :mod:`primekit.inference.evaluate`).
    ``steps_run`` is the work a streaming run would do: the sum of the exit steps.
    """
    check_time_major(outputs, "outputs")
    steps, batch = outputs.shape[0], outputs.shape[1]
    exit_step = torch.full((batch,), steps, dtype=torch.long)
    prediction = None  # shaped by the first decision (a class index, or e.g. an image, per sample)
    confidence = torch.zeros(batch)
    running = torch.ones(batch, dtype=torch.bool)
    state = policy.init_state(batch)
    for t in range(1, steps + 1):
        decision, state = policy.update(outputs[t - 1], state, t)
        stop = running & (decision.stop if t < steps else torch.ones_like(decision.stop))
        if prediction is None:
            prediction = decision.prediction.new_zeros((batch, *decision.prediction.shape[1:]))
        exit_step[stop] = t
        prediction[stop] = decision.prediction[stop]
        confidence[stop] = decision.confidence[stop].float()
        running &= ~stop
        if not running.any():
            break
    return EarlyStopResult(exit_step, prediction, confidence, int(exit_step.sum()))
