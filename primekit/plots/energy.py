"""Figures of the Energy-projection chapter: per-operation energies, work per image, energy against the
early-stop threshold (Fig. 3f), energy by component, the sensitivity of the efficiency ratio, and the ratio
against the threshold in two readings (both systems stop early, or the digital reference runs all T steps).

Every figure is designed for the book's text column (at most 7.5 in wide) with no text below 9 pt; legends
sit outside the data (above or below the axes). Energies are labelled in µJ and pJ."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from primekit.energy.tables import ratio_text
from primekit.plots._base import _figure_and_axes, _plain_log_ticks

#: Colours of the two systems (digital, hybrid), used in every figure of the chapter.
SYSTEM_COLORS = {"digital": "#D55E00", "hybrid": "#0072B2"}
#: Width of the chapter's figures (in): they fit the 772 px text column.
WIDTH_IN = 7.5
#: Font size (pt) of the values written into the figures.
VALUE_FONT_PT = 9


def _check_nonempty(values, name: str) -> None:
    if len(values) == 0:
        raise ValueError(f"{name} is empty; give at least one entry")


def _legend_below(ax, ncol: int) -> None:
    """The axes' legend below the figure (outside the data); below the axes when they share a figure."""
    fig = ax.figure
    if len(fig.axes) == 1 and fig.get_layout_engine() is not None:
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=ncol)
    else:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol)


def _positive_values(values: dict, name: str, unit: str) -> np.ndarray:
    """The values of a non-empty mapping as floats, all > 0 (they go on a log axis)."""
    _check_nonempty(values, name)
    array = np.array([float(v) for v in values.values()])
    if (array <= 0).any():
        raise ValueError(f"{name} must be > 0 {unit} (log axis), got {[float(v) for v in sorted(array)[:3]]}")
    return array


def plot_operation_energies(energies: dict, ax=None, *, title: str | None = None):
    """Energy of single operations on a log axis, one bar each, with its value written beside it.

    Args:
        energies: ``{label: energy in pJ}``, drawn top to bottom in the given order.
        ax: axes to draw into; a new figure when None.
        title: optional axes title.
    """
    values = _positive_values(energies, "energies", "pJ")
    fig, ax = _figure_and_axes(ax, figsize=(7.0, 0.42 * len(energies) + 1.0))
    y = np.arange(len(energies))[::-1]
    ax.barh(y, values, color="0.55")
    for yi, value in zip(y, values):
        ax.text(value * 1.15, yi, f"{value:g} pJ", va="center", fontsize=VALUE_FONT_PT)
    ax.set_yticks(y, list(energies))
    ax.set_xscale("log")
    ax.set_xlim(values.min() / 3, values.max() * 12)
    ax.set_xlabel("energy per operation (pJ, log scale)")
    if title:
        ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return fig


def _count_text(count: float) -> str:
    """A count as a reader says it: ``34.4 million``, ``2.96 million``, ``9,058`` (not ``3.44e+07``)."""
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if count >= scale:
            return f"{count / scale:.3g} {word}"
    return f"{count:,.0f}"


def plot_work_reduction(stages: dict, ax=None, *, unit: str = "operations per image"):
    """How much synaptic work each saving removes: one bar per stage, log axis, values written.

    Args:
        stages: ``{label: count}`` from the largest (e.g. dense MACs) to the smallest, top to bottom.
        ax: axes to draw into; a new figure when None.
        unit: the x-axis unit.
    """
    values = _positive_values(stages, "stages", "operations")
    fig, ax = _figure_and_axes(ax, figsize=(7.0, 0.5 * len(stages) + 1.0))
    y = np.arange(len(stages))[::-1]
    ax.barh(y, values, color=plt.get_cmap("Blues")(np.linspace(0.85, 0.45, len(values))))
    first = next(iter(stages)).split(",")[0]      # "dense MACs, all T steps" -> "dense MACs"
    for k, (yi, value) in enumerate(zip(y, values)):
        note = "" if k == 0 else f"  ({first} ÷ {values[0] / value:.3g})"
        ax.text(value * 1.1, yi, f"{_count_text(value)}{note}", va="center", fontsize=VALUE_FONT_PT)
    ax.set_yticks(y, list(stages))
    ax.set_xscale("log")
    ax.set_xlim(values.min() / 3, values.max() * 40)
    ax.set_xlabel(f"{unit} (log scale)")
    ax.grid(axis="y", visible=False)
    return fig


