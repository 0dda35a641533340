"""A model on a simulated memristor chip: :class:`ChipWeights` and :func:`deploy`.

:class:`ChipWeights` is a weight source (:mod:`primekit.snn.weight_sources`) whose weights are held by
memristor pairs, ``weight_scale * (G+ - G-)``, and whose every read carries the cells' read noise.

:func:`deploy` puts a trained model on a simulated chip without touching its code: every layer that
has a ``weight_source`` gets a :class:`ChipWeights` holding its weights as programmed pairs (pruned pairs
RESET, programming noise of the chip's seed), read with the device's read noise.
:func:`deploy_range_filling` does the same with a ``weight_scale`` per layer chosen so that each layer's
largest kept weight spans the conductance range; both are one implementation with the mapping of
weights to pairs as its parameter.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Callable

import torch
from torch import nn

from primekit.checks import is_number
from primekit.chip.memristor import (
    MemristorConfig,
    Pairs,
    form,
    program,
    read,
    reset_pruned,
    weight_noise_variance,
    weights_to_pairs,
)
from primekit.seeding import derive_seed
from primekit.snn import draws
from primekit.snn.weight_sources import LayerMap, WeightSource


class ChipWeights(WeightSource):
    """Weights held by memristor pairs: ``weight_scale * (G+ - G-)`` (``kappa``, conductances in µS).

    ``read()`` returns the noise-free weights. ``apply`` computes a layer's output currents from the cells
    as a chip reads them: every read draws the device's read noise afresh (``config.noise_model``; cell-relative:
    every cell of conductance ``G`` is seen as ``G (1 + read_noise * eps)``, ``eps ~ N(0, 1)``, so weight
    ``w_ij`` has read-noise variance ``(kappa * read_noise)^2 (G+_ij^2 + G-_ij^2)``; weight-relative:
    ``(read_noise * w_ij)^2``). Two read modes (``config.read_mode``):

    - ``"per-sample"`` (default): every sample gets its own read at every step, as a chip that processes
      samples one by one. The output current is its noiseless mean (the map with ``kappa (G+ - G-)``) plus
      a Gaussian current whose per-output variance is the same map applied to the squared inputs with the
      squared per-weight noise scales, ``sum_i x_i^2 var(w_i)`` (:meth:`noise_variance`). This is exact
      in the mean and in each output's variance as long as no read cell clips at the device range; as a
      model it treats the outputs of one read as independent (on a real array two outputs that share
      input rows share nothing, but a convolution reuses each cell at every output position, which the
      model does not correlate). The Gaussian values come from streams keyed by (the run's seed, this
      layer's ``read_seed``, the sample's index in its split, the step) (:mod:`primekit.snn.draws`), so a
      sample's reads never depend on its batch.
    - ``"per-step"``: one cell-level read (:func:`primekit.chip.memristor.read`, clipped to the device range)
      per step serves the whole batch, keyed by (run seed, ``read_seed``, step) only, so it is still the
      same whichever samples share the batch; the samples of a step see the same, correlated noise.

    Zero read noise gives exactly the noiseless map. A bias is added after the read, digitally, without
    noise. Outside the evaluation path (no keys set, e.g. ``model.run(x)``), a layer keys its draws by
    batch position and its own count of reads (restarted by :meth:`reseed` / :func:`reseed_reads`).

    Args:
        pairs: the conductances (µS).
        config: the device (its ``read_noise``, ``read_mode`` and ``weight_scale`` are used here).
        read_seed: this layer's stream key for read noise (see :meth:`reseed`).
        includes_pruning: True for a deployed chip whose pruned pairs are RESET.
    """

    def __init__(self, pairs: Pairs, config: MemristorConfig = MemristorConfig(), read_seed: int = 0,
                 includes_pruning: bool = False):
        super().__init__()
        if not isinstance(config, MemristorConfig):
            raise ValueError(f"config must be a MemristorConfig, got {type(config).__name__}")
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
        """Set this layer's read-noise stream key (and restart the read count used outside the evaluation path)."""
        if isinstance(read_seed, bool) or not isinstance(read_seed, int) or not 0 <= read_seed < 2**64:
            raise ValueError(f"read_seed={read_seed!r} must be an integer in [0, 2**64)")
        self.read_seed = read_seed
        self._reads = 0

    @property
    def draws_per_read(self) -> bool:
        """True with read noise: every read draws keyed values, so the layer runs step by step."""
        return self.config.read_noise != 0

    def read(self) -> torch.Tensor:
        """The noise-free weights ``weight_scale * (G+ - G-)``."""
        return self.pairs.weights(self.config)

    def noise_variance(self) -> torch.Tensor:
        """Each weight's read-noise variance (weight units^2) under the device's ``noise_model``: cell-relative
        ``(weight_scale * read_noise)^2 (G+^2 + G-^2)``, weight-relative ``(read_noise * w)^2``
        (:func:`primekit.chip.memristor.weight_noise_variance`)."""
        return weight_noise_variance(self.pairs, self.config.read_noise, self.config)

    def _keys(self, batch_size: int) -> draws.DrawKeys:
        keys = draws.current_keys()
        if keys is None:
            keys = draws.fallback_keys(batch_size, self._reads)
            self._reads += 1
        elif len(keys.samples) != batch_size:
            raise ValueError(f"the draw keys name {len(keys.samples)} samples but the layer's input has a batch "
                             f"of {batch_size}: set keys for exactly the samples in the batch")
        return keys

    def apply(self, x: torch.Tensor, layer_map: LayerMap, mask: torch.Tensor | None = None,
              bias: torch.Tensor | None = None) -> torch.Tensor:
        weight = self.read()
        if mask is not None:
            weight = weight * mask
        if self.config.read_noise == 0:
            return layer_map(x, weight, bias)
        keys = self._keys(x.shape[0])
        if self.config.read_mode == "per-step":
            cells = read(self.pairs, self.config, draws.shared_generator(self.read_seed, keys.step, keys.seed))
            noisy = cells.weights(self.config)
            return layer_map(x, noisy if mask is None else noisy * mask, bias)
        mean = layer_map(x, weight, bias)
        variance_kernel = self.noise_variance()
        if mask is not None:
            variance_kernel = variance_kernel * mask
        variance = layer_map(x * x, variance_kernel)
        if torch.is_grad_enabled() and (mean.requires_grad or variance.requires_grad):
            noise = draws.table_normal(mean.shape[1:], self.read_seed, keys, dtype=mean.dtype).to(mean.device)
            return torch.addcmul(mean, variance.clamp_min(0.0).sqrt(), noise)
        return draws.add_noise(mean, variance, self.read_seed, keys, out=mean)  # in place, one pass

    def extra_repr(self) -> str:
        return (f"shape={tuple(self.shape)}, read_noise={self.config.read_noise}, "
                f"read_mode={self.config.read_mode!r}, includes_pruning={self.includes_pruning}")


