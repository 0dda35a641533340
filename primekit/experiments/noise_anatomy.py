"""Why networks differ under device noise: per-layer noise anatomy and decision margins.

- :func:`weight_noise_factor`: the weight-level noise one unit of relative cell noise causes on formed
  pairs (the secondary axis of the sweep figures);
- :func:`layer_noise_anatomy`: per layer of a deployed network, the RESET fraction, the weight magnitudes,
  the equivalent weight noise and the relative noise of the input current the neurons see, measured on the
  network's own inputs through forward hooks on the one evaluation path;
- :func:`sweep_margins` and :func:`flip_rate_by_ratio`: how far each sample's decision is from flipping
  (top-1 minus top-2 of the time-mean output) against how much noise moves that output, from the runs a
  :func:`primekit.experiments.noise_sweep.noise_sweep` recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from primekit import cache
from primekit.chip.deploy import ChipWeights, deploy
from primekit.chip.memristor import MemristorConfig, equivalent_weight_noise, form
from primekit.experiments.noise_sweep import NoiseSweep
from primekit.inference.evaluate import BATCH_SIZE, run_split

# ---------------------------------------------------------------------------------------------------
# Why networks differ: weight noise and current noise per layer, decision margins
# ---------------------------------------------------------------------------------------------------


def weight_noise_factor(config: MemristorConfig = MemristorConfig(), shape=(256, 256), seed: int = 0) -> float:
    """Equivalent weight noise per unit of cell noise for *formed* pairs of ``config`` (the secondary
    axis of the sweep figures): cell noise ``s`` is weight noise ``s * factor`` (about 4.6 by default)."""
    noiseless = config.with_noise(programming=0.0, read=0.0)
    return equivalent_weight_noise(form(shape, noiseless, seed), 1.0, noiseless)


@dataclass(frozen=True)
class LayerNoise:
    """How one layer of a deployed network turns cell noise into noise its neurons see.

    Attributes:
        layer: module name.
        pairs: number of differential pairs.
        reset_fraction: fraction of pairs RESET (pruned).
        kept_weight_std_us: std of ``G+ - G-`` over the pairs that are not RESET (µS).
        cell_rms_us: root-mean-square conductance of all cells (µS): what relative noise scales with.
        weight_noise: equivalent weight noise per unit cell noise (:func:`equivalent_weight_noise` at
            level 1): at cell noise ``s`` the weights are perturbed by ``s * weight_noise`` of their spread.
        current_noise: expected RMS noise of the layer's output current per unit cell noise, relative to
            the RMS of the noiseless current, on the network's own inputs (one read, upstream noiseless).
    """

    layer: str
    pairs: int
    reset_fraction: float
    kept_weight_std_us: float
    cell_rms_us: float
    weight_noise: float
    current_noise: float


def _noise_variance(module: nn.Module, x: torch.Tensor, cell_power: torch.Tensor) -> torch.Tensor:
    """Per-output variance of ``module``'s output when every weight has independent variance ``cell_power``
    (the layer's own map, :class:`primekit.snn.weight_sources.LayerMap`, on the squared inputs)."""
    return module.layer_map(x.pow(2), cell_power)


def layer_noise_anatomy(model: nn.Module, split, memristor: MemristorConfig = MemristorConfig(), *, index=None,
                        seed: int = 0, batch_size: int = BATCH_SIZE) -> list[LayerNoise]:
    """Per layer of ``model`` deployed noiselessly (chip ``seed``): RESET fraction, weight magnitudes,
    equivalent weight noise and input-current noise per unit of cell noise (see :class:`LayerNoise`).

    Cell noise ``s`` on a cell of conductance ``G`` has variance ``(s G)^2``; a weight
    ``w = kappa (G+ - G-)`` then has variance ``(s kappa)^2 (G+^2 + G-^2)``, and the current
    ``sum_i x_i w_ij`` has variance ``(s kappa)^2 sum_i x_i^2 (G+_ij^2 + G-_ij^2)`` (cells independent;
    clipping ignored). ``current_noise`` is the root of the mean of that variance (``s = 1``) over all
    neurons, steps and samples, divided by the RMS noiseless current: the relative error the neurons
    see, per unit of cell noise, for the inputs the layer really receives (``index`` selects samples).
    """
    noiseless = memristor.with_noise(programming=0.0, read=0.0)
    chip, _ = deploy(model, noiseless, seed)
    layers = {name: module for name, module in chip.named_modules()
              if isinstance(getattr(module, "weight_source", None), ChipWeights)}
    sums = {name: [0.0, 0.0] for name in layers}  # noise variance, signal power (summed)
    hooks = {}
    for name, module in layers.items():
        source = module.weight_source
        cell_power = noiseless.weight_scale ** 2 * (source.g_plus.double() ** 2 + source.g_minus.double() ** 2)

        def hook(mod, inputs, output, name=name, cell_power=cell_power):
            variance = _noise_variance(mod, inputs[0].double(), cell_power)
            sums[name][0] += variance.sum().item()
            sums[name][1] += output.double().pow(2).sum().item()

        hooks[name] = hook
    run_split(chip, split, batch_size=batch_size, index=index, keep_outputs=False, hooks=hooks)
    rows = []
    for name, module in layers.items():
        pairs = module.weight_source.pairs
        difference = pairs.g_plus - pairs.g_minus
        kept = ~pairs.reset if pairs.reset is not None else torch.ones_like(difference, dtype=torch.bool)
        cells = torch.cat([pairs.g_plus.flatten(), pairs.g_minus.flatten()])
        noise, signal = sums[name]
        rows.append(LayerNoise(
            layer=name, pairs=difference.numel(), reset_fraction=1.0 - kept.double().mean().item(),
            kept_weight_std_us=difference[kept].std().item(), cell_rms_us=cells.pow(2).mean().sqrt().item(),
            weight_noise=equivalent_weight_noise(pairs, 1.0, noiseless),
            current_noise=math.sqrt(noise / signal) if signal > 0 else float("inf"),
        ))
    return rows


def cached_layer_noise_anatomy(model: nn.Module, split, memristor: MemristorConfig = MemristorConfig(), *,
                               index=None, seed: int = 0) -> list[LayerNoise]:
    """:func:`layer_noise_anatomy`, cached by the network's content, the device, the samples and the chip seed."""
    from primekit.experiments.cached_runs import model_fingerprint
    from primekit.experiments.training import frames_fingerprint

    chosen = None if index is None else np.asarray(index).tolist()
    key = {"model": model_fingerprint(model), "memristor": memristor, "index": chosen, "seed": seed}
    return cache.load_or_run("noise-anatomy", key,
                             lambda: layer_noise_anatomy(model, split, memristor, index=index, seed=seed),
                             data_fingerprint=frames_fingerprint(split))


class Margins(NamedTuple):
    """Decision margins of a network on its chips and how noise moves its output, one entry per
    (chip, sample) pair, flattened chip-major: ``[chips * samples]``.

    Attributes:
        margin: top-1 minus top-2 of the noiseless chip's time-mean output (output units).
        noise: RMS over classes of the change of the time-mean output under noise (output units).
        correct: whether the noiseless prediction is right (bool).
        flipped: whether the noisy prediction differs from the noiseless one (bool).
    """

    margin: np.ndarray
    noise: np.ndarray
    correct: np.ndarray
    flipped: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        """Margin in units of the output noise, ``margin / noise`` (the decision's safety factor)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.margin / self.noise


def sweep_margins(sweep: NoiseSweep, method: str, kind: str, level: float) -> Margins:
    """Margins of ``method``'s noiseless chips (level 0) and the output change each chip suffers at
    ``level`` of noise ``kind``: chip ``c`` at ``level`` is compared with the same chip without noise."""
    m, k = sweep._index(method, kind)
    for needed in (0.0, level):
        if needed not in sweep.config.levels:
            raise ValueError(f"level={needed!r} is not in this sweep; it has {sweep.config.levels}")
    quiet = sweep.logits[m, k, sweep.config.levels.index(0.0)].astype(np.float64)   # [chips, N, classes]
    noisy = sweep.logits[m, k, sweep.config.levels.index(level)].astype(np.float64)
    top2 = -np.sort(-quiet, axis=-1)[..., :2]
    prediction = quiet.argmax(axis=-1)
    return Margins(
        margin=(top2[..., 0] - top2[..., 1]).ravel(),
        noise=np.sqrt(((noisy - quiet) ** 2).mean(axis=-1)).ravel(),
        correct=(prediction == sweep.labels[None, :]).ravel(),
        flipped=(noisy.argmax(axis=-1) != prediction).ravel(),
    )


def flip_rate_by_ratio(margins: Margins, edges: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """``(fraction flipped, count)`` of the (chip, sample) pairs in each bin ``[edges[i], edges[i+1])``
    of :attr:`Margins.ratio` (NaN where a bin is empty)."""
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges={edges.tolist()!r} must be at least two strictly increasing values")
    which = np.digitize(margins.ratio, edges) - 1
    counts = np.array([(which == b).sum() for b in range(len(edges) - 1)])
    flipped = np.array([margins.flipped[which == b].sum() for b in range(len(edges) - 1)], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, flipped / np.maximum(counts, 1), np.nan), counts