def plot_energy_vs_threshold(rows, axes=None, *, paper_ratio: float | None = None):
    """Energy per image of both systems (top, log scale) and their ratio (bottom) against the threshold.

    The counterpart of the paper's Fig. 3f. ``rows`` are :class:`primekit.energy.prices.EnergyRow` (threshold,
    mean exit, ``digital_pj``, ``hybrid_pj``, ``ratio``); energies are drawn in µJ. Thresholds are spaced evenly
    (they crowd near 1) and labelled; the mean exit step is written above the digital points. ``paper_ratio``
    is drawn as a dashed line in the bottom panel. The panels are stacked, so the figure fits the text column.
    """
    _check_nonempty(rows, "rows")
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(WIDTH_IN, 6.6))
    ax_energy, ax_ratio = np.asarray(axes).ravel()
    x = np.arange(len(rows))
    digital = np.array([r.digital_pj for r in rows]) * 1e-6
    hybrid = np.array([r.hybrid_pj for r in rows]) * 1e-6
    ax_energy.plot(x, digital, marker="o", color=SYSTEM_COLORS["digital"], label="digital")
    ax_energy.plot(x, hybrid, marker="s", color=SYSTEM_COLORS["hybrid"], label="hybrid analogue-digital")
    for xi, value, row in zip(x, digital, rows):
        ax_energy.annotate(f"{row.mean_exit:.1f}", (xi, value), textcoords="offset points", xytext=(0, 6),
                           ha="center", fontsize=VALUE_FONT_PT, color="0.3")
    ax_energy.set_yscale("log")
    _plain_log_ticks(ax_energy.yaxis)
    ax_energy.set_ylim(hybrid.min() / 2, digital.max() * 3)
    ax_energy.set_ylabel("energy per image\n(µJ, log scale)")
    ax_energy.plot([], [], " ", label="numbers: mean exit step")
    ax_energy.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3)
    ax_ratio.plot(x, [r.ratio for r in rows], marker="o", color="k", label="ours: digital / hybrid")
    if paper_ratio is not None:
        ax_ratio.axhline(paper_ratio, color="0.4", linestyle="--", linewidth=1.0,
                         label=f"paper: {paper_ratio:g}x (its own model)")
    ax_ratio.set_ylim(0, max(max(r.ratio for r in rows), paper_ratio or 0) * 1.15)
    ax_ratio.set_ylabel("efficiency ratio (x)")
    ax_ratio.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    for ax in (ax_energy, ax_ratio):
        ax.set_xticks(x, [f"{r.threshold:g}" for r in rows])
        ax.set_xlabel("early-stop threshold θ (evenly spaced)")
    return ax_energy.figure


def plot_energy_breakdown(breakdowns: dict, ax=None):
    """Share of each component in the energy per image of each system, as stacked horizontal bars.

    Args:
        breakdowns: ``{system label: {component: pJ}}``; the total per image (µJ) is written at each bar's end;
            shares of at least 8 % are written on their segment.
        ax: axes to draw into; a new figure when None.
    """
    _check_nonempty(breakdowns, "breakdowns")
    components = list(dict.fromkeys(c for parts in breakdowns.values() for c in parts))
    colors = {c: plt.get_cmap("tab20")(k % 20) for k, c in enumerate(components)}
    fig, ax = _figure_and_axes(ax, figsize=(WIDTH_IN, 0.9 * len(breakdowns) + 2.0))
    labels = list(breakdowns)
    y = np.arange(len(labels))[::-1]
    drawn = set()
    for yi, label in zip(y, labels):
        parts = breakdowns[label]
        total = sum(parts.values())
        if total <= 0:
            raise ValueError(f"breakdown {label!r} has no energy")
        left = 0.0
        for component in components:
            share = 100.0 * parts.get(component, 0.0) / total
            if share <= 0:
                continue
            ax.barh(yi, share, left=left, color=colors[component], edgecolor="white",
                    label=component if component not in drawn else None)
            if share >= 8:
                ax.text(left + share / 2, yi, f"{share:.0f} %", ha="center", va="center", fontsize=VALUE_FONT_PT)
            drawn.add(component)
            left += share
        ax.text(101, yi, f"{total * 1e-6:.3g} µJ", va="center", fontsize=VALUE_FONT_PT)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 117)
    ax.set_xlabel("share of the energy per image (%)")
    ax.grid(axis="y", visible=False)
    _legend_below(ax, ncol=3)
    return fig


