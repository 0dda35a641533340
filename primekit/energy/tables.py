"""The energy chapter's tables and summaries, computed from counts (:mod:`primekit.energy.counts`) and prices
(:mod:`primekit.energy.prices`).

Energies are in pJ unless a name says otherwise (``_uj``: microjoules per image, ``_fj``: femtojoules);
conductances in µS, voltages in V, times in ns; shares and savings are fractions (0.42 = 42 %); ratios are
digital energy over hybrid energy. Each summary is a plain dict of named values (glued by the chapter with
``chapter.glue_values``); each table a :class:`~primekit.tables.Table`, whose cells write µJ and µS and put a
space before % (``95.2 %``). :func:`percent_texts` turns fractions into such text for the chapter's prose.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

from primekit.energy import prices
from primekit.energy.count_records import KINDS, CountTable
from primekit.energy.prices import EnergyBreakdown, EnergyConfig, EnergyRow, SensitivityRow
from primekit.tables import Table, percent

#: SRAM read energy per 64-bit word at 45 nm (pJ), Horowitz (ISSCC 2014), by array size.
SRAM_64BIT_PJ = {"8 KB": 10.0, "32 KB": 20.0, "1 MB": 100.0}
#: DRAM read energy per 32-bit word (pJ), Han et al. (NeurIPS 2015) and Sze et al. (Proc. IEEE 2017) after Horowitz.
DRAM_32BIT_PJ = 640.0
#: The levers about the digital side (the reference system or the digital work both systems share).
DIGITAL_SIDE = frozenset({"digital dataflow", "digital synaptic arithmetic", "memory accesses priced",
                          "neuron and pooling arithmetic (both)", "digital node 45 -> 40 nm"})
#: Hybrid components that do the synaptic products (the rest, neurons and pooling, is shared digital work).
CROSSBAR_COMPONENTS = ("crossbar cells", "row drivers", "ADC", "analogue front end", "partial sums")


def pair_read_fj(config: EnergyConfig = EnergyConfig()) -> float:
    """``V^2 G t`` of a kept differential pair (two cells) for one base pulse (fJ)."""
    return 2 * config.cell_read_fj(config.g_kept_us)


def operation_energies(config: EnergyConfig = EnergyConfig()) -> dict[str, float]:
    """Energy of single operations (pJ), digital and analogue, for the chapter's first figure."""
    int8_add, _ = prices.PRECISIONS["int8"]
    return {"int8 add (digital)": int8_add,
            "fp32 add (digital)": config.add_pj,
            "fp32 multiply (digital)": config.mult_pj,
            "fp32 MAC = add + multiply": config.mac_pj,
            "SRAM read, 32 bit, 8 KB": SRAM_64BIT_PJ["8 KB"] / 2,
            "SRAM read, 32 bit, 1 MB": SRAM_64BIT_PJ["1 MB"] / 2,
            "DRAM read, 32 bit": DRAM_32BIT_PJ,
            "memristor pair, one pulse (V²Gt, 2 cells)": 1e-3 * pair_read_fj(config),
            "row driver, one driven row": config.row_drive_pj,
            "ADC, one 8-bit conversion": config.adc_pj,
            "digital LIF update (mult + 2 adds)": config.lif_update_pj}


def headline_constants(config: EnergyConfig = EnergyConfig()) -> dict[str, float]:
    """The constants the chapter's text quotes: digital add, multiply, MAC and SRAM reads (pJ), the cell
    operating point (V, µS, ns) and its energy per cell and pair (fJ), row drive, ADC and LIF update (pJ),
    and how many pair pulses one fp32 MAC costs (``mac_over_pair``)."""
    return {"e_add": config.add_pj, "e_mult": config.mult_pj, "e_mac": config.mac_pj,
            "e_sram8": SRAM_64BIT_PJ["8 KB"] / 2, "e_sram1m": SRAM_64BIT_PJ["1 MB"] / 2,
            "v_read": config.read_voltage_v, "g_kept": config.g_kept_us, "g_pruned": config.g_pruned_us,
            "t_read": config.read_time_ns, "cell_fj": config.cell_read_fj(config.g_kept_us),
            "pair_fj": pair_read_fj(config), "e_row": config.row_drive_pj, "e_adc": config.adc_pj,
            "e_lif": config.lif_update_pj, "mac_over_pair": config.mac_pj / (1e-3 * pair_read_fj(config))}


