"""Figures of the Early-stop chapter: running confidence, threshold sweeps, exits, confusion, t-SNE."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from primekit.plots._base import _figure_and_axes, _steps, _to_numpy


def plot_running_confidence(confidence, threshold: float, ax=None, *, label: str = "running confidence"):
    """One sample's confidence (max softmax probability, 0..1) at each step, the threshold and the exit."""
    confidence = _to_numpy(confidence).astype(float).ravel()
    fig, ax = _figure_and_axes(ax, figsize=(4.8, 3.2))
    steps = _steps(len(confidence))
    ax.plot(steps, confidence, marker="o", color="C0", label=label)
    ax.axhline(threshold, color="k", linestyle="--", linewidth=1.0, label=f"threshold {threshold:g}")
    passed = np.flatnonzero(confidence > threshold)
    if len(passed):
        exit_step = steps[passed[0]]
        ax.axvline(exit_step, color="C3", linewidth=1.0, label=f"exit at t = {exit_step}")
    ax.set_xlabel("timestep t")
    ax.set_ylabel("max softmax probability")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(steps)
    ax.legend(loc="lower right")
    return fig


def plot_threshold_sweep(sweeps: dict, timesteps: int, axes=None, *, full_accuracy: dict | None = None,
                         accuracy_bands: dict | None = None):
    """Accuracy (left) and mean exit step (right) against the threshold, one line per network (Fig 3b).

    Designed for the book's column (7.4 in wide); the legend of the networks sits under the panels.

    Args:
        sweeps: ``{name: [SweepRow, ...]}`` (see :func:`primekit.inference.sweeps.threshold_sweep`).
        timesteps: T, drawn as the ceiling of the mean exit.
        full_accuracy: optional ``{name: accuracy at full T}``, drawn as dotted lines.
        accuracy_bands: optional ``{name: [(low, high), ...]}`` (fractions, one per row), the accuracies'
            95 % intervals, drawn as shaded bands
            (:func:`primekit.inference.summaries.sweep_bands`).
    """
    if axes is None:
        _fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.0))
    ax_acc, ax_exit = np.asarray(axes).ravel()
    for k, (name, rows) in enumerate(sweeps.items()):
        thresholds = [r.threshold for r in rows]
        color = f"C{k}"
        ax_acc.plot(thresholds, [100 * r.accuracy for r in rows], marker="o", markersize=4, color=color, label=name)
        ax_exit.plot(thresholds, [r.mean_exit for r in rows], marker="o", markersize=4, color=color, label=name)
        if full_accuracy and name in full_accuracy:
            ax_acc.axhline(100 * full_accuracy[name], color=color, linestyle=":", linewidth=1.0)
        if accuracy_bands and name in accuracy_bands:
            low, high = np.asarray(accuracy_bands[name], dtype=float).T
            ax_acc.fill_between(thresholds, 100 * low, 100 * high, color=color, alpha=0.15, linewidth=0)
    ax_exit.axhline(timesteps, color="k", linestyle="--", linewidth=1.0, label=f"T = {timesteps}")
    ax_acc.set_xlabel("threshold θ")
    ax_acc.set_ylabel("test accuracy (%)")
    ax_exit.set_xlabel("threshold θ")
    ax_exit.set_ylabel("mean exit step")
    ax_exit.set_ylim(0, timesteps + 0.5)
    for ax in (ax_acc, ax_exit):
        ax.set_xticks([0.2, 0.4, 0.6, 0.8, 1.0])
    # one legend of the networks under the panels (inside, it would cover the curves), T's in the empty corner
    handles, labels = ax_acc.get_legend_handles_labels()
    ax_acc.figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=1, frameon=False)
    ax_exit.legend(handles=[ax_exit.get_lines()[-1]], loc="lower right")
    return ax_acc.figure


def plot_exit_histogram(exit_steps: dict, timesteps: int, ax=None):
    """Fraction of samples exiting at each step, one group of bars per threshold (``{label: exit_step}``);
    the legend sits above the axes, clear of the bars."""
    fig, ax = _figure_and_axes(ax, figsize=(6.4, 3.2))
    steps = _steps(timesteps)
    width = 0.8 / max(len(exit_steps), 1)
    for k, (label, exits) in enumerate(exit_steps.items()):
        exits = _to_numpy(exits).astype(int).ravel()
        fraction = np.bincount(exits, minlength=timesteps + 1)[1:] / max(len(exits), 1)
        ax.bar(steps + (k - (len(exit_steps) - 1) / 2) * width, 100 * fraction, width=width, label=label)
    ax.set_xlabel("exit step (timestep at which the sample stops)")
    ax.set_ylabel("samples (%)")
    ax.set_xticks(steps)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=max(len(exit_steps), 1))
    return fig


