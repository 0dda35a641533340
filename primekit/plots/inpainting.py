"""Figures of the Image-inpainting chapter: consistency scores, threshold sweeps, methods, noise, energy.

The functions take plain results (the ``Quality`` rows, sweeps and energy rows of
:mod:`primekit.experiments.inpainting_runs`), read through their attributes only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, NullLocator

from primekit.experiments.inpainting_summaries import ratio_words
from primekit.plots._base import _figure_and_axes, _plain_log_ticks, _steps, _to_numpy

#: Width (in) of the chapter's figures: inside the book's 772 px text column (8 in) with room to spare.
FIGURE_WIDTH_IN = 7.0

#: Axis labels of the measured quantities.
QUANTITY_LABELS = {"whole": "MSE, whole image", "damaged": "MSE, damaged square", "mnist_is": "MNIST IS",
                   "accuracy": "classifier accuracy (%)", "mean_exit": "mean exit step (timesteps)"}
_KIND_TITLES = {"programming": "programming noise (fixed per chip)", "read": "read noise (every read)"}


def _eps_axis(ax, epsilons: Sequence[float], min_gap_decades: float = 0.15) -> None:
    """A log ε axis with a tick at every threshold, labelled plainly (0.2, 0.3, 1) where labels do not collide."""
    values = sorted({float(e) for e in epsilons})
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    labels, last = [], None
    for e in values:
        if last is None or np.log10(e / last) >= min_gap_decades:
            labels.append(f"{e:g}")
            last = e
        else:
            labels.append("")
    ax.set_xticks(values, labels)
    ax.set_xlabel("consistency threshold ε")


def _eps_rows(rows: Sequence) -> tuple[list, object]:
    """The early-stop rows (eps given) and the full-T row (eps None, last)."""
    stopped = [r for r in rows if r.eps is not None]
    full = [r for r in rows if r.eps is None]
    if not stopped or len(full) != 1:
        raise ValueError("rows must hold at least one threshold and exactly one full-T row (eps=None)")
    return stopped, full[0]


def plot_digit_grid(images, *, row_labels: Sequence[str], titles: Sequence[str] | None = None,
                    vmin: float = -1.0, vmax: float = 1.0, colorbar_label: str | None = "pixel value",
                    panel_in: float = 0.75):
    """Digits in a grid, one row per version (clean, damaged, reconstructions), one column per digit.

    Args:
        images: ``[R, C, H, W]``: R rows (one per entry of ``row_labels``) of C digits.
        row_labels: the label written left of each row.
        titles: C column titles above the top row (e.g. the digits' classes), or None.
        vmin, vmax: the shared grey scale (the digits are in [-1, 1]).
        colorbar_label: label of the colour bar; no colour bar when None.
        panel_in: width of one panel (in); 0.75 in keeps eight digits inside the text column.

    Pixel axes carry no ticks: a digit's pixel coordinates tell the reader nothing.
    """
    images = _to_numpy(images)
    if images.ndim != 4:
        raise ValueError(f"images must be [rows, columns, H, W], got shape {images.shape}")
    rows, cols = images.shape[:2]
    if len(row_labels) != rows:
        raise ValueError(f"{len(row_labels)} row labels for {rows} rows")
    if titles is not None and len(titles) != cols:
        raise ValueError(f"{len(titles)} column titles for {cols} columns")
    extra = 1.2 if colorbar_label is not None else 0.6   # row labels (and the colour bar)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_in * cols + extra + 0.4, panel_in * rows + 0.35),
                             squeeze=False)
    shown = None
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            shown = ax.imshow(images[r, c], cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
            if r == 0 and titles is not None:
                ax.set_title(str(titles[c]), fontsize=9)
        axes[r, 0].set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize=9)
    if colorbar_label is not None:
        fig.colorbar(shown, ax=list(axes.ravel()), label=colorbar_label, shrink=0.8, aspect=30)
    return fig


def plot_consistency_scores(scores, eps: float, exits=None, ax=None, *, labels: Sequence[str] | None = None):
    """``d_t`` ``[T, N]`` of a few reconstructions against the step, the threshold ``eps`` and each exit."""
    scores = _to_numpy(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be [T, N] consistency scores, got shape {scores.shape}")
    fig, ax = _figure_and_axes(ax, figsize=(FIGURE_WIDTH_IN, 3.4))
    steps = _steps(scores.shape[0])
    for n in range(scores.shape[1]):
        label = labels[n] if labels is not None else f"digit {n + 1}"
        line, = ax.plot(steps, scores[:, n], marker="o", markersize=3, label=label)
        if exits is not None and int(exits[n]) < scores.shape[0]:
            ax.plot([int(exits[n])], [scores[int(exits[n]) - 1, n]], marker="s", markersize=8,
                    markerfacecolor="none", color=line.get_color())
    ax.axhline(eps, color="k", linestyle="--", linewidth=1.0, label=f"ε = {eps:g}")
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("timestep t")
    ax.set_ylabel("consistency score $d_t$ (log scale)")
    ax.set_xticks(steps[::2])
    # beside the axes, never over the scores
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_eps_sweep(rows_by_network: Mapping[str, Sequence], timesteps: int, axes=None):
    """Damaged-square MSE (left) and mean exit step (right) against ε, one line per network (Fig. 4b);
    dotted: the same network at full T."""
    if axes is None:
        _fig, axes = plt.subplots(1, 2, figsize=(FIGURE_WIDTH_IN, 3.2))
    ax_loss, ax_exit = np.asarray(axes).ravel()
    for k, (name, rows) in enumerate(rows_by_network.items()):
        stopped, full = _eps_rows(rows)
        eps = [r.eps for r in stopped]
        ax_loss.plot(eps, [r.damaged for r in stopped], marker="o", color=f"C{k}", label=name)
        ax_loss.axhline(full.damaged, color=f"C{k}", linestyle=":", linewidth=1.0)
        ax_exit.plot(eps, [r.mean_exit for r in stopped], marker="o", color=f"C{k}", label=name)
    ax_exit.axhline(timesteps, color="k", linestyle="--", linewidth=1.0, label=f"T = {timesteps}")
    for ax in (ax_loss, ax_exit):
        _eps_axis(ax, [r.eps for rows in rows_by_network.values() for r in _eps_rows(rows)[0]])
    ax_loss.set_ylabel(QUANTITY_LABELS["damaged"])
    ax_exit.set_ylabel(QUANTITY_LABELS["mean_exit"])
    ax_exit.set_ylim(0, timesteps + 0.5)
    handles, labels = ax_loss.get_legend_handles_labels()
    handles.append(ax_exit.get_lines()[-1])
    labels.append(handles[-1].get_label())
    ax_loss.figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False,
                          ncols=len(handles))
    return ax_loss.figure


def plot_method_losses(rows_by_method: Mapping[str, Sequence], eps: float, axes=None):
    """Whole-image and damaged-square MSE of every method with early stop at ``eps`` and without (Fig. 4c);
    the two panels are stacked, so the methods' names and the bars' values stay readable in the text column."""
    if axes is None:
        _fig, axes = plt.subplots(2, 1, figsize=(FIGURE_WIDTH_IN, 5.4), sharex=True)
    names = list(rows_by_method)
    x = np.arange(len(names))
    for ax, quantity in zip(np.asarray(axes).ravel(), ("whole", "damaged")):
        for offset, (label, pick) in zip((-0.2, 0.2), ((f"early stop, ε = {eps:g}", eps), ("no early stop", None))):
            values = [next(getattr(r, quantity) for r in rows_by_method[n] if r.eps == pick) for n in names]
            bars = ax.bar(x + offset, values, width=0.38, label=label, color="C0" if pick is not None else "0.6")
            ax.bar_label(bars, fmt="%.3f", fontsize=9, padding=1)
        ax.set_xticks(x, names)
        ax.set_ylabel(QUANTITY_LABELS[quantity])
        ax.set_ylim(0, 1.18 * max(p.get_height() for p in ax.patches))
    first = np.asarray(axes).ravel()[0]
    first.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)   # above the panels, off the bars
    return first.figure


def plot_quality_vs_eps(rows_by_method: Mapping[str, Sequence], quantity: str = "mnist_is", ax=None, *,
                        reference: float | None = None, reference_label: str = "clean test digits"):
    """One quantity (default the MNIST IS) against ε, one line per method (Fig. 4e); dotted: full T."""
    if quantity not in QUANTITY_LABELS:
        raise ValueError(f"quantity={quantity!r} must be one of {tuple(QUANTITY_LABELS)}")
    fig, ax = _figure_and_axes(ax, figsize=(FIGURE_WIDTH_IN, 3.4))
    scale = 100.0 if quantity == "accuracy" else 1.0
    for k, (name, rows) in enumerate(rows_by_method.items()):
        stopped, full = _eps_rows(rows)
        ax.plot([r.eps for r in stopped], [scale * getattr(r, quantity) for r in stopped], marker="o",
                color=f"C{k}", label=name)
        ax.axhline(scale * getattr(full, quantity), color=f"C{k}", linestyle=":", linewidth=1.0)
    if reference is not None:
        ax.axhline(scale * reference, color="k", linestyle="--", linewidth=1.0, label=reference_label)
    _eps_axis(ax, [r.eps for rows in rows_by_method.values() for r in _eps_rows(rows)[0]])
    ax.set_ylabel(QUANTITY_LABELS[quantity])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))   # beside the axes, never over the curves
    return fig


def plot_noise_quality(sweep, method: str, quantity: str = "damaged", axes=None, *,
                       epsilons: Sequence[float | None] = (None,)):
    """``quantity`` (mean and spread over chips) against each noise kind's level for one method, one line per
    threshold (None: no early stop); the paper's Fig. 4d and 5e."""
    kinds = sweep.config.kinds
    if axes is None:
        _fig, axes = plt.subplots(1, len(kinds), figsize=(FIGURE_WIDTH_IN, 3.2), sharey=True, squeeze=False)
    axes = np.asarray(axes).ravel()
    scale = 100.0 if quantity == "accuracy" else 1.0
    levels = 100 * np.asarray(sweep.config.levels)
    for ax, kind in zip(axes, kinds):
        for k, eps in enumerate(epsilons):
            mean, spread = sweep.stats(method, kind, quantity, eps)
            label = "no early stop" if eps is None else f"ε = {eps:g}"
            ax.errorbar(levels, scale * mean, yerr=scale * spread, marker="o", markersize=4, capsize=2,
                        color=f"C{k}", label=label)
        ax.set_xlabel("noise level (% of each cell's conductance)")
        ax.set_title(_KIND_TITLES.get(kind, kind), fontsize=10)
    axes[0].set_ylabel(QUANTITY_LABELS[quantity])
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False,
                          ncols=len(handles))   # below the panels, never over the error bars
    return axes[0].figure


