"""Weight sources: where a layer's weights come from, so hardware never leaks into model code.

A layer holds a :class:`WeightSource` and calls ``source.read()`` once per timestep:

- :class:`FrozenWeights` - fixed weights given as a tensor (e.g. from a checkpoint);
- :class:`GaussianWeights` - frozen software random weights, ``scale * N(0, std^2)`` (PRIME's software
  baseline: std 6.352, scale 0.01);
- :class:`TrainableWeights` - ordinary trainable weights (the weight-tuning baseline);
- :class:`ChipWeights` - weights held by memristor pairs, ``weight_scale * (G+ - G-)``, read with fresh
  read noise at every call.

:func:`deploy` puts a trained model on a simulated chip without touching its code: every layer that
has a ``weight_source`` gets a :class:`ChipWeights` holding its weights as programmed pairs (pruned pairs
RESET, programming noise of the chip's seed), read with the device's read noise.
"""

from __future__ import annotations

import torch
from torch import nn

from primekit.seeding import make_generator


class WeightSource(nn.Module):
    """Base class: ``read()`` returns the weights for one timestep.

    ``includes_pruning`` is True when pruned weights are already physically removed (RESET pairs on a
    chip); a subnet layer then uses the read weights as they are instead of multiplying by its mask.
    """

    includes_pruning: bool = False

    def read(self) -> torch.Tensor:
        raise NotImplementedError

    @property
    def shape(self) -> torch.Size:
        return self.read().shape


class FrozenWeights(WeightSource):
    """Fixed weights given as a tensor (stored as a buffer: saved with the model, never trained)."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
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
        std: standard deviation before scaling (PRIME: 6.352, read as uS of ``G+ - G-``).
        scale: multiplier (PRIME: 0.01).
        seed: the draw's seed.
    """

    def __init__(self, shape, std: float = 6.352, scale: float = 0.01, seed: int = 0):
        if not std > 0 or not scale > 0:
            raise ValueError(f"std={std!r} and scale={scale!r} must be > 0")
        super().__init__(scale * std * torch.randn(tuple(shape), generator=make_generator(seed)))
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
