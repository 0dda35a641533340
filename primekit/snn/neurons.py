"""Leaky integrate-and-fire neurons as pure step functions, with thin module wrappers.

The PRIME update (authors' code, applied at every timestep)::

    v[t] = LReLU( (1 - decay) * v[t-1] * (1 - s[t-1]) + I[t] )      # leak, hard reset, input
    s[t] = H( v[t] - threshold )                                     # strict: spike if v > threshold

``decay`` is the fraction of membrane potential lost per step (``retention = 1 - decay``); the factor
``(1 - s[t-1])`` empties the membrane of a neuron that spiked on the previous step (hard reset);
``LReLU(v) = v if v >= 0 else slope * v`` (slope 0.1) stops the membrane drifting far below zero.
Membrane potential and input current are dimensionless (the threshold sets the scale); a step is one
frame of the input (for N-MNIST in the book profile, 1/T of a recording).

The output layer does not spike: :func:`integrator_step` accumulates ``v[t] = LReLU(v[t-1] + I[t])``
and the class scores are the mean of ``v`` over time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from primekit.checks import check_instance, is_number
from primekit.snn.surrogate import Rectangle, Surrogate
from primekit.snn.timeloop import StepModule


@dataclass(frozen=True)
class LIFParameters:
    """Parameters of a discrete-time LIF neuron.

    Attributes:
        decay: fraction of the membrane potential lost per step, in [0, 1]; retention = 1 - decay.
        threshold: spike threshold (membrane units), >= 0; a spike needs ``v > threshold``.
        leaky_relu_slope: slope of the LeakyReLU applied to the membrane for ``v < 0``, >= 0;
            None applies none (the membrane may go freely negative).
        surrogate: the surrogate gradient of the spike function.
    """

    decay: float = 0.8
    threshold: float = 0.2
    leaky_relu_slope: float | None = 0.1
    surrogate: Surrogate = field(default_factory=Rectangle)

    def __post_init__(self) -> None:
        if not (is_number(self.decay) and 0.0 <= self.decay <= 1.0):
            raise ValueError(f"decay={self.decay!r} must be in [0, 1] (fraction lost per step)")
        if not (is_number(self.threshold) and 0.0 <= self.threshold < float("inf")):
            raise ValueError(f"threshold={self.threshold!r} must be a finite number >= 0")
        if self.leaky_relu_slope is not None and not (
            is_number(self.leaky_relu_slope) and self.leaky_relu_slope >= 0.0
        ):
            raise ValueError(f"leaky_relu_slope={self.leaky_relu_slope!r} must be >= 0 or None")
        if not isinstance(self.surrogate, Surrogate):
            raise ValueError(f"surrogate={self.surrogate!r} must be a primekit.snn.surrogate.Surrogate")

    @property
    def retention(self) -> float:
        """Fraction of the membrane potential kept per step, ``1 - decay``."""
        return 1.0 - self.decay

    @classmethod
    def from_time_constant(cls, tau: float, dt: float = 1.0, **kwargs) -> "LIFParameters":
        """The exact discretisation of an RC membrane, ``retention = exp(-dt / tau)``.

        ``tau`` (membrane time constant) and ``dt`` (step length) in the same unit, e.g. both in ms, or
        ``tau`` in steps with the default ``dt = 1``.
        """
        if not (is_number(tau) and tau > 0):
            raise ValueError(f"tau={tau!r} must be > 0")
        if not (is_number(dt) and dt > 0):
            raise ValueError(f"dt={dt!r} must be > 0")
        return cls(decay=1.0 - math.exp(-dt / tau), **kwargs)

    @property
    def time_constant(self) -> float:
        """Membrane time constant in steps, ``-1 / ln(retention)`` (0 if nothing is retained)."""
        r = self.retention
        if r <= 0:
            return 0.0
        return math.inf if r >= 1 else -1.0 / math.log(r)


#: The PRIME N-MNIST hidden neurons: decay 0.8, threshold 0.2, LeakyReLU(0.1), rectangle surrogate.
PRIME_LIF = LIFParameters()
#: The spiking-VAE neurons: ``u = 0.25 u_prev (1 - o_prev) + x``, threshold 0.2, no LeakyReLU.
#: (The authors' VAE code centres its surrogate window at 0 rather than at the threshold; we centre
#: it at the threshold, as in the classifier.)
VAE_LIF = LIFParameters(decay=0.75, threshold=0.2, leaky_relu_slope=None)


class LIFState(NamedTuple):
    """State of a LIF population; both tensors are ``[B, ...]``.

    Attributes:
        v: membrane potential after the last step.
        s: spikes (0 or 1) emitted at the last step; they reset the membrane at the next step.
    """

    v: torch.Tensor
    s: torch.Tensor


class IntegratorState(NamedTuple):
    """State of the non-spiking output integrator: ``v`` is ``[B, ...]``."""

    v: torch.Tensor


def leaky_relu(v: torch.Tensor, slope: float | None) -> torch.Tensor:
    """``v`` where ``v >= 0``, ``slope * v`` elsewhere; the identity when ``slope`` is None."""
    if slope is None:
        return v
    return torch.nn.functional.leaky_relu(v, slope)  # one kernel; equal to where(v >= 0, v, slope * v)


def lif_step(
    current: torch.Tensor, state: LIFState | None, params: LIFParameters = PRIME_LIF
) -> tuple[torch.Tensor, LIFState]:
    """One LIF step: input current ``[B, ...]`` -> spikes ``[B, ...]`` and the new state.

    ``state=None`` means a fresh population (zero membrane, no previous spikes). As in the authors'
    code, the reset factor ``(1 - s[t-1])`` is not detached: gradients also flow through the reset.
    """
    if not isinstance(current, torch.Tensor) or not current.is_floating_point():
        raise ValueError(f"current must be a floating-point torch.Tensor [B, ...], got {type(current).__name__}")
    if state is None:
        zeros = torch.zeros_like(current)
        state = LIFState(zeros, zeros)
    elif state.v.shape != current.shape:
        raise ValueError(
            f"current has shape {tuple(current.shape)} but the state has {tuple(state.v.shape)}"
        )
    v, s = _LIFStep.apply(current, state.v, state.s, params)
    return s, LIFState(v, s)


class _LIFStep(torch.autograd.Function):
    """The LIF update as one autograd node (fewer saved tensors and kernels than op by op).

    Forward: ``u = r v_prev (1 - s_prev) + I``, ``v = LReLU(u)``, ``s = H(v - th)``. Backward, with
    ``g = dL/dv + dL/ds * surrogate'(v - th)`` and ``g_u = g * LReLU'(u)``: ``dL/dI = g_u``,
    ``dL/dv_prev = g_u r (1 - s_prev)``, ``dL/ds_prev = -g_u r v_prev`` (the reset is not detached).
    """

    @staticmethod
    def forward(ctx, current, v_prev, s_prev, params: LIFParameters):
        r = params.retention
        u = torch.addcmul(current, v_prev, 1.0 - s_prev, value=r)
        v = leaky_relu(u, params.leaky_relu_slope)
        s = (v > params.threshold).to(v.dtype)
        ctx.params = params
        ctx.save_for_backward(v_prev, s_prev, u)
        return v, s

    @staticmethod
    def backward(ctx, grad_v, grad_s):
        v_prev, s_prev, u = ctx.saved_tensors
        params = ctx.params
        v = leaky_relu(u, params.leaky_relu_slope)
        grad = grad_v + grad_s * params.surrogate.grad(v - params.threshold)
        if params.leaky_relu_slope is not None:
            grad = torch.where(u >= 0, grad, params.leaky_relu_slope * grad)
        scaled = params.retention * grad
        return grad, scaled * (1.0 - s_prev), -scaled * v_prev, None


def integrator_step(
    current: torch.Tensor, state: IntegratorState | None, leaky_relu_slope: float | None = 0.1
) -> tuple[torch.Tensor, IntegratorState]:
    """One step of the non-spiking output cell: ``v = LReLU(v_prev + I)``; returns ``v`` and the state."""
    check_instance("current", current, torch.Tensor, "a torch.Tensor")
    if state is not None:
        check_instance("state", state, IntegratorState, "an IntegratorState or None")
    previous = torch.zeros_like(current) if state is None else state.v
    if previous.shape != current.shape:
        raise ValueError(
            f"current has shape {tuple(current.shape)} but the state has {tuple(previous.shape)}"
        )
    v = leaky_relu(previous + current, leaky_relu_slope)
    return v, IntegratorState(v)


def _check_input(current: torch.Tensor, shape: tuple[int, ...] | None) -> None:
    if not isinstance(current, torch.Tensor) or current.dim() < 1:
        raise ValueError("current must be a tensor shaped [B, ...] (batch first)")
    if shape is not None and tuple(current.shape[1:]) != shape:
        raise ValueError(
            f"current must be shaped [B, {', '.join(map(str, shape))}] (rank {len(shape) + 1}), "
            f"got {tuple(current.shape)}"
        )


class _Population(StepModule):
    """A population of per-sample ``shape`` (checked on every step when given; state made on first use when not)."""

    def __init__(self, shape: tuple[int, ...] | None):
        super().__init__()
        self.shape = tuple(shape) if shape is not None else None

    def _zeros(self, batch_size: int) -> torch.Tensor | None:
        return None if self.shape is None else torch.zeros(batch_size, *self.shape)


class LIF(_Population):
    """A population of LIF neurons.

    Args:
        params: neuron parameters (default :data:`PRIME_LIF`).
        shape: per-sample shape of the population, e.g. ``(12, 32, 32)``; if given, inputs are checked
            against it and ``init_state`` returns zeros, else the state is created on the first step.
    """

    def __init__(self, params: LIFParameters = PRIME_LIF, shape: tuple[int, ...] | None = None):
        if not isinstance(params, LIFParameters):
            raise ValueError(f"params={params!r} must be a LIFParameters")
        super().__init__(shape)
        self.params = params

    def init_state(self, batch_size: int) -> LIFState | None:
        zeros = self._zeros(batch_size)
        return None if zeros is None else LIFState(zeros, zeros.clone())

    def step(self, current: torch.Tensor, state: LIFState | None) -> tuple[torch.Tensor, LIFState]:
        _check_input(current, self.shape)
        return lif_step(current, state, self.params)

    def extra_repr(self) -> str:
        return f"{self.params}, shape={self.shape}"


class OutputIntegrator(_Population):
    """Non-spiking output cells, ``v = LReLU(v_prev + I)``; the output of each step is ``v``."""

    def __init__(self, leaky_relu_slope: float | None = 0.1, shape: tuple[int, ...] | None = None):
        if leaky_relu_slope is not None and not leaky_relu_slope >= 0:
            raise ValueError(f"leaky_relu_slope={leaky_relu_slope!r} must be >= 0 or None")
        super().__init__(shape)
        self.leaky_relu_slope = leaky_relu_slope

    def init_state(self, batch_size: int) -> IntegratorState | None:
        zeros = self._zeros(batch_size)
        return None if zeros is None else IntegratorState(zeros)

    def step(self, current, state):
        _check_input(current, self.shape)
        return integrator_step(current, state, self.leaky_relu_slope)


def constant_input_rate(current: float, params: LIFParameters = PRIME_LIF) -> float:
    """Firing rate (spikes per step) of a LIF neuron driven by a constant ``current``, in closed form.

    From rest the membrane after ``n`` steps is ``I (1 - r^n) / (1 - r)`` with ``r = 1 - decay``
    (the LeakyReLU does nothing while ``I >= 0``). The neuron fires at the first ``n`` where this
    exceeds the threshold, ``n* = floor(log(1 - th (1 - r) / I) / log r) + 1``, and the hard reset
    returns it to rest, so it fires every ``n*`` steps: rate ``1 / n*``. It never fires when
    ``I <= th (1 - r)`` (the membrane's limit ``I / (1 - r)`` does not pass the threshold).
    """
    if not current >= 0:
        raise ValueError(f"current={current!r} must be >= 0 for the closed form")
    r, th = params.retention, params.threshold
    if current == 0 or current <= th * (1 - r):
        return 0.0
    if r == 0:  # no memory: fires on every step the input alone passes the threshold
        return 1.0 if current > th else 0.0
    if r == 1:  # perfect integrator: n I > th
        return 1.0 / (math.floor(th / current) + 1)
    n_star = math.floor(math.log(1 - th * (1 - r) / current) / math.log(r)) + 1
    return 1.0 / max(n_star, 1)
