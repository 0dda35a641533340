"""The consistency-score early stop of PRIME's inpainting task, streaming (default) or as the authors re-ran it.

The *consistency score* at step t is how much the reconstruction changed, ``d_t = sum |xhat_t - xhat_{t-1}| / 100``
(the sum over the pixels of one image, ``xhat_0 = 0``, values in [-1, 1]; the authors' early-exit script runs
one digit per batch, so their sum is per digit too). A sample stops at the first
``t >= 3`` with ``d_t < d_{t-1} < d_{t-2}`` (the change shrank twice in a row, strictly: ties never stop) and
``d_t < eps`` (the authors' official ``eps`` is 0.2). A sample that never meets it runs all T steps.

Two ways to get the ``xhat_t``:

- **streaming** (default, :class:`ConsistencyStop` on :class:`primekit.snn.vae.SpikingVAE`'s outputs): one pass;
  the network's state is carried from step to step and ``xhat_t`` is the readout ``tanh(A_t)`` of its leaky
  accumulator. Stopping at t costs t steps, so the saving ``1 - t*/T`` is real, and because every random draw
  is keyed by (sample, step), a recorded full-T run replayed (:func:`primekit.inference.early_stop.replay`)
  gives the same exits as the streaming run.
- **re-run** (:class:`RerunVAE`, the authors' ``Pruning_FSVAE_EE``): at every t the whole VAE is run again from
  rest on the input truncated to t steps, with *fresh* latent choices (``redraw``; the authors call the
  sampler again) and the authors' truncated readout ``tanh(0.8^(T-t) A_t)`` (the first t of the T coefficients
  ``0.8^(T-1-s)``). Stopping at t then costs ``1 + 2 + ... + t`` steps, more than a full run for late exits,
  and successive reconstructions differ also because the latent path was redrawn and the readout rescaled, so
  ``d_t`` mixes convergence with resampling noise. With ``redraw=False`` and ``truncated_readout=False`` the two
  give the same reconstructions at every step (tested); at t = T the readouts agree for any ``truncated_readout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from primekit.checks import check_number, is_count, is_number
from primekit.inference.early_stop import Decision, StopPolicy
from primekit.snn import draws
from primekit.snn.timeloop import StepModule, check_time_major
from primekit.snn.vae import READOUT_RETENTION, SpikingVAE

#: The authors' divisor of the summed absolute change.
SCORE_SCALE = 100.0
#: The authors' official threshold on d_t.
PAPER_EPS = 0.2
_MIX = 0x9E3779B97F4A7C15


def consistency_scores(outputs: torch.Tensor, scale: float = SCORE_SCALE) -> torch.Tensor:
    """``d_t`` for recorded reconstructions ``[T, B, ...]`` -> ``[T, B]`` (``xhat_0 = 0``)."""
    check_time_major(outputs, "outputs")
    scale = check_number("scale", scale, above=0)
    previous = torch.cat([torch.zeros_like(outputs[:1]), outputs[:-1]])
    return (outputs - previous).abs().flatten(2).sum(2) / scale


class _ConsistencyState(NamedTuple):
    previous: torch.Tensor  # xhat_{t-1} [B, ...]
    d1: torch.Tensor  # d_{t-1} [B]
    d2: torch.Tensor  # d_{t-2} [B]


@dataclass(frozen=True)
class ConsistencyStop(StopPolicy):
    """Stop at the first ``t >= min_step`` with ``d_t < d_{t-1} < d_{t-2}`` and ``d_t < eps``.

    Attributes:
        eps: threshold on ``d_t`` (summed absolute pixel change / ``scale``), > 0; the authors use 0.2.
        min_step: the first step that may stop, >= 3 (the rule needs d_{t-2}).
        scale: the divisor of the summed change (the authors: 100).

    The decision's ``confidence`` is ``d_t`` (smaller is surer); its ``prediction`` the reconstruction itself.
    """

    eps: float = PAPER_EPS
    min_step: int = 3
    scale: float = SCORE_SCALE

    def __post_init__(self) -> None:
        if not (is_number(self.eps) and self.eps > 0):
            raise ValueError(f"eps={self.eps!r} must be > 0 (summed absolute change / scale)")
        if not (is_count(self.min_step) and self.min_step >= 3):
            raise ValueError(f"min_step={self.min_step!r} must be an integer >= 3 (the rule needs d_(t-2))")
        if not (is_number(self.scale) and self.scale > 0):
            raise ValueError(f"scale={self.scale!r} must be > 0")

    def init_state(self, batch_size: int) -> None:
        return None

    def update(self, output: torch.Tensor, state, step: int):
        if output.dim() < 2:
            raise ValueError(f"output must be [B, ...] reconstructions, got shape {tuple(output.shape)}")
        if state is None:
            inf = torch.full((output.shape[0],), float("inf"))
            state = _ConsistencyState(torch.zeros_like(output), inf, inf.clone())
        d = (output - state.previous).abs().flatten(1).sum(1) / self.scale
        stop = (d < state.d1) & (state.d1 < state.d2) & (d < self.eps)
        if step < self.min_step:
            stop = torch.zeros_like(stop)
        return Decision(stop, d, output), _ConsistencyState(output, d, state.d1)


class RerunVAE(StepModule):
    """The authors' early-exit semantics as a step module: step t re-runs ``vae`` from rest on the t inputs so far.

    Args:
        vae: the trained model.
        timesteps: T, for the truncated readout's factor ``0.8^(T-t)``.
        redraw: every re-run gets fresh keyed draws (latent choices, chip reads): the stream of re-run t mixes t
            into the run's seed. False reuses the streaming run's draws.
        truncated_readout: output ``tanh(0.8^(T-t) A_t)`` (the authors') instead of ``tanh(A_t)``.

    The state is the input history ``[B, t, ...]``; costs ``t`` VAE steps at step t.
    """

    def __init__(self, vae: SpikingVAE, timesteps: int, *, redraw: bool = True, truncated_readout: bool = True):
        super().__init__()
        if not isinstance(vae, StepModule):
            raise ValueError(f"vae must be a StepModule (a SpikingVAE), got {type(vae).__name__}")
        if not (is_count(timesteps) and timesteps >= 1):
            raise ValueError(f"timesteps={timesteps!r} must be a positive integer")
        self.vae, self.timesteps, self.redraw, self.truncated_readout = vae, timesteps, redraw, truncated_readout

    def init_state(self, batch_size: int):
        return None

    def step(self, x_t: torch.Tensor, state):
        history = x_t.unsqueeze(1) if state is None else torch.cat([state, x_t.unsqueeze(1)], dim=1)
        batch, t = history.shape[:2]
        if t > self.timesteps:
            raise ValueError(f"step {t} is beyond timesteps={self.timesteps}")
        keys = draws.current_keys()
        samples = torch.arange(batch) if keys is None else keys.samples
        seed = 0 if keys is None else keys.seed
        if self.redraw:
            seed = (seed + t * _MIX) % 2**64
        inner = self.vae.init_state(batch)
        for s in range(t):
            with draws.keyed(samples, s, seed):
                _, inner = self.vae.step(history[:, s], inner)
        factor = READOUT_RETENTION ** (self.timesteps - t) if self.truncated_readout else 1.0
        return torch.tanh(factor * inner.readout), history