@dataclass(frozen=True)
class DeployReport:
    """What :func:`deploy` did to each layer (keyed by module name)."""

    clipped_cells: dict[str, int]
    reset_pairs: dict[str, int]
    pairs: dict[str, int]


#: A mapping of one layer's weights onto pairs: ``(name, source, keep) -> (pairs, layer device, clipped cells)``.
Mapping = Callable[[str, WeightSource, "torch.Tensor | None"], tuple[Pairs, MemristorConfig, int]]


def written_pairs(source: WeightSource, keep: torch.Tensor | None, device: MemristorConfig) -> torch.Tensor | None:
    """The pairs a method writes when it is put on a chip (bool mask; None: every pair).

    Weights that come from software (trained or random) are written to target conductances: every pair.
    A layer already on a formed chip (:class:`ChipWeights`, Memristor Pruning) keeps its kept cells as
    formed - never written - so its only programming events are the RESETs of its pruned pairs. With
    ``device.programming_targets == "every-cell"`` every pair counts as written (the as-formed cells too).
    """
    if not isinstance(source, ChipWeights) or device.programming_targets == "every-cell":
        return None
    return torch.zeros(source.shape, dtype=torch.bool) if keep is None else ~keep.detach()


def _place(model: nn.Module, seed: int, mapping: Mapping, caller: str,
           only=None) -> tuple[nn.Module, dict[str, dict]]:
    """The one deployment loop: a copy of ``model`` whose every weight source is a programmed chip.

    For every submodule with a ``weight_source``: ``mapping`` gives its pairs and device, the pairs it
    prunes (its ``keep_mask()``, if any) are RESET, the pairs it writes (:func:`written_pairs`) get the
    device's programming noise, and the layer reads them through a :class:`ChipWeights`; RESET, programming
    and reads use the per-layer seeds ``derive_seed(seed, "reset" | "program" | "read", name)``.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    chip_model = copy.deepcopy(model)
    records = {}
    if only is not None:
        only = set(only)
        unknown = only - {name for name, m in model.named_modules() if isinstance(getattr(m, "weight_source", None), WeightSource)}
        if unknown:
            raise ValueError(f"only names {sorted(unknown)}, which are not layers with a weight_source")
    for name, module in chip_model.named_modules():
        source = getattr(module, "weight_source", None)
        if not isinstance(source, WeightSource) or (only is not None and name not in only):
            continue
        keep = module.keep_mask() if hasattr(module, "keep_mask") else None
        with torch.no_grad():
            pairs, device, clipped = mapping(name, source, keep)
        if keep is not None:
            pairs = reset_pruned(pairs, keep.detach(), device, derive_seed(seed, "reset", name))
        pairs = program(pairs, device, derive_seed(seed, "program", name), written_pairs(source, keep, device))
        module.weight_source = ChipWeights(pairs, device, derive_seed(seed, "read", name),
                                           includes_pruning=keep is not None)
        records[name] = {"clipped": clipped, "reset": 0 if keep is None else int((~keep).sum()),
                         "pairs": pairs.g_plus.numel(), "weight_scale": device.weight_scale}
    if not records:
        raise ValueError(f"{caller} found no layer with a weight_source: nothing to put on the chip")
    return chip_model, records


def deploy(model: nn.Module, config: MemristorConfig = MemristorConfig(), seed: int = 0, *,
           only=None) -> tuple[nn.Module, DeployReport]:
    """A copy of ``model`` running on a simulated chip; the original is untouched.

    ``only``: names of the layers to put on the chip (None: every layer with a ``weight_source``); the others
    stay digital (e.g. the spiking VAE's trained posterior and prior, :meth:`primekit.snn.vae.SpikingVAE.pruned_layers`).

    Every layer is mapped with the device's ``weight_scale``: a :class:`ChipWeights` source keeps its formed
    conductances; other sources are mapped with :func:`primekit.chip.memristor.weights_to_pairs` (clipped
    cells counted). Then RESET, programming noise (``config.programming_noise`` on the pairs each method
    writes, :func:`written_pairs`; seeded per layer from ``seed``) and reads with ``config.read_noise`` in
    ``config.read_mode``, both under ``config.noise_model`` (see :func:`_place`).
    """
    if not isinstance(config, MemristorConfig):
        raise ValueError(f"config must be a MemristorConfig, got {type(config).__name__}")

    def device_scale(name, source, keep):
        if isinstance(source, ChipWeights):
            if source.config.weight_scale != config.weight_scale:
                raise ValueError(f"layer {name!r} was formed with weight_scale={source.config.weight_scale}, the device "
                                 f"given has weight_scale={config.weight_scale}: its weights would change; deploy with "
                                 f"the chip's own weight_scale")
            return Pairs(source.g_plus, source.g_minus), config, 0
        pairs, clipped = weights_to_pairs(source.read().detach(), config)
        return pairs, config, clipped

    chip_model, records = _place(model, seed, device_scale, "deploy", only)
    return chip_model, DeployReport({n: r["clipped"] for n, r in records.items()},
                                    {n: r["reset"] for n, r in records.items()},
                                    {n: r["pairs"] for n, r in records.items()})


def deploy_range_filling(model: nn.Module, memristor: MemristorConfig = MemristorConfig(), seed: int = 0, *,
                         fill: float = 1.0) -> tuple[nn.Module, dict[str, float]]:
    """Like :func:`deploy`, but every mapped layer gets its own ``weight_scale``.

    :func:`deploy` maps every layer with the device's ``weight_scale`` (``kappa``), so a layer of small
    weights uses only a sliver of the conductance range around ``G_mid``, where relative cell noise is
    large compared with its weights. Here layer ``l`` gets ``kappa_l = max|w_kept| / (fill * (g_max -
    g_min))``: its largest kept weight spans ``fill`` of the range (``G+ = g_max, G- = g_min`` for
    ``fill = 1``), so nothing is clipped. The weights themselves are unchanged (``w = kappa_l (G+ - G-)``).
    Layers already on a formed chip (:class:`ChipWeights`) keep their conductances and scale: their weights
    *are* the conductances. RESET, programming noise and read noise use the same per-layer seeds as
    :func:`deploy`, so the same ``seed`` gives the same random draws.

    Returns:
        The chip model and the ``weight_scale`` used for each layer (network weight per µS).
    """
    if not (is_number(fill) and 0 < fill <= 1):
        raise ValueError(f"fill={fill!r} must be in (0, 1] (the fraction of the conductance range the largest weight spans)")
    if not isinstance(memristor, MemristorConfig):
        raise ValueError(f"memristor must be a MemristorConfig, got {type(memristor).__name__}")

    def layer_scale(name, source, keep):
        if isinstance(source, ChipWeights):
            return (Pairs(source.g_plus, source.g_minus),
                    replace(memristor, weight_scale=source.config.weight_scale), 0)
        weights = source.read().detach()
        largest = (weights if keep is None else weights[keep]).abs().max().item()
        if largest == 0:
            raise ValueError(f"layer {name!r} keeps only zero weights: no scale maps them")
        device = replace(memristor, weight_scale=largest / (fill * (memristor.g_max_us - memristor.g_min_us)))
        pairs, clipped = weights_to_pairs(weights, device)
        return pairs, device, clipped

    chip_model, records = _place(model, seed, layer_scale, "deploy_range_filling")
    return chip_model, {n: r["weight_scale"] for n, r in records.items()}


def reseed_reads(model: nn.Module, seed: int) -> None:
    """Give every chip layer of ``model`` the read-noise stream key ``derive_seed(seed, "read", name)``.

    The evaluation path keys each draw by (its ``read_seed``, this layer key, sample, step), so per-batch
    reseeding is no longer needed; this remains to pick another set of chip reads for a model evaluated with
    the same ``read_seed`` (and restarts the read count used when a model is run outside the evaluation path).
    """
    for name, module in model.named_modules():
        if isinstance(module, ChipWeights):
            module.reseed(derive_seed(seed, "read", name))


def on_fresh_chip(model: nn.Module, seed: int, config: MemristorConfig | None = None) -> nn.Module:
    """A copy of ``model`` whose as-formed chip layers (:class:`ChipWeights`) are replaced by a freshly formed
    chip: the same device, other random conductances (layer ``name`` formed with ``derive_seed(seed, "chip",
    name)``), the same scores and so the same topology. Other layers are untouched.

    This is the *chip transfer* experiment: a topology trained on one chip's random conductances, used on
    another chip. ``config``: the device to form (default: each layer's own).
    """
    if config is not None and not isinstance(config, MemristorConfig):
        raise ValueError(f"config must be a MemristorConfig or None, got {type(config).__name__}")
    fresh = copy.deepcopy(model)
    replaced = 0
    for name, module in fresh.named_modules():
        source = getattr(module, "weight_source", None)
        if isinstance(source, ChipWeights):
            if source.includes_pruning:
                raise ValueError(f"layer {name!r} is already deployed (its pruned pairs are RESET): move the trained "
                                 f"model to a fresh chip, then deploy it")
            device = config or source.config
            pairs = form(source.shape, device, derive_seed(seed, "chip", name))
            module.weight_source = ChipWeights(pairs, device, source.read_seed, source.includes_pruning)
            replaced += 1
    if replaced == 0:
        raise ValueError("model has no as-formed chip layer (ChipWeights): nothing to move to a fresh chip")
    return fresh