def plot_sensitivity(rows, ax=None, *, paper_ratio: float | None = None):
    """Tornado chart: the efficiency ratio at both ends of every lever, largest swing on top (log axis).

    The ends are marked, not labelled (the values belong in a table beside the figure,
    :func:`primekit.energy.tables.sensitivity_table`), so no text crowds the markers; the legend sits below
    the axes.

    Args:
        rows: :class:`primekit.energy.prices.SensitivityRow` (lever, ``ratio_low``, ``ratio_high``,
            ``ratio_default``), drawn top to bottom in the given order.
        ax: axes to draw into; a new figure when None.
        paper_ratio: the paper's ratio, a dashed line.
    """
    _check_nonempty(rows, "rows")
    fig, ax = _figure_and_axes(ax, figsize=(WIDTH_IN, 0.36 * len(rows) + 2.0))
    y = np.arange(len(rows))[::-1]
    default = rows[0].ratio_default
    for yi, row in zip(y, rows):
        low, high = row.ratio_low, row.ratio_high
        ax.plot([min(low, high, default), max(low, high, default)], [yi, yi], color="0.8", linewidth=6,
                solid_capstyle="butt")
        # a hollow square around a small dot: both stay visible where a lever's ends coincide
        ax.plot(high, yi, "s", color="#CC79A7", markerfacecolor="none", markersize=9, markeredgewidth=1.6)
        ax.plot(low, yi, "o", color="#009E73", markersize=5)
    ax.axvline(default, color="k", linewidth=1.0, label=f"our default: {ratio_text(default)}")
    if paper_ratio is not None:
        ax.axvline(paper_ratio, color="0.4", linestyle="--", linewidth=1.0, label=f"paper: {paper_ratio:g}x")
    values = [v for r in rows for v in (r.ratio_low, r.ratio_high)] + [default] + ([paper_ratio] if paper_ratio else [])
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 1.5, max(values) * 1.5)
    _plain_log_ticks(ax.xaxis)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_yticks(y, [row.lever.name for row in rows])
    ax.plot([], [], "o", color="#009E73", markersize=5, label="low end")
    ax.plot([], [], "s", color="#CC79A7", markerfacecolor="none", markersize=9, markeredgewidth=1.6,
            label="high end")
    ax.set_xlabel("efficiency ratio digital / hybrid (x, log scale)")
    ax.grid(axis="y", visible=False)
    _legend_below(ax, ncol=4)
    return fig


def plot_ratio_readings(readings: dict, ax=None, *, paper_ratio: float | None = None):
    """The efficiency ratio against the early-stop threshold in two readings, for one or more references.

    Args:
        readings: ``{reference label: rows}``, rows of :class:`primekit.energy.references.ReadingRow`
            (threshold, mean exit, ``same_stop``, ``full_digital``), the same thresholds for every
            reference. Solid: both systems stop at the exits; dashed, same colour: the digital reference runs
            all T steps.
        ax: axes to draw into; a new figure when None.
        paper_ratio: the paper's ratio, a grey dotted line.
    """
    _check_nonempty(readings, "readings")
    thresholds = [[r.threshold for r in rows] for rows in readings.values()]
    _check_nonempty(thresholds[0], "the readings' rows")
    if any(t != thresholds[0] for t in thresholds):
        raise ValueError(f"every reference needs the same thresholds; got {thresholds}")
    fig, ax = _figure_and_axes(ax, figsize=(WIDTH_IN, 4.6))
    x = np.arange(len(thresholds[0]))
    values = [] if paper_ratio is None else [paper_ratio]
    for k, (label, rows) in enumerate(readings.items()):
        color = plt.get_cmap("tab10")(k)
        same, full = [r.same_stop for r in rows], [r.full_digital for r in rows]
        ax.plot(x, same, marker="o", color=color, label=f"{label}: both stop at the exit")
        ax.plot(x, full, marker="s", linestyle="--", color=color, label=f"{label}: digital runs all T")
        values += same + full
    if paper_ratio is not None:
        ax.axhline(paper_ratio, color="0.4", linestyle=":", linewidth=1.2, label=f"paper: {paper_ratio:g}x")
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_ylim(min(values) / 1.5, max(values) * 1.5)
    ax.set_xticks(x, [f"{t:g}" for t in thresholds[0]])
    ax.set_xlabel("early-stop threshold θ (evenly spaced)")
    ax.set_ylabel("efficiency ratio digital / hybrid\n(x, log scale)")
    _legend_below(ax, ncol=1)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
