"""Subnet scoring (edge-popup): train *which* weights to keep, never the weights themselves.

Every frozen weight ``W`` has a trainable score ``S``. The layer uses ``W_eff = W * M`` with the mask
``M = 1`` for the ``keep_ratio`` fraction of weights with the largest ``|S|`` and 0 elsewhere. The
mask's true gradient is zero almost everywhere, so the backward pass is *straight-through*: the
gradient reaching ``M`` is handed to ``|S|`` unchanged, hence ``dL/dS = sign(S) * W * dL/dW_eff``.

``keep_ratio`` is the fraction **kept** (PRIME keeps 0.5). The authors' code calls the fraction *pruned*
``sparsity``; ``keep_ratio = 1 - sparsity``. Their rule keeps the weights whose ``|S|`` is at least the
``k``-th smallest value with ``k = 1 + round(sparsity * (n - 1))`` (Python's round, half to even), so it
keeps ``n - round(sparsity * (n - 1))`` weights when the scores are distinct; :func:`keep_count` is that
number, and :func:`topk_mask` keeps exactly that many, breaking ties at the threshold by index (the
lower index is pruned first).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from primekit.seeding import make_generator
from primekit.snn.weight_sources import WeightSource


def _check_keep_ratio(keep_ratio) -> float:
    if isinstance(keep_ratio, bool) or not isinstance(keep_ratio, (int, float)) or not 0 < keep_ratio <= 1:
        raise ValueError(f"keep_ratio={keep_ratio!r} must be in (0, 1] (the fraction of weights kept)")
    return float(keep_ratio)


def keep_count(n: int, keep_ratio: float) -> int:
    """How many of ``n`` weights are kept: ``n - round((1 - keep_ratio) * (n - 1))`` (the authors' rule)."""
    keep_ratio = _check_keep_ratio(keep_ratio)
    if n < 1:
        raise ValueError(f"n={n!r} must be >= 1")
    return n - round((1.0 - keep_ratio) * (n - 1))


class _TopKMask(torch.autograd.Function):
    """Forward: 0/1 mask of the ``keep`` largest values; backward: the gradient passes straight through."""

    @staticmethod
    def forward(ctx, magnitudes: torch.Tensor, keep: int) -> torch.Tensor:
        flat = magnitudes.reshape(-1)
        order = torch.sort(flat, stable=True).indices  # ascending; equal values keep index order
        mask = torch.ones_like(flat)
        mask[order[: flat.numel() - keep]] = 0.0
        return mask.view_as(magnitudes)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        return grad_output, None


def topk_mask(scores: torch.Tensor, keep_ratio: float) -> torch.Tensor:
    """The mask keeping the ``keep_ratio`` fraction of largest ``|scores|`` (straight-through to ``|scores|``)."""
    return _TopKMask.apply(scores.abs(), keep_count(scores.numel(), keep_ratio))


def init_scores(shape, seed: int) -> torch.Tensor:
    """Kaiming-uniform scores (``a = sqrt(5)``, as ``nn.Linear``/``nn.Conv2d`` weights), from ``seed``."""
    scores = torch.empty(tuple(shape))
    fan_in = scores[0].numel()
    bound = math.sqrt(6.0 / ((1 + 5.0) * fan_in))  # gain sqrt(2 / (1 + a^2)) with a^2 = 5
    scores.uniform_(-bound, bound, generator=make_generator(seed))
    return scores


class SubnetLayer(nn.Module):
    """Base of subnet layers: frozen weights from a source, trainable scores, a top-k mask.

    Args:
        weight_source: where the frozen weights come from (software Gaussian, a memristor chip, or
            :class:`~primekit.snn.weight_sources.TrainableWeights` for ordinary weight tuning).
        keep_ratio: fraction of weights kept, in (0, 1]; 1 means no mask and no scores (weight tuning).
        score_seed: seed of the scores' Kaiming-uniform initialisation.
    """

    def __init__(self, weight_source: WeightSource, keep_ratio: float = 0.5, score_seed: int = 0):
        super().__init__()
        if not isinstance(weight_source, WeightSource):
            raise ValueError(f"weight_source must be a primekit WeightSource, got {type(weight_source).__name__}")
        self.weight_source = weight_source
        self.keep_ratio = _check_keep_ratio(keep_ratio)
        self.scores = None if self.keep_ratio == 1.0 else nn.Parameter(init_scores(weight_source.shape, score_seed))
        self._mask_cache: tuple[int, torch.Tensor] | None = None

    def keep_mask(self) -> torch.Tensor | None:
        """The current 0/1 keep decisions as a bool tensor (None when nothing is pruned)."""
        if self.scores is None:
            return None
        with torch.no_grad():
            return topk_mask(self.scores, self.keep_ratio).bool()

    def mask(self) -> torch.Tensor:
        """The 0/1 mask with a straight-through gradient to ``|scores|``.

        The sort runs once per change of the scores (cached by their version), not at every timestep:
        the value is the cached mask, and ``|S| - |S|.detach()`` (exactly zero) carries the gradient.
        """
        version = self.scores._version
        if self._mask_cache is None or self._mask_cache[0] != version:
            with torch.no_grad():
                self._mask_cache = (version, topk_mask(self.scores, self.keep_ratio))
        magnitude = self.scores.abs()
        return self._mask_cache[1] + (magnitude - magnitude.detach())

    def effective_weight(self) -> torch.Tensor:
        """``W * M`` for this read (a chip that already RESET its pruned pairs is used as read)."""
        weight = self.weight_source.read()
        if self.scores is None or self.weight_source.includes_pruning:
            return weight
        return weight * self.mask()

    def kept_fraction(self) -> float:
        """Fraction of weights actually kept (1.0 without a mask)."""
        mask = self.keep_mask()
        return 1.0 if mask is None else int(mask.sum()) / mask.numel()


class SubnetConv2d(SubnetLayer):
    """A 2-D convolution (no bias) whose kernel is a subnet of frozen weights ``[out, in, k, k]``."""

    def __init__(self, weight_source: WeightSource, keep_ratio: float = 0.5, score_seed: int = 0, *,
                 stride: int = 1, padding: int = 0):
        super().__init__(weight_source, keep_ratio, score_seed)
        if len(weight_source.shape) != 4:
            raise ValueError(f"a conv kernel is [out, in, k, k]; the source has shape {tuple(weight_source.shape)}")
        self.stride, self.padding = stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return f"keep_ratio={self.keep_ratio}, stride={self.stride}, padding={self.padding}"


class SubnetLinear(SubnetLayer):
    """A linear map (no bias) whose matrix ``[out, in]`` is a subnet of frozen weights."""

    def __init__(self, weight_source: WeightSource, keep_ratio: float = 0.5, score_seed: int = 0):
        super().__init__(weight_source, keep_ratio, score_seed)
        if len(weight_source.shape) != 2:
            raise ValueError(f"a linear weight is [out, in]; the source has shape {tuple(weight_source.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.effective_weight())

    def extra_repr(self) -> str:
        return f"keep_ratio={self.keep_ratio}"


def kept_fractions(model: nn.Module) -> dict[str, float]:
    """The kept fraction of every subnet layer of ``model``, by module name."""
    return {name: m.kept_fraction() for name, m in model.named_modules() if isinstance(m, SubnetLayer)}
