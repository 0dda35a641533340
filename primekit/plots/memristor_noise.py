"""Figures of the Memristor noise chapter: schematics, conductance maps, histograms, cycle statistics and
read traces.

The joint distribution of a pair's two cells and the mixture fits are in :mod:`primekit.plots.memristor_pairs`;
noise sweeps and chip outputs are in :mod:`primekit.plots.memristor_chips`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from primekit.plots._base import _figure_and_axes, _matrix, _normal_pdf, _steps, _to_numpy


def plot_filament_schematic(axes=None, *, seed: int = 0):
    """A schematic of why memristors are random: filament formation (left) and read noise (right).

    Left: three cells (electrodes grey, oxide beige) after forming; oxygen vacancies (dots) gather into
    a conductive filament whose path and thickness differ from cell to cell, so every cell ends at its
    own conductance. Right: one cell being read; traps next to the filament capture and release
    electrons, and together with thermal noise this makes the read current fluctuate. A drawing, not a
    simulation: positions are random (``seed``) and carry no units.

    Args:
        axes: two axes ``(forming_axes, reading_axes)``; a new figure when None.
        seed: seed of the random vacancy positions.

    Returns:
        The matplotlib Figure.
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(6.4, 6.0), height_ratios=(1.0, 1.0))
    ax_form, ax_read = axes
    fig = ax_form.figure
    rng = np.random.default_rng(seed)
    electrode, oxide, vacancy = "0.55", "#f3e6c8", "C3"

    def cell(ax, x0, width):
        ax.add_patch(Rectangle((x0, 0.0), 1.0, 0.15, color=electrode))
        ax.add_patch(Rectangle((x0, 0.15), 1.0, 1.0, color=oxide))
        ax.add_patch(Rectangle((x0, 1.15), 1.0, 0.15, color=electrode))
        background = rng.uniform((x0 + 0.03, 0.18), (x0 + 0.97, 1.12), size=(10, 2))
        ax.plot(*background.T, ".", color=vacancy, markersize=3, alpha=0.6)
        heights = np.linspace(0.18, 1.12, 40)
        centre = x0 + 0.5 + np.cumsum(rng.normal(0.0, 0.025, heights.size))
        centre = np.clip(centre, x0 + 0.15 + width, x0 + 0.85 - width)
        n_dots = int(30 + 400 * width)
        rows = rng.integers(0, heights.size, n_dots)
        xs = centre[rows] + rng.uniform(-width, width, n_dots)
        ax.plot(xs, heights[rows] + rng.normal(0, 0.01, n_dots), ".", color=vacancy, markersize=3)

    for k, (width, text) in enumerate([(0.04, "thin filament:\nlow conductance"),
                                       (0.09, "medium filament"),
                                       (0.16, "thick filament:\nhigh conductance")]):
        x0 = 1.35 * k
        cell(ax_form, x0, width)
        ax_form.text(x0 + 0.5, -0.08, text, ha="center", va="top", fontsize=9)
    ax_form.set_title("programming: every forming grows its own filament", fontsize=10)
    ax_form.text(-0.08, 1.22, "top\nelectrode", ha="right", va="center", fontsize=9)
    ax_form.text(-0.08, 0.65, "oxide\n(vacancies:\ndots)", ha="right", va="center", fontsize=9)
    ax_form.text(-0.08, 0.07, "bottom\nelectrode", ha="right", va="center", fontsize=9)
    ax_form.set_xlim(-0.95, 3.75)
    ax_form.set_ylim(-0.45, 1.4)

    cell(ax_read, 0.0, 0.09)
    traps = np.array([[0.25, 0.45], [0.78, 0.75], [0.3, 0.95], [0.72, 0.35]])
    ax_read.plot(*traps.T, "o", markersize=7, markerfacecolor="white", markeredgecolor="C0")
    ax_read.plot(*traps[1], "o", markersize=7, color="C0")
    ax_read.text(traps[1, 0] + 0.09, traps[1, 1], "trapped\nelectron", fontsize=9, va="center")
    ax_read.add_patch(FancyArrowPatch((0.5, 0.7), traps[1] - (0.04, 0), arrowstyle="->", mutation_scale=8,
                                      color="C0", connectionstyle="arc3,rad=-0.4"))
    ax_read.text(0.5, -0.08, "traps (circles) capture and\nrelease electrons;\nthermal noise adds jitter",
                 ha="center", va="top", fontsize=9)
    t = np.linspace(1.35, 2.85, 400)
    telegraph = np.where(np.sin(23 * t) + 0.6 * np.sin(57 * t + 1) > 0.4, 0.08, 0.0)
    trace = 0.65 + telegraph + rng.normal(0, 0.012, t.size)
    ax_read.plot(t, trace, color="k", linewidth=0.8)
    ax_read.text(2.1, 0.92, "read current over time", ha="center", fontsize=9)
    ax_read.set_title("reading: the current fluctuates", fontsize=10)
    ax_read.set_xlim(-0.95, 3.75)
    ax_read.set_ylim(-0.45, 1.4)
    for ax in axes:
        ax.set_aspect("equal")
        ax.axis("off")
    return fig


