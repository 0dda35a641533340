"""Spike functions with surrogate gradients.

A spike is the Heaviside step ``H(x) = 1 if x > 0 else 0`` of ``x = v - threshold`` (strict ``>``, as in
the authors' code). Its true derivative is zero almost everywhere, so backpropagation would learn
nothing; a *surrogate* keeps the exact step in the forward pass and uses a smooth stand-in for
``dH/dx`` in the backward pass.

- :class:`Rectangle` (the PRIME code's choice): ``dH/dx = 1 / (2a)`` for ``|x| < a``, else 0, with
  half-width ``a = 0.5`` (so height 1).
- :class:`FastSigmoid` (SuperSpike, Zenke & Ganguli 2018): ``dH/dx = 1 / (1 + k|x|)^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from primekit.checks import check_positive


class _SpikeFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, surrogate):
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ctx.surrogate.grad(x), None


class Surrogate:
    """Base class: calling it on ``x = v - threshold`` gives spikes with a surrogate gradient."""

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """The surrogate derivative ``dH/dx`` at ``x``."""
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return _SpikeFunction.apply(x, self)


@dataclass(frozen=True)
class Rectangle(Surrogate):
    """Boxcar surrogate: ``dH/dx = 1 / (2 half_width)`` where ``|x| < half_width``, else 0.

    Attributes:
        half_width: half the window width, in membrane units (PRIME's code: 0.5, so height 1).
    """

    half_width: float = 0.5

    def __post_init__(self) -> None:
        check_positive(self, "half_width")

    @property
    def height(self) -> float:
        """Value of the surrogate inside the window, ``1 / (2 half_width)``."""
        return 1.0 / (2.0 * self.half_width)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return (x.abs() < self.half_width).to(x.dtype) * self.height


@dataclass(frozen=True)
class FastSigmoid(Surrogate):
    """SuperSpike's fast sigmoid: ``dH/dx = 1 / (1 + slope |x|)^2`` (peak 1 at the threshold).

    Attributes:
        slope: steepness ``k`` per membrane unit; larger is closer to the true step.
    """

    slope: float = 10.0

    def __post_init__(self) -> None:
        check_positive(self, "slope")

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return 1.0 / (1.0 + self.slope * x.abs()) ** 2


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """The exact spike function ``H(x) = 1 if x > 0 else 0`` (no gradient)."""
    return (x > 0).to(x.dtype)
