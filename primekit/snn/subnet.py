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
from torch import nn

from primekit.checks import check_integer
from primekit.seeding import make_generator
from primekit.snn.weight_sources import LayerMap, WeightSource


def _check_keep_ratio(keep_ratio) -> float:
    if isinstance(keep_ratio, bool) or not isinstance(keep_ratio, (int, float)) or not 0 < keep_ratio <= 1:
        raise ValueError(f"keep_ratio={keep_ratio!r} must be in (0, 1] (the fraction of weights kept)")
    return float(keep_ratio)


def keep_count(n: int, keep_ratio: float) -> int:
    """How many of ``n`` weights are kept: ``n - round((1 - keep_ratio) * (n - 1))`` (the authors' rule)."""
    keep_ratio = _check_keep_ratio(keep_ratio)
    n = check_integer("n", n, 1)
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
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
        raise ValueError(f"scores must be a floating-point torch.Tensor, got {type(scores).__name__}")
    return _TopKMask.apply(scores.abs(), keep_count(scores.numel(), keep_ratio))


def init_scores(shape, seed: int) -> torch.Tensor:
    """Kaiming-uniform scores (``a = sqrt(5)``, as ``nn.Linear``/``nn.Conv2d`` weights), from ``seed``."""
    scores = torch.empty(tuple(shape))
    fan_in = scores[0].numel()
    bound = math.sqrt(6.0 / ((1 + 5.0) * fan_in))  # gain sqrt(2 / (1 + a^2)) with a^2 = 5
    scores.uniform_(-bound, bound, generator=make_generator(seed))
    return scores


class SubnetLayer(nn.Module):
    """Base of subnet layers: frozen weights from a source, trainable scores, a top-k mask, optional bias.

    The layer's output is ``weight_source.apply(x, layer_map, mask, bias)``: the source applies the map
    (a chip source adds read noise to the output currents). A source whose pruned weights are physically
    removed (``includes_pruning``, a deployed chip) gets no mask.

    Args:
        weight_source: where the frozen weights come from (software Gaussian, a memristor chip, or
            :class:`~primekit.snn.weight_sources.TrainableWeights` for ordinary weight tuning).
        keep_ratio: fraction of weights kept, in (0, 1]; 1 means no mask and no scores (weight tuning).
        score_seed: seed of the scores' Kaiming-uniform initialisation.
        layer_map: the layer's linear map (kind, stride, padding).
        bias: False for none, True for a trainable bias of zeros, or a tensor ``[out]`` to start from
            (trainable); it is added after the map (on a chip: digitally, without read noise).
    """

    def __init__(self, weight_source: WeightSource, keep_ratio: float = 0.5, score_seed: int = 0,
                 layer_map: LayerMap = LayerMap("linear"), bias: bool | torch.Tensor = False):
        super().__init__()
        if not isinstance(weight_source, WeightSource):
            raise ValueError(f"weight_source must be a primekit WeightSource, got {type(weight_source).__name__}")
        if not isinstance(layer_map, LayerMap):
            raise ValueError(f"layer_map must be a primekit LayerMap, got {type(layer_map).__name__}")
        layer_map.check_weight(weight_source.shape)
        self.weight_source = weight_source
        self.layer_map = layer_map
        self.keep_ratio = _check_keep_ratio(keep_ratio)
        self.scores = None if self.keep_ratio == 1.0 else nn.Parameter(init_scores(weight_source.shape, score_seed))
        self.bias = self._make_bias(bias)
        self._mask_cache: tuple[torch.Tensor, torch.Tensor] | None = None  # (scores it was made from, mask)

    @property
    def out_features(self) -> int:
        """Output channels (features) of the map."""
        return self.weight_source.shape[1 if self.layer_map.kind == "conv_transpose2d" else 0]

    def _make_bias(self, bias) -> nn.Parameter | None:
        if isinstance(bias, bool):
            return nn.Parameter(torch.zeros(self.out_features)) if bias else None
        if not isinstance(bias, torch.Tensor) or tuple(bias.shape) != (self.out_features,):
            raise ValueError(f"bias must be True, False or a tensor of shape ({self.out_features},); "
                             f"got {bias if not isinstance(bias, torch.Tensor) else tuple(bias.shape)!r}")
        return nn.Parameter(bias.detach().clone().float())

    def keep_mask(self) -> torch.Tensor | None:
        """The current 0/1 keep decisions as a bool tensor (None when nothing is pruned)."""
        if self.scores is None:
            return None
        with torch.no_grad():
            return topk_mask(self.scores, self.keep_ratio).bool()

    def mask(self) -> torch.Tensor:
        """The 0/1 mask with a straight-through gradient to ``|scores|``.

        The sort runs once per change of the scores, not at every timestep: the mask is cached with a copy of
        the scores it was made from and reused while the scores are equal to that copy (a comparison costs
        microseconds; a version counter would miss ``scores.data = ...`` and ``vector_to_parameters``). The
        value is the cached mask, and ``|S| - |S|.detach()`` (exactly zero) carries the gradient.
        """
        scores = self.scores.detach()
        cache = self._mask_cache
        if (cache is None or cache[0].shape != scores.shape or cache[0].device != scores.device or scores.is_meta
                or not torch.equal(cache[0], scores)):
            with torch.no_grad():
                self._mask_cache = cache = (scores.clone(), topk_mask(scores, self.keep_ratio))
        if not (torch.is_grad_enabled() and self.scores.requires_grad):
            return cache[1]  # no gradient wanted: skip the straight-through arithmetic
        magnitude = self.scores.abs()
        return cache[1] + (magnitude - magnitude.detach())

    def applied_mask(self) -> torch.Tensor | None:
        """The mask the source gets: None without scores or when the source already removed pruned weights."""
        if self.scores is None or self.weight_source.includes_pruning:
            return None
        return self.mask()

    def effective_weight(self) -> torch.Tensor:
        """``W * M`` without read noise (a chip that already RESET its pruned pairs is used as read)."""
        mask = self.applied_mask()
        weight = self.weight_source.read()
        return weight if mask is None else weight * mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight_source.apply(x, self.layer_map, self.applied_mask(), self.bias)

    def kept_fraction(self) -> float:
        """Fraction of weights actually kept (1.0 without a mask)."""
        mask = self.keep_mask()
        return 1.0 if mask is None else int(mask.sum()) / mask.numel()

    def extra_repr(self) -> str:
        m = self.layer_map
        geometry = "" if m.kind == "linear" else f", stride={m.stride}, padding={m.padding}"
        if m.kind == "conv_transpose2d":
            geometry += f", output_padding={m.output_padding}"
        return f"keep_ratio={self.keep_ratio}{geometry}, bias={self.bias is not None}"


