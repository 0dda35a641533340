"""Figures of the Subnet scoring chapter: mask training, training curves, kept fractions, methods."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from primekit.plots._base import _figure_and_axes, _steps, _to_numpy


def plot_mask_training(losses, magnitudes, masks, axes=None, *, reference=None,
                       loss_label: str = "training loss (mean squared error)"):
    """Edge-popup on a small layer: the loss, every score's magnitude and the mask over training steps.

    Step 0 is the initial state; step ``s`` the state after ``s`` optimiser updates. The middle panel
    draws the keep threshold (halfway between the smallest kept and the largest pruned ``|S|``).

    Args:
        losses: loss at each step, shape ``[S + 1]``.
        magnitudes: score magnitudes ``|S|`` at each step, shape ``[S + 1, n]`` (weights flattened).
        masks: keep decisions at each step, shape ``[S + 1, n]`` (bool or 0/1).
        axes: three axes; a new figure of three stacked panels when None.
        reference: optional mask the scores should find, shape ``[n]`` (e.g. a planted subnet): the
            middle panel colours weights by it and the right panel sorts its rows by it.
        loss_label: label of the loss axis, with units.

    Returns:
        The matplotlib Figure.
    """
    losses = _to_numpy(losses).astype(float).ravel()
    magnitudes = _to_numpy(magnitudes).astype(float)
    masks = _to_numpy(masks).astype(bool)
    if magnitudes.ndim != 2 or masks.shape != magnitudes.shape or losses.shape[0] != magnitudes.shape[0]:
        raise ValueError(f"need losses [S+1], magnitudes and masks [S+1, n]; got {losses.shape}, "
                         f"{magnitudes.shape}, {masks.shape}")
    n = magnitudes.shape[1]
    reference = None if reference is None else _to_numpy(reference).astype(bool).ravel()
    if reference is not None and reference.shape[0] != n:
        raise ValueError(f"reference has {reference.shape[0]} entries, the layer {n} weights")
    if axes is None:
        fig, axes = plt.subplots(3, 1, figsize=(7.0, 8.4), height_ratios=(0.8, 1.0, 1.0))
    axes = np.asarray(axes).ravel()
    fig = axes[0].figure
    steps = np.arange(losses.shape[0])
    ax_loss, ax_scores, ax_mask = axes
    ax_loss.plot(steps, losses, color="k")
    ax_loss.set_xlabel("optimiser step (updates)")
    ax_loss.set_ylabel(loss_label)
    ax_loss.set_ylim(bottom=0)
    for k in range(n):
        if reference is None:
            color = "C0" if masks[-1, k] else "C1"
        else:
            color = "C0" if reference[k] else "C1"
        ax_scores.plot(steps, magnitudes[:, k], color=color, linewidth=0.9, alpha=0.8)
    kept = np.where(masks, magnitudes, np.inf).min(axis=1)
    pruned = np.where(~masks, magnitudes, -np.inf).max(axis=1)
    threshold = np.where(np.isfinite(kept) & np.isfinite(pruned), 0.5 * (kept + pruned), np.nan)
    ax_scores.plot(steps, threshold, color="k", linestyle="--", linewidth=1.2)
    names = ("in the planted subnet", "not in it") if reference is not None else ("kept at the end", "pruned at the end")
    ax_scores.legend([Line2D([], [], color="C0"), Line2D([], [], color="C1"),
                      Line2D([], [], color="k", linestyle="--")], [*names, "keep threshold"],
                     loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3)
    ax_scores.set_xlabel("optimiser step (updates)")
    ax_scores.set_ylabel("score magnitude |S| (a.u.)")
    order = np.arange(n) if reference is None else np.argsort(~reference, kind="stable")
    ax_mask.imshow(masks[:, order].T, aspect="auto", cmap="Greys", vmin=0, vmax=1.6, interpolation="nearest",
                   extent=(-0.5, steps[-1] + 0.5, n - 0.5, -0.5))
    if reference is not None:
        # a true red: the style cycle's C3 (vermillion) reads as orange beside C1 in the panel above
        ax_mask.axhline(int(reference.sum()) - 0.5, color="#d62728", linewidth=1.4)
        ax_mask.set_ylabel("weight (planted subnet above the red line)")
    else:
        ax_mask.set_ylabel("weight (index)")
    ax_mask.set_xlabel("optimiser step (updates)")
    ax_mask.set_title("mask: dark = kept, white = pruned")
    ax_mask.set_xlim(ax_loss.get_xlim())
    ax_mask.grid(False)
    return fig


def plot_training_curves(histories: dict, axes=None, *, chance: float | None = None):
    """Training loss and test accuracy per epoch, one colour per method.

    A history with no training epochs (an untrained baseline: empty ``loss``, one test accuracy) is
    drawn as a dotted horizontal line on the accuracy panel.

    Args:
        histories: label -> an object with ``loss`` (mean training cross-entropy per epoch, nats) and
            ``test_accuracy`` (fraction per epoch), e.g. :class:`primekit.experiments.training.History`.
        axes: two axes (loss, accuracy); a new figure of two stacked panels when None. The legend, under the
            accuracy panel, serves both.
        chance: optional chance accuracy (fraction), drawn as a grey line.

    Returns:
        The matplotlib Figure.
    """
    from matplotlib.ticker import MaxNLocator

    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(7.0, 6.4), sharex=True)
    axes = np.asarray(axes).ravel()
    fig = axes[0].figure
    ax_loss, ax_acc = axes
    longest = max([len(h.loss) for h in histories.values()] + [1])
    for i, (label, history) in enumerate(histories.items()):
        color = f"C{i % 8}"
        loss = np.asarray(history.loss, dtype=float)
        accuracy = 100 * np.asarray(history.test_accuracy, dtype=float)
        if loss.size:
            epochs = _steps(loss.size)
            ax_loss.plot(epochs, loss, marker="o", markersize=3, color=color, label=label)
            ax_acc.plot(epochs, accuracy, marker="o", markersize=3, color=color, label=label)
        elif accuracy.size:
            ax_acc.plot([0.5, longest + 0.5], [accuracy[-1]] * 2, linestyle=":", color=color,
                        label=f"{label} (untrained)")
    if chance is not None:
        ax_acc.axhline(100 * chance, color="0.5", linewidth=0.8, label="chance")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.5, longest + 0.5)
    ax_acc.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss\n(cross-entropy, nats)")
    ax_loss.set_ylim(bottom=0)
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.set_ylim(0, 100)
    ax_acc.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=3)
    return fig


def plot_kept_fractions(fractions: dict, ax=None, *, title: str | None = None):
    """Grouped bars: the kept fraction of each layer (in %), one group per layer, one bar per label.

    Args:
        fractions: label (e.g. a method) -> {layer name -> kept fraction}, as from
            :func:`primekit.snn.subnet.kept_fractions`; layers ordered as in the first label.
        ax: axes to draw into; a new figure when None.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    if not fractions:
        raise ValueError("fractions is empty: nothing to draw")
    fig, ax = _figure_and_axes(ax)
    layers = list(next(iter(fractions.values())))
    width = 0.8 / len(fractions)
    for i, (label, by_layer) in enumerate(fractions.items()):
        x = np.arange(len(layers)) + (i - (len(fractions) - 1) / 2) * width
        ax.bar(x, [100 * by_layer.get(layer, np.nan) for layer in layers], width=width, color=f"C{i % 8}",
               label=label)
    ax.set_xticks(np.arange(len(layers)), layers)
    ax.set_xlabel("layer")
    ax.set_ylabel("weights kept (%)")
    ax.set_ylim(0, 115)
    ax.legend(loc="upper center", ncols=min(len(fractions), 3))
    if title:
        ax.set_title(title)
    return fig


