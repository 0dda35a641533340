"""Figures of the Noise robustness chapter: accuracy and exits against device noise, and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from primekit.plots._base import _figure_and_axes

#: Colours and labels of the compared methods (the same in every figure of the chapter).
METHOD_STYLE = {
    "weight-tuning": ("C0", "o", "Weight Tuning"),
    "software-pruning": ("C1", "s", "Software Pruning"),
    "memristor-pruning": ("C2", "^", "Memristor Pruning"),
}
KIND_TITLE = {
    "programming": "programming noise (fixed per chip)",
    "read": "read noise (redrawn at every step)",
}
CELL_NOISE_LABEL = "cell noise (% of conductance)"
WEIGHT_NOISE_LABEL = "weight noise (% of each weight)"
#: How the chapter names the noise models of its sweeps (keys of the sweeps it plots).
MODEL_TITLE = {"cell": "cell-relative", "weight": "weight-relative"}


def _style(method: str, index: int) -> tuple[str, str, str]:
    return METHOD_STYLE.get(method, (f"C{index % 8}", "o", method))


def _weight_noise_axis(ax, factor: float | None) -> None:
    """A top axis converting cell noise (%) into equivalent weight noise (% of the weights' spread)."""
    if factor is None:
        return
    if not factor > 0:
        raise ValueError(f"weight_noise_factor={factor!r} must be > 0")
    top = ax.secondary_xaxis("top", functions=(lambda x: x * factor, lambda x: x / factor))
    top.set_xlabel("weight noise, formed pairs (% of spread)", fontsize=9)
    top.tick_params(labelsize=9)


def _legend_below(fig, ax, ncol: int) -> None:
    """One legend for the whole figure, under its panels (never over data), from ``ax``'s labelled artists."""
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i] == "chance")       # the chance line last
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="outside lower center", ncol=ncol,
               fontsize=9)


def plot_accuracy_vs_noise(sweep, kind: str, ax=None, *, threshold: float | None = None,
                           methods: Sequence[str] | None = None, weight_noise_factor: float | None = None,
                           chance: float | None = None, xlabel: str | None = None, title: str | None = None,
                           legend: bool = True):
    """Test accuracy (mean and spread over chips) against the level of one noise, one line per method.

    Args:
        sweep: a :class:`primekit.experiments.noise_sweep.NoiseSweep`.
        kind: ``"programming"`` or ``"read"``.
        ax: axes to draw on; a new figure when None.
        threshold: early-stop threshold, None for the full T steps.
        methods: which of the sweep's methods (default all).
        weight_noise_factor: equivalent weight noise per unit cell noise; adds a top axis in those units.
        chance: draw a dotted line at this accuracy (fraction), e.g. 0.1 for ten classes.
        xlabel: the level's axis label (default: relative to each cell's conductance; say what the level is
            relative to for another noise model).
        title: the panel's title (default: the noise kind).
        legend: draw the legend, in the empty band between the chance line and the axis (False when a figure
            legend is drawn instead, as :func:`plot_sweep_panels` does).

    Returns:
        The matplotlib Figure.
    """
    fig, ax = _figure_and_axes(ax)
    levels = 100 * sweep.levels
    for i, method in enumerate(methods or sweep.methods):
        color, marker, label = _style(method, i)
        mean, spread = sweep.stats(method, kind, threshold)
        ax.errorbar(levels, 100 * mean, yerr=100 * spread, color=color, marker=marker, markersize=4,
                    capsize=2, label=label)
    if chance is not None:
        ax.axhline(100 * chance, color="0.5", linestyle=":", linewidth=1, label="chance")
    ax.set_xlabel(xlabel or CELL_NOISE_LABEL)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title or KIND_TITLE.get(kind, kind), fontsize=10)
    ax.set_ylim(0, 100)
    _weight_noise_axis(ax, weight_noise_factor)
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)   # beside the axes, off the data
    return fig


