"""Figures of the Noise robustness chapter: accuracy and exits against device noise, and why."""

from __future__ import annotations

from typing import Mapping, Sequence

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
CELL_NOISE_LABEL = "cell noise (% of each cell's conductance)"


def _style(method: str, index: int) -> tuple[str, str, str]:
    return METHOD_STYLE.get(method, (f"C{index % 8}", "o", method))


def _weight_noise_axis(ax, factor: float | None) -> None:
    """A top axis converting cell noise (%) into equivalent weight noise (% of the weights' spread)."""
    if factor is None:
        return
    if not factor > 0:
        raise ValueError(f"weight_noise_factor={factor!r} must be > 0")
    top = ax.secondary_xaxis("top", functions=(lambda x: x * factor, lambda x: x / factor))
    top.set_xlabel("equivalent weight noise, formed pairs (% of weight spread)", fontsize=8)
    top.tick_params(labelsize=8)


def plot_accuracy_vs_noise(sweep, kind: str, ax=None, *, threshold: float | None = None,
                           methods: Sequence[str] | None = None, weight_noise_factor: float | None = None,
                           chance: float | None = None, xlabel: str | None = None, title: str | None = None):
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
    ax.set_title(title or KIND_TITLE.get(kind, kind), fontsize=10, pad=24 if weight_noise_factor else 6)
    ax.set_ylim(0, 100)
    _weight_noise_axis(ax, weight_noise_factor)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.12), fontsize=8)  # above the chance line
    return fig


def plot_early_stop_vs_noise(sweep, method: str, kind: str, axes=None, *, thresholds: Sequence[float] | None = None,
                             weight_noise_factor: float | None = None):
    """Accuracy (left) and mean exit step (right) of one method against one noise, one line per
    early-stop threshold plus the run without early stop (mean and spread over chips).

    Args:
        sweep: a :class:`primekit.experiments.noise_sweep.NoiseSweep`.
        method: one of the sweep's methods.
        kind: ``"programming"`` or ``"read"``.
        axes: two axes; a new 1 x 2 figure when None.
        thresholds: which of the sweep's thresholds (default all).
        weight_noise_factor: adds a top axis of equivalent weight noise (see :func:`plot_accuracy_vs_noise`).

    Returns:
        The matplotlib Figure.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    ax_acc, ax_exit = axes
    fig = ax_acc.figure
    levels = 100 * sweep.levels
    chosen = list(thresholds if thresholds is not None else sweep.config.thresholds)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(len(chosen), 1)))
    mean, spread = sweep.stats(method, kind)
    ax_acc.errorbar(levels, 100 * mean, yerr=100 * spread, color="k", linestyle="--", marker=".",
                    capsize=2, label="no early stop")
    for color, threshold in zip(colors, chosen):
        mean, spread = sweep.stats(method, kind, threshold)
        ax_acc.errorbar(levels, 100 * mean, yerr=100 * spread, color=color, marker="o", markersize=3,
                        capsize=2, label=f"threshold {threshold:g}")
        exit_mean, exit_spread = sweep.stats(method, kind, threshold, "mean_exit")
        ax_exit.errorbar(levels, exit_mean, yerr=exit_spread, color=color, marker="o", markersize=3,
                         capsize=2, label=f"threshold {threshold:g}")
    ax_exit.axhline(sweep.timesteps, color="k", linestyle="--", linewidth=1, label=f"T = {sweep.timesteps}")
    ax_acc.set_ylabel("test accuracy (%)")
    ax_exit.set_ylabel("mean exit step (steps)")
    ax_exit.set_ylim(0, sweep.timesteps + 0.5)
    for ax in axes:
        ax.set_xlabel(CELL_NOISE_LABEL)
        _weight_noise_axis(ax, weight_noise_factor)
    ax_acc.legend(loc="lower left", fontsize=8)
    ax_exit.legend(loc="lower right", fontsize=8)
    ax_acc.set_title(f"{_style(method, 0)[2]}: {KIND_TITLE.get(kind, kind)}", fontsize=10)
    return fig


def plot_layer_noise(anatomy: Mapping[str, Sequence], axes=None):
    """Per layer and method: kept weight spread (uS), weight noise and current noise per unit cell noise.

    Args:
        anatomy: method name -> the rows of :func:`primekit.experiments.noise_anatomy.layer_noise_anatomy`, in layer order.
        axes: three axes; a new 1 x 3 figure when None.

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
        fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.6))
    axes = np.asarray(axes).ravel()
    fig = axes[0].figure
    panels = [
        ("kept_weight_std_us", "spread of kept weights,\nstd of $G^+ - G^-$ (uS)"),
        ("weight_noise", "weight noise / weight spread\nper unit of cell noise"),
        ("current_noise", "current noise / current RMS\nper unit of cell noise"),
    ]
    x = np.arange(len(layers))
    width = 0.8 / len(anatomy)
    for ax, (field, label) in zip(axes, panels):
        for i, (method, rows) in enumerate(anatomy.items()):
            color, _, name = _style(method, i)
            ax.bar(x + (i - (len(anatomy) - 1) / 2) * width, [getattr(r, field) for r in rows], width,
                   color=color, label=name)
        ax.set_xticks(x, layers)
        ax.set_xlabel("layer")
        ax.set_ylabel(label)
    axes[0].legend(loc="upper right", fontsize=8)
    return fig


def plot_margin_flips(margins: Mapping[str, object], axes=None, *, edges: Sequence[float] | None = None):
    """Why samples flip: flip rate against margin / output noise (left), and how the margins of each
    method are distributed in those units (right: fraction of samples below each ratio).

    Args:
        margins: method name -> :class:`primekit.experiments.noise_anatomy.Margins`.
        axes: two axes; a new 1 x 2 figure when None.
        edges: bin edges of the ratio for the flip rate (default: logarithmic from 0.1 to 100).

    Returns:
        The matplotlib Figure.
    """
    from primekit.experiments.noise_anatomy import flip_rate_by_ratio

    if not margins:
        raise ValueError("margins is empty: give at least one method's Margins")
    edges = np.geomspace(0.1, 100, 16) if edges is None else np.asarray(edges, dtype=float)
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
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
        ax.set_xlabel("margin / output noise (top-1 minus top-2, in RMS output changes)")
    ax_rate.set_ylabel("predictions changed by noise (%)")
    ax_cdf.set_ylabel("samples with a smaller ratio (%)")
    ax_rate.set_ylim(0, 100)
    ax_cdf.set_ylim(0, 100)
    ax_rate.legend(loc="upper right", fontsize=8)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
