"""Weight sources: where a layer's weights come from, so hardware never leaks into model code.

A layer holds a :class:`WeightSource` and a :class:`LayerMap` (the frozen description of its linear map:
a 2-D convolution, a transposed convolution or a linear map, with its stride and padding). At every
timestep it calls ``source.apply(x, layer_map, mask, bias)``, and the *source* applies the map: a
software source multiplies its weights by the mask and calls the torch op, a chip source
(:class:`primekit.chip.deploy.ChipWeights`) adds the read noise of its memristor cells to the output
currents. ``source.read()`` returns the noise-free weights, for inspection, deployment and counting.

- :class:`FrozenWeights` - fixed weights given as a tensor (e.g. from a checkpoint);
- :class:`GaussianWeights` - frozen software random weights, ``scale * N(0, std^2)`` (PRIME's software
  baseline: std 6.352, scale 0.01);
- :class:`TrainableWeights` - ordinary trainable weights (the weight-tuning baseline);
- :class:`primekit.chip.deploy.ChipWeights` - weights held by memristor pairs, ``weight_scale * (G+ - G-)``,
  read with fresh read noise at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from primekit.checks import check_finite, check_integer, is_number
from primekit.seeding import make_generator

#: The linear maps a layer can have, and the number of dimensions of their weight tensors.
MAP_KINDS = {"conv2d": 4, "conv_transpose2d": 4, "linear": 2}


def _pair(name: str, value) -> tuple[int, int]:
    values = (value, value) if isinstance(value, int) and not isinstance(value, bool) else tuple(value)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
        raise ValueError(f"{name}={value!r} must be an integer >= 0 or a pair of them")
    return values


@dataclass(frozen=True)
class LayerMap:
    """The linear map of a layer, without its weights: what ``source.apply`` computes.

    Attributes:
        kind: ``"conv2d"`` (weights ``[out, in, k, k]``), ``"conv_transpose2d"`` (weights ``[in, out, k, k]``,
            as torch) or ``"linear"`` (weights ``[out, in]``).
        stride, padding, output_padding: as the torch ops (pixels; ``output_padding`` only for the
            transposed convolution); an integer or a (height, width) pair. Ignored by ``"linear"``.

    The bias, if any, is not part of the map: it is a parameter of the layer, passed to ``apply`` (on a
    chip it is added digitally after the crossbar read, without read noise).
    """

    kind: str = "linear"
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] = 0
    output_padding: int | tuple[int, int] = 0

    def __post_init__(self) -> None:
        if self.kind not in MAP_KINDS:
            raise ValueError(f"kind={self.kind!r} must be one of {tuple(MAP_KINDS)}")
        stride = _pair("stride", self.stride)
        if min(stride) < 1:
            raise ValueError(f"stride={self.stride!r} must be >= 1")
        object.__setattr__(self, "stride", stride)
        object.__setattr__(self, "padding", _pair("padding", self.padding))
        output_padding = _pair("output_padding", self.output_padding)
        if self.kind != "conv_transpose2d" and any(output_padding):
            raise ValueError(f"output_padding={self.output_padding!r} is only allowed for kind='conv_transpose2d'")
        if any(o >= s for o, s in zip(output_padding, stride)):
            raise ValueError(f"output_padding={self.output_padding!r} must be smaller than the stride {stride}")
        object.__setattr__(self, "output_padding", output_padding)

    def check_weight(self, shape) -> None:
        """Raise ValueError unless a weight of ``shape`` fits this kind of map."""
        if len(shape) != MAP_KINDS[self.kind]:
            layout = {"conv2d": "[out, in, k, k]", "conv_transpose2d": "[in, out, k, k]", "linear": "[out, in]"}
            raise ValueError(f"a {self.kind} weight is {layout[self.kind]}; the source has shape {tuple(shape)}")

    def __call__(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """The map applied to ``x`` (``[B, ...]``) with ``weight`` (and ``bias``)."""
        if self.kind == "conv2d":
            return F.conv2d(x, weight, bias, stride=self.stride, padding=self.padding)
        if self.kind == "conv_transpose2d":
            return F.conv_transpose2d(x, weight, bias, stride=self.stride, padding=self.padding,
                                      output_padding=self.output_padding)
        return F.linear(x, weight, bias)


class WeightSource(nn.Module):
    """Base class: ``read()`` returns the noise-free weights; ``apply`` computes a layer's output with them.

    ``includes_pruning`` is True when pruned weights are already physically removed (RESET pairs on a
    chip); a subnet layer then passes no mask.
    """

    includes_pruning: bool = False

    @property
    def draws_per_read(self) -> bool:
        """True when every application draws random values keyed by (sample, step) (a chip with read noise):
        such a layer must run step by step inside :func:`primekit.snn.draws.keyed` blocks, never time-folded."""
        return False

    def read(self) -> torch.Tensor:
        """The weights, without read noise."""
        raise NotImplementedError

    def apply(self, x: torch.Tensor, layer_map: LayerMap, mask: torch.Tensor | None = None,
              bias: torch.Tensor | None = None) -> torch.Tensor:
        """``layer_map`` applied to ``x`` with the weights ``read() * mask`` (no mask: ``read()``) and ``bias``.

        A software source computes exactly the torch op; a chip source adds its read noise to the output.
        """
        weight = self.read()
        return layer_map(x, weight if mask is None else weight * mask, bias)

    @property
    def shape(self) -> torch.Size:
        return self.read().shape


class FrozenWeights(WeightSource):
    """Fixed weights given as a tensor (stored as a buffer: saved with the model, never trained)."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        if not isinstance(weight, torch.Tensor) or not weight.is_floating_point():
            raise ValueError(f"weight must be a floating-point torch.Tensor, got {type(weight).__name__}")
        check_finite("weight", weight)
        self.register_buffer("weight", weight.detach().clone())

    def read(self) -> torch.Tensor:
        return self.weight

    @property
    def shape(self) -> torch.Size:
        return self.weight.shape


class GaussianWeights(FrozenWeights):
    """Frozen random weights ``scale * N(0, std^2)`` drawn once from ``seed``.

    Args:
        shape: weight shape.
        std: standard deviation before scaling (PRIME: 6.352, read as µS of ``G+ - G-``).
        scale: multiplier (PRIME: 0.01).
        seed: the draw's seed.
    """

    def __init__(self, shape, std: float = 6.352, scale: float = 0.01, seed: int = 0):
        for name, value in (("std", std), ("scale", scale)):
            if not (is_number(value) and 0 < value < float("inf")):
                raise ValueError(f"{name}={value!r} must be a finite number > 0")
        shape = tuple(check_integer("shape", s, 1) for s in shape)
        super().__init__(scale * std * torch.randn(shape, generator=make_generator(seed)))
        self.std, self.scale, self.seed = std, scale, seed

    def extra_repr(self) -> str:
        return f"shape={tuple(self.weight.shape)}, std={self.std}, scale={self.scale}, seed={self.seed}"


class TrainableWeights(WeightSource):
    """Ordinary trainable weights (``nn.Parameter``), initialised by the caller's tensor."""

    def __init__(self, initial: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(initial.detach().clone())

    def read(self) -> torch.Tensor:
        return self.weight

    @property
    def shape(self) -> torch.Size:
        return self.weight.shape
