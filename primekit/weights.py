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

import copy
from dataclasses import dataclass

import torch
from torch import nn

from . import memristor
from .memristor import DeviceConfig, Pairs
from .seeding import derive_seed, make_generator


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


class ChipWeights(WeightSource):
    """Weights held by memristor pairs: ``weight_scale * (G+ - G-)``, with fresh read noise per read.

    One read serves a whole batch at one timestep, so the samples of a batch share that step's read
    noise (a chip processing them one by one would draw independent reads: evaluate with batch size 1
    when that matters).

    Args:
        pairs: the conductances (uS).
        config: the device (its ``read_noise`` and ``weight_scale`` are used here).
        read_seed: seed of the read-noise generator (see :meth:`reseed`).
        includes_pruning: True for a deployed chip whose pruned pairs are RESET.
    """

    def __init__(self, pairs: Pairs, config: DeviceConfig = DeviceConfig(), read_seed: int = 0,
                 includes_pruning: bool = False):
        super().__init__()
        self.config = config
        self.includes_pruning = includes_pruning
        self.register_buffer("g_plus", pairs.g_plus.clone())
        self.register_buffer("g_minus", pairs.g_minus.clone())
        self.register_buffer("reset", None if pairs.reset is None else pairs.reset.clone())
        self.reseed(read_seed)

    @property
    def pairs(self) -> Pairs:
        return Pairs(self.g_plus, self.g_minus, self.reset)

    @property
    def shape(self) -> torch.Size:
        return self.g_plus.shape

    def reseed(self, read_seed: int) -> None:
        """Restart the read-noise sequence (the same seed gives the same sequence of reads)."""
        self.read_seed = read_seed
        self._generator = make_generator(read_seed)

    def read(self) -> torch.Tensor:
        if self.config.read_noise == 0:
            return self.pairs.weights(self.config)
        return memristor.read(self.pairs, self.config, self._generator).weights(self.config)

    def extra_repr(self) -> str:
        return (f"shape={tuple(self.shape)}, read_noise={self.config.read_noise}, "
                f"includes_pruning={self.includes_pruning}")


@dataclass(frozen=True)
class DeployReport:
    """What :func:`deploy` did to each layer (keyed by module name)."""

    clipped_cells: dict[str, int]
    reset_pairs: dict[str, int]
    pairs: dict[str, int]


def deploy(model: nn.Module, config: DeviceConfig = DeviceConfig(), seed: int = 0) -> tuple[nn.Module, DeployReport]:
    """A copy of ``model`` running on a simulated chip; the original is untouched.

    For every submodule with a ``weight_source``: its weights become pairs (a :class:`ChipWeights`
    source keeps its formed conductances; other sources are mapped with
    :func:`primekit.memristor.weights_to_pairs`, clipped cells counted), the pairs it prunes (its
    ``keep_mask()``, if it has one) are RESET, the chip is programmed with ``config.programming_noise``
    (seeded per layer from ``seed``), and reads carry ``config.read_noise``.
    """
    chip_model = copy.deepcopy(model)
    clipped, reset, sizes = {}, {}, {}
    for name, module in chip_model.named_modules():
        source = getattr(module, "weight_source", None)
        if not isinstance(source, WeightSource):
            continue
        if isinstance(source, ChipWeights):
            pairs, n_clipped = Pairs(source.g_plus, source.g_minus), 0
        else:
            with torch.no_grad():
                pairs, n_clipped = memristor.weights_to_pairs(source.read().detach(), config)
        keep = module.keep_mask() if hasattr(module, "keep_mask") else None
        if keep is not None:
            pairs = memristor.reset_pruned(pairs, keep.detach(), config, derive_seed(seed, "reset", name))
        pairs = memristor.program(pairs, config, derive_seed(seed, "program", name))
        module.weight_source = ChipWeights(pairs, config, derive_seed(seed, "read", name),
                                           includes_pruning=keep is not None)
        clipped[name] = n_clipped
        reset[name] = 0 if keep is None else int((~keep).sum())
        sizes[name] = pairs.g_plus.numel()
    if not sizes:
        raise ValueError("deploy found no layer with a weight_source: nothing to put on the chip")
    return chip_model, DeployReport(clipped, reset, sizes)


def reseed_reads(model: nn.Module, seed: int) -> None:
    """Restart the read noise of every chip layer in ``model`` (for reproducible noisy evaluations)."""
    for name, module in model.named_modules():
        if isinstance(module, ChipWeights):
            module.reseed(derive_seed(seed, "read", name))
