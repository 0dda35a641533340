"""What noise does to a chip's outputs: an accuracy or error sweep over noise levels, and two chips' outputs
beside the ideal one."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from primekit.plots._base import _figure_and_axes, _matrix, _steps, _to_numpy


def plot_noise_sweep(levels, mean, spread, ax=None, *, prediction=None, prediction_label: str = "prediction",
                     label: str = "simulated (mean and std over repeats)",
                     xlabel: str = "read noise per cell (% of its conductance)",
                     ylabel: str = "relative output error (%)", title: str | None = None):
    """An error (in %) against a noise level (in %): markers with std bars, and an optional prediction.

    Args:
        levels: noise levels, shape ``[L]`` (relative: 0.05 is drawn as 5 %).
        mean, spread: the error's mean and std over repeats, shape ``[L]`` (relative).
        ax: axes to draw into; a new figure when None.
        prediction: optional predicted error at each level, shape ``[L]`` (relative), drawn as a line.
        prediction_label, label: legend entries.
        xlabel, ylabel: axis labels.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    levels, mean, spread = (100 * _to_numpy(a).astype(float) for a in (levels, mean, spread))
    if not (levels.shape == mean.shape == spread.shape):
        raise ValueError(f"levels, mean and spread must have the same shape; got {levels.shape}, {mean.shape}, "
                         f"{spread.shape}")
    fig, ax = _figure_and_axes(ax)
    if prediction is not None:
        ax.plot(levels, 100 * _to_numpy(prediction).astype(float), color="k", linewidth=1.0, label=prediction_label)
    ax.errorbar(levels, mean, yerr=spread, fmt="o", markersize=4, capsize=2, color="C3", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    if title:
        ax.set_title(title)
    return fig


def plot_chip_outputs(outputs_by_label: dict, ax=None, *, ideal: float | None = None,
                      ylabel: str = "layer output (membrane units / step)", title: str | None = None):
    """One output over timesteps for several chips: each line is one chip, its dotted line its time-mean.

    On a chip with read noise every timestep is a new read, so the output jitters from step to step;
    programming noise shifts each chip's mean. ``ideal`` (optional) is the noise-free value, dashed.

    Args:
        outputs_by_label: label -> output per timestep, shape ``[T]``; steps numbered from 1.
        ax: axes to draw into; a new figure when None.
        ideal: the noise-free output.
        ylabel: label of the output axis, with units.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    fig, ax = _figure_and_axes(ax)
    if ideal is not None:
        ax.axhline(ideal, color="k", linestyle="--", linewidth=1.0, label="no noise")
    for k, (label, out) in enumerate(outputs_by_label.items()):
        out = _to_numpy(out).ravel()
        ax.plot(_steps(out.size), out, marker="o", markersize=2.5, linewidth=1.0, color=f"C{k % 8}", label=label)
        ax.axhline(float(out.mean()), color=f"C{k % 8}", linestyle=":", linewidth=1.2)
    ax.set_xlabel("timestep (= one read of the chip)")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return fig


def plot_chip_offsets(ideal, outputs_by_label: dict, ax=None, *, shown: int | None = None,
                      title: str | None = None):
    """Every output's time-mean on several chips minus its noise-free value, in % of the typical output.

    The typical output is the mean ``|ideal|``; an output's offset is what averaging over time leaves of the
    chip's error (programming noise). One marker per output and chip; ``shown`` (an output index, optional)
    is shaded, e.g. the output drawn over time by :func:`plot_chip_outputs`.

    Args:
        ideal: noise-free outputs, shape ``[out]``.
        outputs_by_label: label -> a chip's outputs per timestep, shape ``[T, out]``.
        ax: axes to draw into; a new figure when None.
        shown: index of an output to shade.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    ideal = _to_numpy(ideal).astype(float).ravel()
    scale = float(np.abs(ideal).mean())
    if scale == 0:
        raise ValueError("ideal is all zeros; offsets are relative to the mean |ideal| output")
    fig, ax = _figure_and_axes(ax)
    x = np.arange(1, ideal.size + 1)
    width = 0.5 / max(len(outputs_by_label), 1)
    for k, (label, outputs) in enumerate(outputs_by_label.items()):
        outputs = _matrix(outputs, label, "[T, out]")
        if outputs.shape[1] != ideal.size:
            raise ValueError(f"{label!r} has {outputs.shape[1]} outputs; ideal has {ideal.size}")
        offset = 100 * (outputs.mean(axis=0) - ideal) / scale
        shift = (k - (len(outputs_by_label) - 1) / 2) * width
        ax.plot(x + shift, offset, "o", color=f"C{k % 8}", markersize=5,
                label=f"{label}: mean |offset| {np.abs(offset).mean():.0f} %")
        ax.vlines(x + shift, 0, offset, color=f"C{k % 8}", linewidth=1.0)
    ax.axhline(0, color="k", linestyle="--", linewidth=1.0)
    if shown is not None:
        ax.axvspan(shown + 1 - 0.45, shown + 1 + 0.45, color="0.85", zorder=0)
    ax.set_xticks(x)
    ax.set_xlabel("output (neuron)")
    ax.set_ylabel("time-mean minus noise-free\n(% of the typical output)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=2)
    if title:
        ax.set_title(title)
    return fig


def plot_two_chips(ideal, outputs_by_label: dict, shown: int, *, ylabel: str = "layer output (membrane units)"):
    """Two stacked panels: output ``shown`` over timesteps on each chip (:func:`plot_chip_outputs`), and every
    output's time-mean offset on each chip (:func:`plot_chip_offsets`).

    Args:
        ideal: noise-free outputs, shape ``[out]``.
        outputs_by_label: label -> a chip's outputs per timestep, shape ``[T, out]``.
        shown: index of the output drawn over time.
        ylabel: label of the top panel's output axis, with units.

    Returns:
        The matplotlib Figure.
    """
    ideal = _to_numpy(ideal).astype(float).ravel()
    if not 0 <= shown < ideal.size:
        raise ValueError(f"shown={shown!r} must index one of the {ideal.size} outputs")
    fig, axes = plt.subplots(2, 1, figsize=(7.0, 7.0), height_ratios=(1.2, 1.0))
    plot_chip_outputs({label: _to_numpy(out)[:, shown] for label, out in outputs_by_label.items()}, ax=axes[0],
                      ideal=float(ideal[shown]), ylabel=ylabel, title=f"output {shown + 1} at every timestep")
    plot_chip_offsets(ideal, outputs_by_label, ax=axes[1], shown=shown,
                      title=f"all {ideal.size} outputs, averaged over time")
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