def plot_confusion_matrices(matrices: dict, axes=None, *, class_names=None, ncols: int = 2):
    """Row-normalised confusion matrices as seaborn heatmaps, one panel per ``{title: matrix}`` (Fig 3d).

    Each cell shows its share of the true class in whole percent (empty where no sample fell), at 9 pt in
    cells of about 0.3 in: ``ncols`` panels per row (2 fit the book's column), more rows for more panels.
    """
    import seaborn as sns

    n = len(matrices)
    if axes is None:
        cols = max(1, min(ncols, n))
        nrows = -(-n // cols)
        _fig, axes = plt.subplots(nrows, cols, figsize=(3.7 * cols, 3.9 * nrows), squeeze=False)
    axes = np.asarray(axes, dtype=object).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax, (title, matrix) in zip(axes, matrices.items()):
        matrix = _to_numpy(matrix).astype(float)
        rows = matrix.sum(axis=1, keepdims=True)
        percent = 100 * np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
        names = class_names if class_names is not None else list(range(matrix.shape[0]))
        text = np.where(matrix > 0, np.vectorize(lambda v: f"{v:.0f}")(percent), "")
        sns.heatmap(percent, ax=ax, vmin=0, vmax=100, cmap="Blues", square=True, cbar=False,
                    xticklabels=names, yticklabels=names, annot=text if percent.shape[0] <= 10 else False,
                    fmt="", annot_kws={"fontsize": 9})
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("predicted digit")
        ax.set_ylabel("true digit")
        ax.tick_params(axis="y", rotation=0)
        ax.grid(False)
    return axes[0].figure


def plot_exit_by_class(means: dict, timesteps: int, ax=None, *, class_names=None):
    """Mean exit step of each true class, one group of bars per threshold (``{label: [classes]}``); the
    legend sits above the axes, clear of the bars."""
    fig, ax = _figure_and_axes(ax, figsize=(6.8, 3.2))
    n_classes = len(next(iter(means.values())))
    x = np.arange(n_classes)
    width = 0.8 / max(len(means), 1)
    for k, (label, values) in enumerate(means.items()):
        ax.bar(x + (k - (len(means) - 1) / 2) * width, _to_numpy(values), width=width, label=label)
    ax.set_xticks(x, class_names if class_names is not None else [str(c) for c in x])
    ax.set_xlabel("true digit")
    ax.set_ylabel("mean exit step")
    ax.set_ylim(0, timesteps)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=max(len(means), 1))
    return fig


def plot_tsne_panels(embeddings: dict, labels, axes=None):
    """2-D embeddings coloured by label, one panel per ``{title: [N, 2]}`` (Fig 3c), three to a 7.4 in row;
    the legend of the labels runs under the panels. The axes of a t-SNE map carry no units: only
    neighbourhoods mean something."""
    labels = _to_numpy(labels).astype(int).ravel()
    n = len(embeddings)
    if axes is None:
        _fig, axes = plt.subplots(1, n, figsize=(2.45 * n + 0.05, 3.0), squeeze=False)
    axes = np.asarray(axes, dtype=object).ravel()
    cmap = plt.get_cmap("tab10")
    for ax, (title, points) in zip(axes, embeddings.items()):
        points = _to_numpy(points)
        ax.scatter(points[:, 0], points[:, 1], c=cmap(labels % 10), s=4, linewidths=0)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    classes = np.unique(labels)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=cmap(c % 10), label=str(c)) for c in classes]
    axes[0].figure.legend(handles=handles, title="true digit", loc="upper center", bbox_to_anchor=(0.5, 0.0),
                          ncols=len(classes), handletextpad=0.1, columnspacing=0.9, frameon=False)
    return axes[0].figure


def plot_wall_time(timed: dict, ax=None):
    """Measured wall-time saving against the timestep saving, one marker line per network
    (``{name: [TimedRow, ...]}``); on the diagonal every skipped step saves its share of time. Each point is
    labelled with its threshold, to the right of the first network's points (clear of the dotted 70 % line
    below them) and above-left of the others' (clear of the diagonal); the legend sits under the axes."""
    fig, ax = _figure_and_axes(ax, figsize=(4.8, 4.8))
    ax.plot([0, 100], [0, 100], color="k", linestyle="--", linewidth=1.0, label="time saved = steps saved")
    ax.plot([0, 100], [0, 70], color="0.5", linestyle=":", linewidth=1.0, label="70 % of the steps saved")
    for k, (name, rows) in enumerate(timed.items()):
        ax.plot([100 * r.steps_saved for r in rows], [100 * r.time_saved for r in rows], marker="o",
                markersize=4, color=f"C{k}", label=name)
        offset, align = ((7, 3), ("left", "center")) if k == 0 else ((-6, 6), ("right", "bottom"))
        for r in rows:
            ax.annotate(f"{r.threshold:g}", (100 * r.steps_saved, 100 * r.time_saved), fontsize=9, color=f"C{k}",
                        xytext=offset, textcoords="offset points", ha=align[0], va=align[1])
    ax.set_xlabel("timesteps saved (%)")
    ax.set_ylabel("wall time saved vs full T (%)")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_aspect("equal")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