class SubnetConv2d(SubnetLayer):
    """A 2-D convolution whose kernel ``[out, in, k, k]`` is a subnet of frozen weights (bias optional)."""

    def __init__(self, weight_source: WeightSource, keep_ratio: float = 0.5, score_seed: int = 0, *,
                 stride: int = 1, padding: int = 0, bias: bool | torch.Tensor = False):
        super().__init__(weight_source, keep_ratio, score_seed, LayerMap("conv2d", stride, padding), bias)
        self.stride, self.padding = stride, padding


class SubnetConvTranspose2d(SubnetLayer):
    """A transposed 2-D convolution whose kernel ``[in, out, k, k]`` (torch's layout) is a subnet of frozen
    weights (bias optional): the upsampling layers of the spiking VAE's decoder."""

    def __init__(self, weight_source: WeightSource, keep_ratio: float = 0.5, score_seed: int = 0, *,
                 stride: int = 1, padding: int = 0, output_padding: int = 0, bias: bool | torch.Tensor = False):
        super().__init__(weight_source, keep_ratio, score_seed,
                         LayerMap("conv_transpose2d", stride, padding, output_padding), bias)
        self.stride, self.padding, self.output_padding = stride, padding, output_padding


class SubnetLinear(SubnetLayer):
    """A linear map whose matrix ``[out, in]`` is a subnet of frozen weights (bias optional)."""

    def __init__(self, weight_source: WeightSource, keep_ratio: float = 0.5, score_seed: int = 0, *,
                 bias: bool | torch.Tensor = False):
        super().__init__(weight_source, keep_ratio, score_seed, LayerMap("linear"), bias)


def kept_fractions(model: nn.Module) -> dict[str, float]:
    """The kept fraction of every subnet layer of ``model``, by module name."""
    return {name: m.kept_fraction() for name, m in model.named_modules() if isinstance(m, SubnetLayer)}
