"""Figures of the Memristor noise chapter, continued: the two cells of a pair together, and mixtures.

The paper's Fig. 2d (middle and right) shows the joint distribution of ``G+`` and ``G-`` before and after
pruning; its Fig. 2b describes the conductances as a mixture of Gaussians. The first figures are in
:mod:`primekit.plots.memristor_noise`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from primekit.plots._base import _figure_and_axes, _to_numpy

#: Colours of kept and RESET pairs (the style's first and fourth colours: blue and vermillion).
KEPT_COLOR, RESET_COLOR = "C0", "C3"


def _reset_mask(pairs) -> np.ndarray:
    g_plus = _to_numpy(pairs.g_plus).ravel()
    if pairs.reset is None:
        return np.zeros(g_plus.size, dtype=bool)
    return _to_numpy(pairs.reset).ravel().astype(bool)


def plot_pair_joint(before, after, config, axes=None, *, marker_size: float = 14.0):
    """``G+`` against ``G-`` of every pair, one dot per pair: before (left) and after (right) pruning.

    Kept pairs are blue dots, RESET pairs vermillion crosses (both cells near ``g_reset_us``); the
    dashed diagonal ``G+ = G-`` holds the pairs of weight zero. Both panels span the device range.

    Args:
        before, after: :class:`primekit.chip.memristor.Pairs` (µS) of the same pairs, e.g. formed and after
            :func:`primekit.chip.memristor.reset_pruned`; any shape (flattened).
        config: the :class:`primekit.chip.memristor.MemristorConfig` (for the device range).
        axes: two axes; a new figure when None.
        marker_size: dot area (points^2).

    Returns:
        The matplotlib Figure.
    """
    if _to_numpy(before.g_plus).size != _to_numpy(after.g_plus).size:
        raise ValueError(f"before has {_to_numpy(before.g_plus).size} pairs but after has "
                         f"{_to_numpy(after.g_plus).size}; they must be the same pairs")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(6.9, 3.7), sharex=True, sharey=True)
    ax_before, ax_after = axes
    fig = ax_before.figure
    lo, hi = config.g_min_us, config.g_max_us
    span = hi - lo
    for ax, pairs in ((ax_before, before), (ax_after, after)):
        g_plus, g_minus = _to_numpy(pairs.g_plus).ravel(), _to_numpy(pairs.g_minus).ravel()
        reset = _reset_mask(pairs)
        ax.plot([lo, hi], [lo, hi], color="0.5", linestyle="--", linewidth=0.9, zorder=1)
        ax.scatter(g_plus[~reset], g_minus[~reset], s=marker_size, color=KEPT_COLOR, edgecolor="k",
                   linewidth=0.3, zorder=3)
        if reset.any():
            ax.scatter(g_plus[reset], g_minus[reset], s=marker_size, marker="x", color=RESET_COLOR, linewidth=0.9,
                       zorder=4)
            ax.annotate(f"{int(reset.sum())} RESET pairs:\nboth cells near {config.g_reset_us:g} µS",
                        xy=(config.g_reset_us + 0.02 * span, config.g_reset_us + 0.02 * span),
                        xytext=(lo + 0.22 * span, lo + 0.06 * span), fontsize=9, color=RESET_COLOR, va="center",
                        arrowprops={"arrowstyle": "->", "lw": 0.8, "color": RESET_COLOR})
        ax.text(lo + 0.85 * span, lo + 0.87 * span, "$G^+ = G^-$ ($w$ = 0)", ha="center", va="bottom",
                rotation=45, rotation_mode="anchor", fontsize=9, color="0.35")
        ax.set_xlim(lo - 0.03 * span, hi)      # a margin: the RESET pairs sit in the corner
        ax.set_ylim(lo - 0.03 * span, hi)
        ax.set_aspect("equal")
        ax.set_xlabel("$G^+$ (µS)")
    n, n_reset = _to_numpy(before.g_plus).size, int(_reset_mask(after).sum())
    ax_before.set_title(f"before pruning: {n} pairs")
    ax_after.set_title(f"after pruning: {n - n_reset} kept, {n_reset} RESET")
    ax_before.set_ylabel("$G^-$ (µS)")
    return fig


def plot_conductance_mixture(values, fit, ax=None, *, edges=None, bins: int = 80, what: str = "cells",
                             title: str | None = None, headroom: float = 0.6):
    """Histogram of conductances (counts per bin, log axis) with a fitted Gaussian mixture over it.

    Each fitted component is drawn as the number of values it puts into each bin (dashed; a narrow
    component is drawn as tall as its histogram bar, which a density curve would not be), their sum as
    a solid line. A single component is drawn once, solid.

    Args:
        values: the fitted values (µS), any shape (flattened).
        fit: the mixture, e.g. a :class:`primekit.experiments.conductance_mixture.MixtureFit` (anything with
            ``means``, ``stds``, ``weights``, ``components`` and ``expected_counts(edges)``).
        ax: axes to draw into; a new figure when None.
        edges: bin edges (µS); ``bins`` equal bins over the values' range when None.
        bins: number of bins when ``edges`` is None.
        what: what the values are, for the legend ("cells").
        title: optional title.
        headroom: the tallest bar reaches this fraction of the (logarithmic) height; the legend sits above.

    Returns:
        The matplotlib Figure.
    """
    values = _to_numpy(values).astype(float).ravel()
    if values.size < 2:
        raise ValueError(f"values has {values.size} entries; a histogram needs at least 2")
    if not 0 < headroom <= 1:
        raise ValueError(f"headroom={headroom!r} must be in (0, 1]")
    edges = np.linspace(values.min(), values.max(), bins + 1) if edges is None else np.asarray(edges, float)
    expected = fit.expected_counts(edges)
    fig, ax = _figure_and_axes(ax, figsize=(5.0, 3.4))
    counts, _, _ = ax.hist(values, bins=edges, color=KEPT_COLOR, alpha=0.45, label=f"{values.size:,} {what}")
    if fit.components > 1:
        total_label = f"sum of the {fit.components} components"
    else:
        total_label = f"1 component: {fit.means[0]:.2f} µS, std {fit.stds[0]:.2f}"
    ax.stairs(expected.sum(axis=0), edges, color="k", linewidth=1.0, label=total_label, zorder=3)
    if fit.components > 1:  # dashed on top of the sum, which they follow wherever the others are negligible
        for k, component in enumerate(expected):
            ax.stairs(component, edges, color=f"C{k + 1}", linestyle="--", linewidth=1.6, zorder=4,
                      label=f"{fit.means[k]:.2f} µS, std {fit.stds[k]:.2f} ({100 * fit.weights[k]:.0f} %)")
    ax.set_yscale("log")
    bottom = 0.5
    top_data = max(float(counts.max()), float(expected.sum(axis=0).max()), 1.0)
    ax.set_ylim(bottom, bottom * (top_data / bottom) ** (1 / headroom))
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("cell conductance (µS)")
    ax.set_ylabel(f"{what} per bin")
    ax.legend(loc="upper right", fontsize=9, title=f"BIC chose {fit.components} component" + ("s" if fit.components > 1 else ""), title_fontsize=9)
    if title:
        ax.set_title(title)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
