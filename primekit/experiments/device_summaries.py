"""The Memristor noise chapter's measurements: the device's parameters, a formed array, pruning, re-programming
cycles, read traces, the read-noise table, and a tiny layer on two chips.

Conductances are in microsiemens (µS), weights in network units (``weight_scale`` per µS of ``G+ - G-``),
noise levels relative (0.02 = 2 %). Every function returns a dict of named numbers (the chapter glues them
under a prefix) or a :class:`primekit.tables.Table`; ``tests/test_device_summaries.py`` checks them on
hand-made arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

from primekit.chip import memristor
from primekit.chip.memristor import MemristorConfig, Pairs
from primekit.seeding import derive_seed, make_generator
from primekit.snn.models import SOFTWARE_STD
from primekit.tables import Table, percent


def device_parameters(config: MemristorConfig) -> dict:
    """The device's settings as the chapter's parameter table quotes them.

    Keys: ``g_mean``, ``g_device_spread``, ``g_cycle_spread``, ``g_formed_spread``, ``g_min``, ``g_max``,
    ``g_reset``, ``g_reset_spread`` (µS), ``read_voltage`` (V), ``weight_scale`` (per µS), ``default_noise``
    (the read-noise level), ``pair_spread_us`` (spread of ``G+ - G-`` of two independent formed cells,
    sqrt(2) x the formed spread) and ``authors_std`` (the spread of the authors' software weights, read as µS).
    """
    return {"g_mean": config.g_mean_us, "g_device_spread": config.g_device_spread_us,
            "g_cycle_spread": config.g_cycle_spread_us, "g_formed_spread": config.g_formed_spread_us,
            "g_min": config.g_min_us, "g_max": config.g_max_us, "g_reset": config.g_reset_us,
            "g_reset_spread": config.g_reset_spread_us, "read_voltage": config.read_voltage_v,
            "weight_scale": config.weight_scale, "default_noise": config.read_noise,
            "pair_spread_us": math.sqrt(2) * config.g_formed_spread_us, "authors_std": SOFTWARE_STD}


def amplification(config: MemristorConfig) -> float:
    """Weight noise over cell noise for formed pairs: ``sqrt(g_mean^2 + s^2) / s`` with s the formed spread."""
    s = config.g_formed_spread_us
    return math.hypot(config.g_mean_us, s) / s


def formed_array_summary(pairs: Pairs, config: MemristorConfig) -> dict:
    """Statistics of a formed array's cells (``G+`` and ``G-`` together) and of its pair differences.

    Keys: ``cells`` (number of cells), ``mean``, ``std`` (µS), ``clipped`` (cells at or beyond the device
    range) and ``clipped_text`` (the same in words: "no cell hits the device range"), ``pair_std`` (std of ``G+ - G-``, µS), ``within_1sd`` (fraction of cells within one std of the
    mean) and ``normal_within_1sd`` (the same for a normal distribution, erf(1 / sqrt 2)).
    """
    cells = torch.cat([pairs.g_plus.flatten(), pairs.g_minus.flatten()]).double()
    mean, std = cells.mean(), cells.std()
    clipped = int(((cells <= config.g_min_us) | (cells >= config.g_max_us)).sum())
    clipped_text = {0: "no cell hits", 1: "1 cell hits"}.get(clipped, f"{clipped:,} cells hit") + " the device range"
    return {"cells": cells.numel(), "mean": mean.item(), "std": std.item(),
            "clipped": clipped, "clipped_text": clipped_text,
            "pair_std": (pairs.g_plus - pairs.g_minus).double().std().item(),
            "within_1sd": ((cells - mean).abs() < std).double().mean().item(),
            "normal_within_1sd": math.erf(1 / math.sqrt(2))}


def pruning_summary(before: Pairs, after: Pairs, keep: torch.Tensor, config: MemristorConfig) -> dict:
    """What RESET did to an array (``keep``: True for kept pairs).

    Keys: ``pairs``, ``reset_count``, ``reset_cell_mean`` (µS, both cells of the RESET pairs), ``reset_weight_std``
    and ``reset_weight_max`` (``|w|``) of the RESET pairs, ``kept_weight_std``, and ``kept_unchanged`` (True when
    every kept pair's weight is exactly what it was before).
    """
    keep = torch.as_tensor(keep, dtype=torch.bool)
    if keep.shape != after.g_plus.shape:
        raise ValueError(f"keep has shape {tuple(keep.shape)}; the pairs have shape {tuple(after.g_plus.shape)}")
    w_before, w_after = before.weights(config), after.weights(config)
    reset_cells = torch.cat([after.g_plus[~keep], after.g_minus[~keep]])
    return {"pairs": keep.numel(), "reset_count": int((~keep).sum()), "reset_cell_mean": reset_cells.mean().item(),
            "reset_weight_std": w_after[~keep].std().item(), "reset_weight_max": w_after[~keep].abs().max().item(),
            "kept_weight_std": w_after[keep].std().item(),
            "kept_unchanged": bool(torch.equal(w_after[keep], w_before[keep]))}


def cycle_summary(cycles: torch.Tensor) -> dict:
    """Cells re-programmed many times (``cycles`` ``[cycles, cells]`` in µS).

    Keys: ``mean_spread`` (std over cells of each cell's mean), ``std_mean`` (mean over cells of each cell's
    std), ``std_range`` (largest minus smallest cell std) and ``corr`` (correlation of the cells' means and stds).
    """
    if cycles.dim() != 2 or cycles.shape[0] < 2 or cycles.shape[1] < 2:
        raise ValueError(f"cycles has shape {tuple(cycles.shape)}; expected [cycles >= 2, cells >= 2]")
    mean, std = cycles.mean(dim=0), cycles.std(dim=0)
    return {"mean_spread": mean.std().item(), "std_mean": std.mean().item(),
            "std_range": (std.max() - std.min()).item(),
            "corr": torch.corrcoef(torch.stack([mean, std]))[0, 1].item()}


def spread_cells(pool: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` values of ``pool`` spread over its range: the value nearest each of ``n`` evenly spaced targets."""
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n={n!r} must be an integer >= 2")
    pool = pool.flatten()
    targets = torch.linspace(pool.min().item(), pool.max().item(), n, dtype=pool.dtype)
    return pool[(pool[None, :] - targets[:, None]).abs().argmin(dim=1)]


def read_trace_summary(cells: torch.Tensor, traces: torch.Tensor) -> dict:
    """Many reads of a few cells (``cells`` ``[n]`` µS, ``traces`` ``[reads, n]`` µS).

    Keys: ``relative_std`` (std of every read's relative deviation from its cell), ``low_cell`` and
    ``low_cell_std`` (the smallest cell and the std of its reads, µS), ``high_cell`` and ``high_cell_std``.
    """
    if traces.dim() != 2 or traces.shape[1] != cells.numel():
        raise ValueError(f"traces has shape {tuple(traces.shape)}; expected [reads, {cells.numel()}]")
    low, high = int(cells.argmin()), int(cells.argmax())
    return {"relative_std": (traces / cells - 1).std().item(), "low_cell": cells[low].item(),
            "low_cell_std": traces[:, low].std().item(), "high_cell": cells[high].item(),
            "high_cell_std": traces[:, high].std().item()}


def weight_noise_monte_carlo(pairs: Pairs, levels: Sequence[float], config: MemristorConfig, seed: int) -> dict:
    """Read the array once per level and measure std(noisy w - w) / std(w); level -> that ratio."""
    ideal = pairs.weights(config)
    out = {}
    for level in levels:
        noisy = memristor.read(pairs, config.with_noise(read=level), make_generator(derive_seed(seed, level)))
        out[level] = ((noisy.weights(config) - ideal).std() / ideal.std()).item()
    return out


def read_noise_table(levels: Sequence[float], predicted: Mapping, weights_mc: Mapping, crossbar_mc: Mapping) -> Table:
    """One row per read-noise level (per cell): the predicted equivalent weight noise and the two Monte Carlo checks
    (on the weights, and on the crossbar's output), in percent."""
    rows = [(percent(level, 0), percent(predicted[level]), percent(weights_mc[level]), percent(crossbar_mc[level]))
            for level in levels]
    return Table.of(("cell noise", "predicted", "Monte Carlo, weights", "Monte Carlo, crossbar"), rows)


def chip_noise_summary(ideal: torch.Tensor, exact: torch.Tensor, chip_a: torch.Tensor, chip_b: torch.Tensor) -> dict:
    """A layer's outputs on chips against its noise-free software outputs (``ideal`` ``[out]``; the others ``[T, out]``).

    All values are relative to the mean ``|ideal output|``: ``exact_gap`` (largest ``|exact chip - ideal|``, absolute)
    and ``exact_gap_rel``; ``chip_a_offset``/``chip_b_offset`` (mean ``|time-mean output - ideal|``: the
    programming error, which averaging over time does not remove); ``chip_a_jitter`` (mean over outputs of
    the std over timesteps: the read noise).
    """
    scale = ideal.abs().mean().item()
    if scale == 0:
        raise ValueError("ideal is all zeros; relative errors need a non-zero output")
    gap = (exact - ideal).abs().max().item()
    return {"exact_gap": gap, "exact_gap_rel": gap / scale,
            "chip_a_offset": ((chip_a.mean(0) - ideal).abs().mean() / scale).item(),
            "chip_b_offset": ((chip_b.mean(0) - ideal).abs().mean() / scale).item(),
            "chip_a_jitter": (chip_a.std(0).mean() / scale).item()}


def shown_output_summary(ideal: torch.Tensor, chip_a: torch.Tensor, chip_b: torch.Tensor, shown: int) -> dict:
    """The output drawn over time (index ``shown``) on chips A and B (``ideal`` ``[out]``; chips ``[T, out]``).

    Keys: ``shown`` (the output's number, from 1), ``shown_a``/``shown_b`` (time-mean minus noise-free value,
    signed, relative to the typical output mean ``|ideal|``, as :func:`primekit.plots.plot_chip_offsets` draws it)
    and ``shown_text``, a clause such as "chip A's time-mean lies below the noise-free value by 21 % of the
    typical output and chip B's above it by 5 %", so the sentence follows the figure.
    """
    if not 0 <= shown < ideal.numel():
        raise ValueError(f"shown={shown!r} must index one of the {ideal.numel()} outputs")
    scale = ideal.abs().mean().item()
    if scale == 0:
        raise ValueError("ideal is all zeros; relative offsets need a non-zero output")
    a = ((chip_a[:, shown].mean() - ideal[shown]) / scale).item()
    b = ((chip_b[:, shown].mean() - ideal[shown]) / scale).item()

    def where(x, first):
        if not round(100 * abs(x)):
            return "on the noise-free value" if first else "on it"
        side = "above" if x > 0 else "below"
        return f"{side} the noise-free value by {percent(abs(x), 0)}" if first else f"{side} it by {percent(abs(x), 0)}"

    text = f"chip A's time-mean lies {where(a, True)} of the typical output and chip B's {where(b, False)}"
    if not round(100 * abs(a)):
        text = f"chip A's time-mean lies on the noise-free value and chip B's {where(b, True)} of the typical output"
    if not round(100 * abs(a)) and not round(100 * abs(b)):
        text = "both chips' time-means lie on the noise-free value (to 1 % of the typical output)"
    return {"shown": shown + 1, "shown_a": a, "shown_b": b, "shown_text": text}


def read_noise_summary(levels: torch.Tensor, predicted: torch.Tensor, simulated: torch.Tensor,
                       config: MemristorConfig, shown: Sequence[float] = (0.02, 0.10, 0.20)) -> dict:
    """The read-noise sweep at a few levels, named by percent (``level_2``, ``equiv_2``, ``sim_2``, ...).

    Args:
        levels: the swept read-noise levels ``[L]``; every level of ``shown`` must be one of them.
        predicted: ``equivalent_weight_noise`` at each level ``[L]``.
        simulated: the crossbar's mean relative output error at each level ``[L]``.

    Returns:
        Per shown level p (in percent): ``level_p``, ``equiv_p`` (predicted), ``sim_p`` (crossbar),
        ``envelope_p`` (p x :func:`amplification`), ``cell_noise_p_us`` (p x g_mean) and ``pair_noise_p_us``
        (sqrt 2 times that); and ``amplification`` and ``max_gap`` (largest ``|simulated / predicted - 1|`` over
        the non-zero levels).
    """
    values = [round(float(s), 6) for s in levels]
    amp = amplification(config)
    out = {"amplification": amp}
    for level in shown:
        if round(level, 6) not in values:
            raise ValueError(f"shown level {level!r} is not one of the swept levels {values}")
        k, p = values.index(round(level, 6)), round(100 * level)
        out.update({f"level_{p}": level, f"equiv_{p}": float(predicted[k]), f"sim_{p}": float(simulated[k]),
                    f"envelope_{p}": level * amp, f"cell_noise_{p}_us": level * config.g_mean_us,
                    f"pair_noise_{p}_us": level * config.g_mean_us * math.sqrt(2)})
    nonzero = torch.as_tensor(levels) > 0
    ratio = torch.as_tensor(simulated, dtype=torch.float64)[nonzero] / torch.as_tensor(predicted, dtype=torch.float64)[nonzero]
    out["max_gap"] = (ratio - 1).abs().max().item()
    return out