def percent_texts(values: Mapping[str, float], names: Sequence[str], digits: int = 0) -> dict[str, str]:
    """``{name + "_pct": "42 %"}`` for each of ``names`` in ``values`` (fractions), ``digits`` decimals: the
    text form the chapter's prose quotes (a space before %, which a format spec such as ``:.0%`` omits)."""
    missing = [name for name in names if name not in values]
    if missing:
        raise ValueError(f"values lacks {missing}; it has {sorted(values)}")
    return {f"{name}_pct": percent(values[name], digits) for name in names}


def ratio_text(ratio: float) -> str:
    """An efficiency ratio with three significant digits, trailing zeros kept: ``6.00x``, ``80.3x``, ``271x``
    (``:.3g`` would write ``6x`` beside a ``6.0x`` in the text)."""
    if not ratio > 0:
        raise ValueError(f"ratio={ratio!r} must be > 0 (digital energy over hybrid energy)")
    digits = 2 if ratio < 9.995 else 1 if ratio < 99.95 else 0
    return f"{ratio:.{digits}f}x"


def number(value: float) -> str:
    """A count as the tables show it: ``1,234`` for an integer value, ``1,234.57`` otherwise."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def count_table(counts: Mapping[str, Mapping[str, float]]) -> Table:
    """Counts by kind (rows) and layer (columns), from ``counts[layer][kind]``; every layer must have the
    same kinds."""
    layers = list(counts)
    if not layers:
        raise ValueError("counts is empty; give at least one layer")
    kinds = list(counts[layers[0]])
    for layer in layers:
        if list(counts[layer]) != kinds:
            raise ValueError(f"layer {layer!r} has kinds {list(counts[layer])}; expected {kinds}")
    return Table.of(["count"] + [f"`{layer}`" for layer in layers],
                    [[kind] + [number(counts[layer][kind]) for layer in layers] for kind in kinds])


def constants_table(config: EnergyConfig = EnergyConfig()) -> Table:
    """Every constant of ``config``: name, value, unit, source and meaning."""
    return Table.of(("constant", "default", "unit", "source and meaning"),
                    [(f"`{name}`", value, unit, source) for name, value, unit, source in prices.constant_table(config)])


def unit_price_table(config: EnergyConfig = EnergyConfig()) -> Table:
    """What one unit of each count kind costs on each system (pJ); kinds free on both are left out."""
    unit = prices.unit_prices(config)
    return Table.of(("count", "digital (pJ each)", "hybrid (pJ each)"),
                    [(f"`{kind}`", f"{unit['digital'][kind]:.4g}", f"{unit['hybrid'][kind]:.4g}")
                     for kind in KINDS if unit["digital"][kind] or unit["hybrid"][kind]])


def _row_at(rows: Sequence[EnergyRow], theta: float) -> EnergyRow:
    for row in rows:
        if row.threshold == theta:
            return row
    raise ValueError(f"theta={theta!r} is not among the sweep's thresholds {[r.threshold for r in rows]}")


def energy_sweep_table(rows: Sequence[EnergyRow]) -> Table:
    """The energy sweep: θ, accuracy, mean exit, energy per image of both systems (µJ) and their ratio."""
    return Table.of(("θ", "accuracy", "mean exit", "digital (µJ)", "hybrid (µJ)", "ratio"),
                    [(f"{r.threshold:g}", percent(r.accuracy), f"{r.mean_exit:.2f}", f"{r.digital_pj / 1e6:.3f}",
                      f"{r.hybrid_pj / 1e6:.3f}", f"{r.ratio:.2f}") for r in rows])


def energy_sweep_summary(rows: Sequence[EnergyRow], theta: float, timesteps: int) -> dict[str, float]:
    """The sweep in numbers: at ``theta`` and at full T (the row of threshold 1.0, which must exit at
    ``timesteps``), energies per image (µJ), ratios, accuracies, the mean exit, the energy of each system and
    the load saved by early stop, and the range of the ratio over all thresholds."""
    at, full = _row_at(rows, theta), _row_at(rows, 1.0)
    if full.mean_exit != timesteps:
        raise ValueError(f"the full-T row exits at {full.mean_exit!r}, not at timesteps={timesteps!r}")
    ratios = [r.ratio for r in rows]
    return {"ratio_theta": at.ratio, "ratio_full": full.ratio,
            "digital_uj_theta": at.digital_pj / 1e6, "hybrid_uj_theta": at.hybrid_pj / 1e6,
            "digital_uj_full": full.digital_pj / 1e6, "hybrid_uj_full": full.hybrid_pj / 1e6,
            "exit_theta": at.mean_exit, "acc_theta": at.accuracy, "acc_full": full.accuracy,
            "energy_saved_theta": 1 - at.hybrid_pj / full.hybrid_pj, "load_saved_theta": 1 - at.mean_exit / timesteps,
            "digital_saved_theta": 1 - at.digital_pj / full.digital_pj,
            "ratio_min": min(ratios), "ratio_max": max(ratios)}


def early_stop_texts(summary: Mapping[str, float], theta: float, alike_points: float = 0.05,
                     steady_span: float = 1.1) -> dict[str, str]:
    """How early stop acts on the two systems, in words chosen by :func:`energy_sweep_summary`'s numbers.

    The two systems' energy savings at ``theta`` count as "nearly the same" when they differ by less than
    ``alike_points`` (a fraction: 0.05 = 5 points); the ratio "barely moves" when its largest value over the
    thresholds is less than ``steady_span`` times its smallest. Keys: ``ratio_move_text`` (a clause on the
    ratio across thresholds), ``early_stop_text`` (a sentence without its full stop, on both savings).
    """
    digital, hybrid = summary["digital_saved_theta"], summary["energy_saved_theta"]
    low, high = summary["ratio_min"], summary["ratio_max"]
    span = f"from {low:.1f}x to {high:.1f}x across all thresholds"
    if high < steady_span * low:
        move = (f"but it barely moves the ratio ({span}): both systems stop at the same step, so it scales both "
                f"energies alike")
    else:
        move = (f"and the ratio moves {span}: both systems stop at the same step, but the steps a sample skips carry "
                f"a different mix of work on each system")
    numbers = f"(digital {percent(digital, 0)}, hybrid {percent(hybrid, 0)} at θ = {theta:g})"
    if max(digital, hybrid) < 0.005:                 # both round to 0 %: nothing stopped early
        text = f"Early stop saves almost no energy on either system {numbers}"
    else:
        share = "nearly the same share" if abs(digital - hybrid) < alike_points else "different shares"
        text = f"Early stop saves {share} of the energy on both systems {numbers}"
    return {"ratio_move_text": move, "early_stop_text": text}


def work_stages(table_full: CountTable, table_theta: CountTable, kept: Mapping[str, float],
                theta: float) -> dict[str, float]:
    """Synaptic work per image, stage by stage: dense MACs over all T steps, those of the kept weights
    (``kept[layer]``: kept fraction), the synaptic operations the inputs trigger, and those up to the exits."""
    missing = [layer for layer in table_full.layers if layer not in kept]
    if missing:
        raise ValueError(f"kept lacks the layers {missing}; it has {sorted(kept)}")
    kept_macs = sum(table_full[layer, "dense_macs"] * kept[layer] for layer in table_full.layers)
    return {"dense MACs, all T steps": table_full["dense_macs"], "kept weights only (pruning)": kept_macs,
            "triggered synaptic ops (spikes)": table_full["synaptic_ops"],
            f"up to the exit at θ = {theta:g} (early stop)": table_theta["synaptic_ops"]}


def energy_shares(stages: Mapping[str, float], table_theta: CountTable, digital: EnergyBreakdown,
                  hybrid: EnergyBreakdown) -> dict[str, float]:
    """Where the work and energy go at one threshold: the savings of spikes and of all three stages
    (:func:`work_stages`), the components' shares of each system's energy, how many times cheaper the crossbar
    does the synaptic work, and the Amdahl ceiling (digital total over the shared digital part)."""
    dense, kept_macs, triggered, at_exit = stages.values()
    d, h = digital.by_component(), hybrid.by_component()
    periphery = h["neurons"] + h["pooling"]
    return {"spike_saving": triggered / kept_macs, "work_saving_total": dense / at_exit,
            "periphery_share_hybrid": periphery / hybrid.total_pj,
            "periphery_share_digital": periphery / digital.total_pj,
            "adc_share_hybrid": h["ADC"] / hybrid.total_pj,
            "cells_share_hybrid": h["crossbar cells"] / hybrid.total_pj,
            "rows_share_hybrid": h["row drivers"] / hybrid.total_pj,
            "mac_share_digital": d["synaptic MACs"] / digital.total_pj,
            "graded_share": table_theta["graded_ops"] / table_theta["synaptic_ops"],
            "synaptic_ratio": (d["synaptic MACs"] + d["synaptic ACs"]) / sum(h[c] for c in CROSSBAR_COMPONENTS),
            "amdahl_ceiling": digital.total_pj / periphery}


def sensitivity_table(rows: Sequence[SensitivityRow]) -> Table:
    """The tornado chart's numbers: each lever's two ends with the ratio there (``int8 → 1.03x``), the swing
    and the lever's source (short author-year text, or "ours"). The ends' spaces do not break (a narrow column
    would otherwise put the ratio on a line of its own, away from its arrow)."""
    def end(label: str, ratio: float) -> str:
        return f"{label} → {ratio_text(ratio)}".replace(" ", "\u00a0")

    return Table.of(("assumption", "low end → ratio", "high end → ratio", "swing", "source of the range"),
                    [(r.lever.name, end(r.lever.low_label, r.ratio_low), end(r.lever.high_label, r.ratio_high),
                      f"x{r.span:.2f}", r.lever.source) for r in rows])


def sensitivity_summary(rows: Sequence[SensitivityRow], minor_swing: float = 1.2, top: int = 3) -> dict:
    """The ``top`` levers (name, both ends as text, swing), how many of them are about the digital side, and
    how many levers move the ratio by less than ``minor_swing`` (a factor > 1; 1.2 = 20 %)."""
    if not minor_swing > 1:
        raise ValueError(f"minor_swing={minor_swing!r} must be a factor > 1 (1.2 = 20 %)")
    if len(rows) < top:
        raise ValueError(f"rows has {len(rows)} levers; need at least top={top}")
    out: dict = {}
    for rank, row in enumerate(rows[:top], start=1):
        out.update({f"top{rank}_name": row.lever.name, f"top{rank}_span": row.span,
                    f"top{rank}_low": f"{ratio_text(row.ratio_low)} ({row.lever.low_label})",
                    f"top{rank}_high": f"{ratio_text(row.ratio_high)} ({row.lever.high_label})"})
    n_digital = sum(row.lever.name in DIGITAL_SIDE for row in rows[:top])
    if n_digital == top:
        side = ("All three are about the digital side: what the reference system is and how much of the work "
                "stays digital in both systems. The crossbar's own constants matter much less:")
    else:
        side = (f"{n_digital} of the {top} are about the digital side (the reference system, or the digital work "
                f"both systems share), {top - n_digital} about the crossbar's periphery. Beyond these:")
    out.update({"n_levers": len(rows), "n_digital_top": n_digital, "top_side_text": side,
                "n_minor": sum(r.span < minor_swing for r in rows), "minor_swing": minor_swing - 1})
    return out


def sensitivity_range(rows: Sequence[SensitivityRow]) -> tuple[float, float]:
    """The smallest and the largest ratio at the ends of all levers: the range the tornado chart spans."""
    if not rows:
        raise ValueError("rows is empty; give the levers of prices.sensitivity")
    ends = [ratio for row in rows for ratio in (row.ratio_low, row.ratio_high)]
    return min(ends), max(ends)


def scenarios(config: EnergyConfig = EnergyConfig()) -> dict[str, tuple[str, EnergyConfig]]:
    """Whole scenarios (several constants at once), by short key: ``(label, config)``."""
    return {"default": ("our default (fp32, event-driven, compute only)", config),
            "memory": ("memory counted (8 KB SRAM for weights and membranes)", replace(config, include_memory=True)),
            "int8": ("int8 digital everywhere", prices.with_precision(config, synapses="int8", periphery="int8")),
            "dense": ("dense fp32 digital reference (every MAC)", replace(config, digital_dataflow="dense")),
            "dense_memory": ("dense fp32 reference with memory",
                             replace(config, digital_dataflow="dense", include_memory=True)),
            "adc14": (f"14-bit ADC ({prices.ADC_PJ_BY_BITS[14]:g} pJ per conversion)", prices.with_adc(config, 14))}


def scenario_ratios(table: CountTable, cases: Mapping[str, tuple[str, EnergyConfig]]) -> dict[str, float]:
    """``ratio_<key>``: the efficiency ratio of ``table`` in every scenario of :func:`scenarios`."""
    return {f"ratio_{key}": prices.efficiency_ratio(table, config) for key, (_, config) in cases.items()}


def scenario_table(table_theta: CountTable, table_full: CountTable,
                   cases: Mapping[str, tuple[str, EnergyConfig]], theta: float) -> Table:
    """The scenarios' ratios at ``theta`` and at full T."""
    return Table.of(("scenario", f"ratio at θ = {theta:g}", "ratio at full T"),
                    [(label, ratio_text(prices.efficiency_ratio(table_theta, config)),
                      ratio_text(prices.efficiency_ratio(table_full, config))) for label, config in cases.values()])
