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
from dataclasses import dataclass, replace

import torch
from torch import nn

from primekit.checks import is_number
from primekit.chip.memristor import MemristorConfig, Pairs, program, read, reset_pruned, weights_to_pairs
from primekit.seeding import derive_seed, make_generator
from primekit.snn.weight_sources import WeightSource


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

    def __init__(self, pairs: Pairs, config: MemristorConfig = MemristorConfig(), read_seed: int = 0,
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
        return read(self.pairs, self.config, self._generator).weights(self.config)

    def extra_repr(self) -> str:
        return (f"shape={tuple(self.shape)}, read_noise={self.config.read_noise}, "
                f"includes_pruning={self.includes_pruning}")


@dataclass(frozen=True)
class DeployReport:
    """What :func:`deploy` did to each layer (keyed by module name)."""

    clipped_cells: dict[str, int]
    reset_pairs: dict[str, int]
    pairs: dict[str, int]


def deploy(model: nn.Module, config: MemristorConfig = MemristorConfig(), seed: int = 0) -> tuple[nn.Module, DeployReport]:
    """A copy of ``model`` running on a simulated chip; the original is untouched.

    For every submodule with a ``weight_source``: its weights become pairs (a :class:`ChipWeights`
    source keeps its formed conductances; other sources are mapped with
    :func:`primekit.chip.memristor.weights_to_pairs`, clipped cells counted), the pairs it prunes (its
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
                pairs, n_clipped = weights_to_pairs(source.read().detach(), config)
        keep = module.keep_mask() if hasattr(module, "keep_mask") else None
        if keep is not None:
            pairs = reset_pruned(pairs, keep.detach(), config, derive_seed(seed, "reset", name))
        pairs = program(pairs, config, derive_seed(seed, "program", name))
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



def deploy_range_filling(model: nn.Module, memristor: MemristorConfig = MemristorConfig(), seed: int = 0, *,
                         fill: float = 1.0) -> tuple[nn.Module, dict[str, float]]:
    """Like :func:`primekit.chip.deploy.deploy`, but every mapped layer gets its own ``weight_scale``.

    :func:`~primekit.chip.deploy.deploy` maps every layer with the device's ``weight_scale`` (``kappa``), so
    a layer of small weights uses only a sliver of the conductance range around ``G_mid``, where
    relative cell noise is large compared with its weights. Here layer ``l`` gets
    ``kappa_l = max|w_kept| / (fill * (g_max - g_min))``: its largest kept weight spans ``fill`` of the
    range (``G+ = g_max, G- = g_min`` for ``fill = 1``), so nothing is clipped. The weights themselves
    are unchanged (``w = kappa_l (G+ - G-)``). Layers already on a formed chip
    (:class:`~primekit.chip.deploy.ChipWeights`) keep their conductances and scale: their weights *are*
    the conductances. RESET, programming noise and read noise use the same per-layer seeds as
    :func:`~primekit.chip.deploy.deploy`, so the same ``seed`` gives the same random draws.

    Returns:
        The chip model and the ``weight_scale`` used for each layer (network weight per uS).
    """
    if not (is_number(fill) and 0 < fill <= 1):
        raise ValueError(f"fill={fill!r} must be in (0, 1] (the fraction of the conductance range the largest weight spans)")
    chip_model = copy.deepcopy(model)
    scales = {}
    for name, module in chip_model.named_modules():
        source = getattr(module, "weight_source", None)
        if not isinstance(source, WeightSource):
            continue
        keep = module.keep_mask() if hasattr(module, "keep_mask") else None
        if isinstance(source, ChipWeights):
            layer_memristor, pairs = replace(memristor, weight_scale=source.config.weight_scale), Pairs(source.g_plus, source.g_minus)
        else:
            with torch.no_grad():
                weights = source.read().detach()
            kept = weights if keep is None else weights[keep]
            largest = kept.abs().max().item()
            if largest == 0:
                raise ValueError(f"layer {name!r} keeps only zero weights: no scale maps them")
            layer_memristor = replace(memristor, weight_scale=largest / (fill * (memristor.g_max_us - memristor.g_min_us)))
            pairs, _ = weights_to_pairs(weights, layer_memristor)
        if keep is not None:
            pairs = reset_pruned(pairs, keep.detach(), layer_memristor, derive_seed(seed, "reset", name))
        pairs = program(pairs, layer_memristor, derive_seed(seed, "program", name))
        module.weight_source = ChipWeights(pairs, layer_memristor, derive_seed(seed, "read", name),
                                           includes_pruning=keep is not None)
        scales[name] = layer_memristor.weight_scale
    if not scales:
        raise ValueError("deploy_range_filling found no layer with a weight_source: nothing to put on the chip")
    return chip_model, scales