def plot_vae_energy(rows_by_case: Mapping[str, Sequence], ax=None, *, paper_ratio: float | None = None):
    """Energy per image (nJ) of the digital system and of each hybrid case against ε (Fig. 4f); dotted: the same
    at full T. The legend gives each hybrid case's ratio digital / hybrid at full T (beside the axes, where it
    never covers a line)."""
    fig, ax = _figure_and_axes(ax, figsize=(FIGURE_WIDTH_IN, 3.6))
    first = next(iter(rows_by_case.values()))
    stopped, full = _eps_rows(first)
    ax.plot([r.eps for r in stopped], [r.digital_pj / 1e3 for r in stopped], marker="s", color="0.3",
            label="digital (event-driven)")
    ax.axhline(full.digital_pj / 1e3, color="0.3", linestyle=":", linewidth=1.0)
    for k, (name, rows) in enumerate(rows_by_case.items()):
        stopped, full = _eps_rows(rows)
        ax.plot([r.eps for r in stopped], [r.hybrid_pj / 1e3 for r in stopped], marker="o", color=f"C{k}",
                label=f"hybrid, {name}\n({ratio_words(full.ratio)} at full T)")
        ax.axhline(full.hybrid_pj / 1e3, color=f"C{k}", linestyle=":", linewidth=1.0)
    _eps_axis(ax, [r.eps for r in stopped])
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_ylabel("energy per image (nJ, log scale)")
    if paper_ratio is not None:
        ax.set_title(f"digital / hybrid; the paper reports up to {paper_ratio:.2f}x", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))   # beside the axes, never over the lines
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