def plot_crossbar_schematic(voltages, g_plus, g_minus, ax=None, *, vmax: float | None = None):
    """A crossbar of differential pairs computing ``I_j = sum_i V_i (G+_ij - G-_ij)``.

    Rows carry the input voltages (left); every cell (a square coloured by its conductance) passes
    ``V_i G_ij`` (Ohm's law) onto its column wire, where the currents add up (Kirchhoff's current law).
    Each output uses two columns, G+ and G-, whose currents are subtracted.

    Args:
        voltages: row voltages, shape ``[rows]`` (V).
        g_plus, g_minus: conductances, shape ``[rows, pairs]`` (µS).
        ax: axes to draw into; a new figure when None.
        vmax: top of the colour scale (µS); the largest conductance when None.

    Returns:
        The matplotlib Figure.
    """
    from matplotlib.patches import Rectangle

    v, gp, gm = _to_numpy(voltages).ravel(), _to_numpy(g_plus), _to_numpy(g_minus)
    if gp.shape != gm.shape or gp.ndim != 2 or gp.shape[0] != v.size:
        raise ValueError(f"need voltages [rows] and conductances [rows, pairs]; got {v.shape}, {gp.shape}, {gm.shape}")
    rows, pairs = gp.shape
    fig, ax = _figure_and_axes(ax, figsize=(2.0 + 1.75 * pairs, 1.6 + 0.8 * rows))
    vmax = float(max(gp.max(), gm.max())) if vmax is None else vmax
    cmap = plt.get_cmap("viridis")
    x_of = {(j, s): 1.5 * j + 0.6 * s for j in range(pairs) for s in (0, 1)}
    right = 1.5 * (pairs - 1) + 0.6 + 0.4
    for i in range(rows):
        y = -i
        ax.plot([-0.4, right], [y, y], color="0.3", linewidth=1.0)
        ax.text(-0.5, y, f"$V_{{{i + 1}}}$ = {v[i]:.2f} V", ha="right", va="center", fontsize=9)
    for j in range(pairs):
        for s, (g, name) in enumerate(((gp, "+"), (gm, "-"))):
            x = x_of[(j, s)]
            ax.plot([x, x], [0.4, -rows + 0.35], color="0.3", linewidth=1.0)
            for i in range(rows):
                ax.add_patch(Rectangle((x - 0.16, -i - 0.16), 0.32, 0.32, color=cmap(g[i, j] / vmax),
                                       ec="k", linewidth=0.5, zorder=3))
            current = float(v @ g[:, j])
            ax.annotate("", xy=(x, -rows + 0.05), xytext=(x, -rows + 0.35),
                        arrowprops={"arrowstyle": "->", "color": "k", "lw": 0.8})
            ax.text(x, -rows - 0.05, f"$I^{{{name}}}_{{{j + 1}}}$\n{current:.2f}", ha="center", va="top",
                    fontsize=9)
        xm = 0.5 * (x_of[(j, 0)] + x_of[(j, 1)])
        out = float(v @ (gp[:, j] - gm[:, j]))
        ax.text(xm, -rows - 0.85, f"$I_{{{j + 1}}}$ = {out:.2f} µA", ha="center", va="top", fontsize=9,
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.5"})
        ax.text(xm, 0.55, f"pair {j + 1}\n$G^+$   $G^-$", ha="center", va="bottom", fontsize=9)
    ax.text(right + 0.1, -rows - 0.1, "column\ncurrents\n(µA)", fontsize=9, va="top")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, vmax))
    fig.colorbar(sm, ax=ax, shrink=0.7, label="cell conductance (µS)")
    ax.set_xlim(-2.2, right + 0.9)
    ax.set_ylim(-rows - 1.45, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_conductance_map(g, ax=None, *, title: str | None = None, label: str = "conductance (µS)",
                         vmin: float | None = None, vmax: float | None = None):
    """Heatmap of an array of cell conductances, ``[rows, columns]`` in µS, with a colour bar.

    Returns:
        The matplotlib Figure.
    """
    g = _matrix(g, "g", "[rows, columns]")
    fig, ax = _figure_and_axes(ax)
    image = ax.imshow(g, cmap="viridis", vmin=vmin, vmax=vmax, interpolation="nearest")
    fig.colorbar(image, ax=ax, label=label)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return fig


def plot_histogram_with_normal(values, ax=None, *, unit: str = "µS", quantity: str = "conductance",
                               bins: int = 60, color: str = "C0", title: str | None = None):
    """Histogram (as a density) of ``values`` with the normal fitted by their mean and std overlaid.

    Args:
        values: any array (flattened).
        ax: axes to draw into; a new figure when None.
        unit, quantity: x label "quantity (unit)"; the density is per unit.
        bins: number of histogram bins.
        color: colour of the bars.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    values = _to_numpy(values).ravel().astype(float)
    if values.size < 2:
        raise ValueError(f"need at least 2 values for a histogram with a fitted normal, got {values.size}")
    fig, ax = _figure_and_axes(ax)
    mean, std = float(values.mean()), float(values.std(ddof=1))
    ax.hist(values, bins=bins, density=True, color=color, alpha=0.6, label=f"{values.size:,} values")
    x = np.linspace(values.min(), values.max(), 400)
    ax.plot(x, _normal_pdf(x, mean, std), color="k", linewidth=1.4,
            label=f"fitted normal\nmean {mean:.2f} {unit}, std {std:.2f} {unit}")
    ax.set_xlabel(f"{quantity} ({unit})")
    ax.set_ylabel(f"density (per {unit})")
    ax.legend(loc="upper left")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.45)
    if title:
        ax.set_title(title)
    return fig


def plot_pair_histograms(before, after, config, axes=None, *, bins: int = 80):
    """Conductances of G+ and G- (top) and the weights they hold (bottom), before and after pruning.

    Before pruning both cells are quasi-normal around ``g_mean_us``; after pruning the RESET pairs pile
    up in a narrow peak at ``g_reset_us`` (near zero) and their weights in a peak at zero. Counts are on
    a logarithmic axis so that the tall RESET peak and the kept pairs are both visible.

    Args:
        before, after: :class:`primekit.chip.memristor.Pairs` (µS), e.g. a formed array and the same array
            after :func:`primekit.chip.memristor.reset_pruned`.
        config: the :class:`primekit.chip.memristor.MemristorConfig` (for ``weight_scale`` and the range).
        axes: a 2 x 2 array of axes; a new figure when None.
        bins: histogram bins per panel.

    Returns:
        The matplotlib Figure.
    """
    if axes is None:
        fig, axes = plt.subplots(2, 2, figsize=(7.4, 5.8), sharex="row", sharey="row")
    axes = np.asarray(axes)
    fig = axes.flat[0].figure
    g_bins = np.linspace(config.g_min_us, config.g_max_us, bins + 1)
    w_all = np.concatenate([_to_numpy(p.weights(config)).ravel() for p in (before, after)])
    w_lim = float(np.abs(w_all).max()) * 1.02
    w_bins = np.linspace(-w_lim, w_lim, bins + 1)
    for col, (pairs, name) in enumerate(((before, "before pruning"), (after, "after pruning"))):
        ax_g, ax_w = axes[0, col], axes[1, col]
        ax_g.hist(_to_numpy(pairs.g_plus).ravel(), bins=g_bins, histtype="stepfilled", alpha=0.5, color="C0",
                  label="$G^+$")
        ax_g.hist(_to_numpy(pairs.g_minus).ravel(), bins=g_bins, histtype="step", linewidth=1.2, color="C1",
                  label="$G^-$")
        ax_g.set_title(name)
        ax_g.set_xlabel("cell conductance (µS)")
        ax_g.set_yscale("log")
        ax_g.legend(loc="upper right")
        ax_w.hist(_to_numpy(pairs.weights(config)).ravel(), bins=w_bins, color="C2", alpha=0.8)
        ax_w.set_xlabel(f"weight $w$ = {config.weight_scale:g} × ($G^+ - G^-$ in µS)")
        ax_w.set_yscale("log")
        if pairs.reset is not None and bool(_to_numpy(pairs.reset).any()):
            n_reset = int(_to_numpy(pairs.reset).sum())
            ax_g.annotate(f"RESET cells\n({2 * n_reset:,})", xy=(config.g_reset_us, 0.5 * ax_g.get_ylim()[1]),
                          xytext=(config.g_reset_us + 0.12 * (config.g_max_us - config.g_min_us),
                                  0.5 * ax_g.get_ylim()[1]),
                          va="center", fontsize=9, arrowprops={"arrowstyle": "->", "lw": 0.8})
            ax_w.annotate(f"RESET pairs\n({n_reset:,})", xy=(0.0, 0.5 * ax_w.get_ylim()[1]),
                          xytext=(0.35 * w_lim, 0.5 * ax_w.get_ylim()[1]), va="center", fontsize=9,
                          arrowprops={"arrowstyle": "->", "lw": 0.8})
    axes[0, 0].set_ylabel("cells")
    axes[1, 0].set_ylabel("pairs")
    return fig


def plot_mean_vs_spread(cycles, ax=None, *, title: str | None = None):
    """Each cell's mean conductance against its std over re-programming cycles (one dot per cell).

    Args:
        cycles: conductances ``[n_cycles, n_cells]`` (µS), e.g. from
            :func:`primekit.chip.memristor.reprogram_cycles`.
        ax: axes to draw into; a new figure when None.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    cycles = _to_numpy(cycles)
    if cycles.ndim != 2 or cycles.shape[0] < 2:
        raise ValueError(f"cycles must be shaped [n_cycles >= 2, n_cells], got {cycles.shape}")
    fig, ax = _figure_and_axes(ax)
    mean, std = cycles.mean(axis=0), cycles.std(axis=0, ddof=1)
    ax.scatter(mean, std, s=14, color="C0", edgecolor="k", linewidth=0.3,
               label=f"{cycles.shape[1]} cells, {cycles.shape[0]:,} cycles each")
    ax.set_xlabel("mean conductance over cycles (µS)")
    ax.set_ylabel("std over cycles (µS)")
    ax.set_ylim(0, max(float(std.max()) * 1.5, 1e-9))
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return fig


def plot_read_traces(traces, ax=None, *, xlabel: str = "read number (reads)", ylabel: str = "conductance (µS)",
                     title: str | None = None, linewidth: float = 0.4):
    """Conductance of several cells over repeated reads (or programming cycles), one line per cell.

    Lines are coloured by each cell's mean (dark: low, light: high) and rasterised in vector output.

    Args:
        traces: ``[n_reads, n_cells]`` (µS); reads are numbered from 1.
        ax: axes to draw into; a new figure when None.
        xlabel, ylabel: axis labels with units (use "programming cycle (cycles)" for cycles).
        title: optional title.
        linewidth: line width of the traces.

    Returns:
        The matplotlib Figure.
    """
    traces = _matrix(traces, "traces", "[n_reads, n_cells]")
    fig, ax = _figure_and_axes(ax)
    n = _steps(traces.shape[0])
    order = np.argsort(np.argsort(traces.mean(axis=0)))  # colour by each cell's mean: low dark, high light
    for k in range(traces.shape[1]):
        ax.plot(n, traces[:, k], linewidth=linewidth, rasterized=True,
                color=plt.get_cmap("viridis")(0.9 * order[k] / max(traces.shape[1] - 1, 1)))
    ax.set_xlim(1, traces.shape[0])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