def plot_kept_by_magnitude(weights: dict, masks: dict, ax=None, *, bins: int = 10, linestyle: str = "-",
                           label_suffix: str = "", title: str | None = None):
    """The fraction of weights kept (in %) in each magnitude bin of a layer, one line per layer.

    Each layer's weights are split by ``|w|`` into ``bins`` equally populated bins (bin 1: the smallest
    ``|w|``); a mask blind to the weights keeps the same fraction in every bin. Call it again on the
    same axes with another ``linestyle`` to compare two masks (layer colours stay the same).

    Args:
        weights: layer name -> weights (any shape).
        masks: layer name -> keep mask (bool, same shape).
        ax: axes to draw into; a new figure when None.
        bins: number of magnitude bins.
        linestyle: line style of this call's lines.
        label_suffix: appended to each layer's legend label.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    if set(weights) != set(masks):
        raise ValueError(f"weights and masks must name the same layers; got {sorted(weights)} and {sorted(masks)}")
    fig, ax = _figure_and_axes(ax)
    centres = 100 * (np.arange(bins) + 0.5) / bins
    for i, name in enumerate(weights):
        w = np.abs(_to_numpy(weights[name]).astype(float).ravel())
        keep = _to_numpy(masks[name]).astype(bool).ravel()
        if w.shape != keep.shape:
            raise ValueError(f"layer {name!r}: {w.size} weights but {keep.size} mask entries")
        rank = np.argsort(np.argsort(w, kind="stable"), kind="stable")
        which = rank * bins // w.size
        kept = np.array([keep[which == b].mean() for b in range(bins)])
        ax.plot(centres, 100 * kept, marker="o", markersize=3, linestyle=linestyle, color=f"C{i % 8}",
                label=f"{name}{label_suffix}")
    ax.set_xlabel("weight magnitude |w|, percentile within the layer (%)")
    ax.set_ylabel("weights kept (%)")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.legend(loc="upper left", ncols=2)
    if title:
        ax.set_title(title)
    return fig


def plot_method_accuracies(accuracies: dict, ax=None, *, spread: dict | None = None, repeats: dict | None = None,
                           noiseless: dict | None = None, references: dict | None = None, chance: float | None = None,
                           colors: dict | None = None, title: str | None = None):
    """Test accuracy (in %) of several methods as bars, with their values written on top.

    Args:
        accuracies: label -> accuracy (fraction).
        ax: axes to draw into; a new figure when None.
        spread: label -> (low, high) (fractions), drawn as an error bar, e.g. a 95 % confidence interval.
        repeats: label -> accuracies of repeated evaluations (fractions, e.g. other read-noise sequences),
            drawn as small grey dots beside the bar.
        noiseless: label -> the same model's accuracy without read noise (fraction), an open diamond.
        references: legend text -> accuracy (fraction) drawn as a dashed horizontal line (e.g. a
            paper's number).
        chance: chance accuracy (fraction), a grey line.
        colors: label -> bar colour (default: the colour cycle).
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    if not accuracies:
        raise ValueError("accuracies is empty: nothing to draw")
    fig, ax = _figure_and_axes(ax, figsize=(7.5, 4.0))
    labels = list(accuracies)
    x = np.arange(len(labels))
    values = 100 * np.array([accuracies[k] for k in labels], dtype=float)
    colors = colors or {}
    ax.bar(x, values, width=0.65, color=[colors.get(k, f"C{i % 8}") for i, k in enumerate(labels)])
    tops = {k: 100 * (spread or {}).get(k, (0.0, 0.0))[1] for k in labels}
    for xi, v, label in zip(x, values, labels):  # the value inside its bar (above it and its error bar when short)
        inside = v >= 25
        ax.text(xi, 0.5 * v if inside else max(v, tops[label]) + 1.5, f"{v:.1f} %", ha="center",
                va="center" if inside else "bottom", fontsize=9, color="white" if inside else "k",
                fontweight="bold" if inside else "normal")
    handles, names = [], []
    for label, (low, high) in (spread or {}).items():
        i, v = labels.index(label), 100 * accuracies[label]
        ax.errorbar([i], [v], yerr=[[v - 100 * low], [100 * high - v]], color="k", capsize=3, linewidth=1.0)
    for label, values in (repeats or {}).items():
        i = labels.index(label)
        ax.plot([i + 0.42] * len(values), 100 * np.asarray(values, dtype=float), marker="o", markersize=3.5,
                color="0.35", linestyle="none")
        handles, names = [Line2D([], [], marker="o", markersize=3.5, color="0.35", linestyle="none")], \
            ["repeated read-noise sequences"]
    for label, value in (noiseless or {}).items():
        ax.plot([labels.index(label)], [100 * value], marker="D", markersize=6, markerfacecolor="white",
                markeredgecolor="k", linestyle="none")
        handles.append(Line2D([], [], marker="D", markerfacecolor="white", markeredgecolor="k", linestyle="none"))
        names.append("same model without read noise")
    for i, (text, value) in enumerate((references or {}).items()):
        line = ax.axhline(100 * value, color="k", linestyle=("--", "-.", ":")[i % 3], linewidth=1.0)
        handles.append(line)
        names.append(text)
    if chance is not None:
        handles.append(ax.axhline(100 * chance, color="0.5", linewidth=0.8))
        names.append("chance")
    ax.set_xticks(x, labels)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 112)
    if handles:
        ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
    if title:
        ax.set_title(title)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