def plot_sweep_panels(sweeps: Mapping[str, object], *, weight_noise_factor: float | None = None,
                      chance: float | None = 0.1, width: float = 6.6):
    """Accuracy against noise for every noise model (rows) and both noises (columns: programming, read), with
    one legend under the panels.

    Args:
        sweeps: noise model -> :class:`~primekit.experiments.noise_sweep.NoiseSweep`; ``"cell"`` (levels relative
            to each cell) gets the top axis of equivalent weight noise, ``"weight"`` (levels relative to each
            weight) an x label saying so.
        weight_noise_factor: equivalent weight noise of formed pairs per unit cell noise (top axis of the
            cell-relative row).
        chance: the dotted chance line (fraction), None for none.
        width: figure width in inches (the book's figures show at most about 6.9 in wide).

    Returns:
        The matplotlib Figure.
    """
    if not sweeps:
        raise ValueError("sweeps is empty: give at least one noise model's sweep")
    kinds = ("programming", "read")
    fig, axes = plt.subplots(len(sweeps), 2, figsize=(width, 3.9 * len(sweeps) + 0.5), sharey=True,
                             squeeze=False, layout="constrained")
    for row, (name, sweep) in zip(axes, sweeps.items()):
        cell = name != "weight"
        for ax, kind in zip(row, kinds):
            plot_accuracy_vs_noise(sweep, kind, ax=ax, chance=chance, legend=False,
                                   weight_noise_factor=weight_noise_factor if cell else None,
                                   xlabel=CELL_NOISE_LABEL if cell else WEIGHT_NOISE_LABEL,
                                   title=f"{kind} noise, {MODEL_TITLE.get(name, name)}")
        row[1].set_ylabel("")
    _legend_below(fig, axes[0, 0], ncol=4)
    return fig


def plot_early_stop_vs_noise(sweep, method: str, kind: str, axes=None, *, thresholds: Sequence[float] | None = None,
                             weight_noise_factor: float | None = None, legend: bool = True):
    """What early stop changes for one method under one noise, one line per threshold (mean and spread over
    chips): the accuracy with early stop minus the accuracy of the same run without it, in points (left; the
    accuracies themselves nearly coincide), and the mean exit step (right; dashed: T).

    Args:
        sweep: a :class:`primekit.experiments.noise_sweep.NoiseSweep`.
        method: one of the sweep's methods.
        kind: ``"programming"`` or ``"read"``.
        axes: two axes; a new 1 x 2 figure when None.
        thresholds: which of the sweep's thresholds (default all).
        weight_noise_factor: adds a top axis of equivalent weight noise (see :func:`plot_accuracy_vs_noise`).
        legend: draw one legend under the figure's panels (False when the caller draws it, as
            :func:`plot_early_stop_panels` does).

    Returns:
        The matplotlib Figure.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(6.6, 3.6), layout="constrained")
    ax_acc, ax_exit = axes
    fig = ax_acc.figure
    levels = 100 * sweep.levels
    chosen = list(thresholds if thresholds is not None else sweep.config.thresholds)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(len(chosen), 1)))
    full = sweep.per_chip(method, kind)
    ax_acc.axhline(0.0, color="k", linestyle="--", linewidth=1)
    for color, threshold in zip(colors, chosen):
        gap = np.round(100 * (sweep.per_chip(method, kind, threshold) - full), 6)   # [levels, chips], points
        spread = gap.std(axis=1, ddof=1) if gap.shape[1] > 1 else np.zeros(gap.shape[0])
        ax_acc.errorbar(levels, gap.mean(axis=1), yerr=spread, color=color, marker="o", markersize=3,
                        capsize=2, label=f"threshold {threshold:g}")
        exit_mean, exit_spread = sweep.stats(method, kind, threshold, "mean_exit")
        ax_exit.errorbar(levels, exit_mean, yerr=exit_spread, color=color, marker="o", markersize=3,
                         capsize=2, label=f"threshold {threshold:g}")
    ax_exit.axhline(sweep.timesteps, color="k", linestyle="--", linewidth=1)
    low, high = ax_acc.get_ylim()
    ax_acc.set_ylim(min(low, -1.0), max(high, 1.0))          # at least +-1 point: float noise stays flat
    ax_acc.set_ylabel("early stop minus\nfull run (points)")
    ax_exit.set_ylabel("mean exit step")
    ax_exit.set_ylim(0, sweep.timesteps + 0.5)
    for ax in axes:
        ax.set_xlabel(CELL_NOISE_LABEL)
        _weight_noise_axis(ax, weight_noise_factor)
    ax_acc.set_title(f"accuracy change, {kind} noise", fontsize=10)
    ax_exit.set_title(f"exit step, {kind} noise", fontsize=10)
    if legend:
        _legend_below(fig, ax_acc, ncol=len(chosen))
    return fig


def plot_early_stop_panels(sweep, method: str, *, kinds: Sequence[str] = ("programming", "read"),
                           thresholds: Sequence[float] | None = None, width: float = 6.6):
    """:func:`plot_early_stop_vs_noise` for every noise of ``kinds``, one row each, and one legend under the
    panels. Returns the matplotlib Figure."""
    fig, axes = plt.subplots(len(kinds), 2, figsize=(width, 3.3 * len(kinds) + 0.6), squeeze=False,
                             sharex=True, layout="constrained")
    for row, kind in zip(axes, kinds):
        plot_early_stop_vs_noise(sweep, method, kind, axes=row, thresholds=thresholds, legend=False)
    for ax in axes[:-1].ravel():
        ax.set_xlabel("")
    _legend_below(fig, axes[0, 0], ncol=len(thresholds if thresholds is not None else sweep.config.thresholds))
    return fig


def plot_layer_noise(anatomy: Mapping[str, Sequence], axes=None):
    """Per layer and method: kept weight spread (µS), weight noise and current noise per unit cell noise,
    one panel each, stacked.

    Args:
        anatomy: method name -> the rows of :func:`primekit.experiments.noise_anatomy.layer_noise_anatomy`, in layer order.
        axes: three axes; a new figure of three stacked panels when None.

    Returns:
        The matplotlib Figure.
    """
    if not anatomy:
        raise ValueError("anatomy is empty: give at least one method's layer rows")
    layers = [row.layer for row in next(iter(anatomy.values()))]
    for method, rows in anatomy.items():
        if [row.layer for row in rows] != layers:
            raise ValueError(f"{method!r} has layers {[r.layer for r in rows]}, the first method {layers}")
    if axes is None:
        fig, axes = plt.subplots(3, 1, figsize=(6.4, 7.4), sharex=True, layout="constrained")
    axes = np.asarray(axes).ravel()
    fig = axes[0].figure
    panels = [
        ("kept_weight_std_us", "spread of the kept weights", "std of $G^+ - G^-$ (µS)"),
        ("weight_noise", "weight noise per unit of cell noise", "weight noise /\nweight spread"),
        ("current_noise", "input-current noise per unit of cell noise", "current noise /\ncurrent RMS"),
    ]
    x = np.arange(len(layers))
    width = 0.8 / len(anatomy)
    for ax, (field, title, label) in zip(axes, panels):
        for i, (method, rows) in enumerate(anatomy.items()):
            color, _, name = _style(method, i)
            ax.bar(x + (i - (len(anatomy) - 1) / 2) * width, [getattr(r, field) for r in rows], width,
                   color=color, label=name)
        ax.set_xticks(x, layers)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(label)
    axes[-1].set_xlabel("layer")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=len(anatomy), fontsize=9)
    return fig


def plot_margin_flips(margins: Mapping[str, object], axes=None, *, edges: Sequence[float] | None = None):
    """Why samples flip: flip rate against margin / output noise (top), and how the margins of each
    method are distributed in those units (bottom: fraction of samples below each ratio).

    Args:
        margins: method name -> :class:`primekit.experiments.noise_anatomy.Margins`.
        axes: two axes; a new figure of two stacked panels when None.
        edges: bin edges of the ratio for the flip rate (default: logarithmic from 0.1 to 100).

    Returns:
        The matplotlib Figure.
    """
    from primekit.experiments.noise_anatomy import flip_rate_by_ratio

    if not margins:
        raise ValueError("margins is empty: give at least one method's Margins")
    edges = np.geomspace(0.1, 100, 16) if edges is None else np.asarray(edges, dtype=float)
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True, layout="constrained")
    ax_rate, ax_cdf = axes
    fig = ax_rate.figure
    centres = np.sqrt(edges[:-1] * edges[1:]) if edges[0] > 0 else 0.5 * (edges[:-1] + edges[1:])
    for i, (method, m) in enumerate(margins.items()):
        color, marker, name = _style(method, i)
        rate, counts = flip_rate_by_ratio(m, edges)
        enough = counts >= 5
        ax_rate.plot(centres[enough], 100 * rate[enough], color=color, marker=marker, markersize=4, label=name)
        ratio = np.sort(m.ratio[np.isfinite(m.ratio)])
        ax_cdf.plot(ratio, 100 * np.arange(1, len(ratio) + 1) / len(ratio), color=color, label=name)
    for ax in (ax_rate, ax_cdf):
        ax.set_xscale("log")
        ax.set_xlim(edges[0], edges[-1])
        ax.axvline(1.0, color="0.5", linestyle=":", linewidth=1)
    ax_cdf.set_xlabel("margin / output noise (top-1 minus top-2 output, in RMS output changes)")
    ax_rate.set_ylabel("predictions changed\nby noise (%)")
    ax_cdf.set_ylabel("samples with a\nsmaller ratio (%)")
    ax_rate.set_title("how often a decision flips", fontsize=10)
    ax_cdf.set_title("where each network's decisions lie", fontsize=10)
    ax_rate.set_ylim(0, 100)
    ax_cdf.set_ylim(0, 100)
    handles, labels = ax_rate.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=len(margins), fontsize=9)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
