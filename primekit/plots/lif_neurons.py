"""Figures of the LIF neurons chapter: membrane traces, rasters, rate curves, surrogates."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.lines import Line2D

from primekit.plots._base import _figure_and_axes, _matrix, _steps, _to_numpy


def plot_membrane_trace(current, v, spikes, threshold: float, axes=None, *, title: str | None = None):
    """Input current (top panel) and membrane potential with threshold and spikes (bottom panel).

    One neuron over ``T`` steps; steps are numbered from 1. A spike at step ``t`` is drawn as a ring on
    the membrane point that crossed the threshold and a tick above the trace; the hard reset shows as
    the drop at step ``t + 1``.

    Args:
        current: input current per step, shape ``[T]`` (membrane units added per step).
        v: membrane potential after each step, shape ``[T]`` (membrane units; the threshold sets the
            scale).
        spikes: 0 or 1 per step, shape ``[T]``.
        threshold: spike threshold in membrane units (drawn as a dashed line).
        axes: two axes ``(current_axes, membrane_axes)``; a new figure with two rows sharing the time
            axis when None.
        title: optional title above the figure.

    Returns:
        The matplotlib Figure.
    """
    current, v, spikes = _to_numpy(current).ravel(), _to_numpy(v).ravel(), _to_numpy(spikes).ravel()
    if not (current.shape == v.shape == spikes.shape):
        raise ValueError(
            f"current, v and spikes must all be shaped [T]; got {current.shape}, {v.shape}, {spikes.shape}"
        )
    if axes is None:
        fig, axes = plt.subplots(2, 1, sharex=True, figsize=(7.0, 4.8), height_ratios=(1, 2))
    ax_i, ax_v = axes
    fig = ax_v.figure
    t = _steps(len(v))
    fired = spikes > 0

    ax_i.step(t, current, where="mid", color="C1", label="input current $I$")
    ax_i.axhline(0.0, color="0.5", linewidth=0.6)
    ax_i.set_ylabel("input $I$\n(per step)")
    if title:
        fig.suptitle(title)  # above the legend, which sits on top of the first panel

    ax_v.plot(t, v, marker="o", markersize=2.5, color="C0", label="membrane potential $v$")
    ax_v.axhline(threshold, color="C3", linestyle="--", linewidth=1.0, label=f"threshold {threshold:g}")
    ax_v.plot(t[fired], v[fired], "o", markersize=7, markerfacecolor="none", markeredgecolor="C3")
    top = max(float(v.max()), threshold) * 1.12 + 1e-9
    ax_v.plot(t[fired], np.full(fired.sum(), top), "|", markersize=10, markeredgewidth=1.6,
              color="C3", label="spike")
    ax_v.set_xlabel("time (steps)")
    ax_v.set_ylabel("membrane\npotential $v$")
    ax_v.set_ylim(top=top * 1.08)
    fig.align_ylabels([ax_i, ax_v])
    # the legend sits above both panels, outside the data
    handles = ax_i.get_legend_handles_labels()[0] + ax_v.get_legend_handles_labels()[0]
    ax_i.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncols=len(handles))
    return fig


def plot_raster(spikes, ax=None, *, ylabel: str = "neuron", title: str | None = None):
    """Spike raster: a tick at (step, neuron) for every spike.

    Args:
        spikes: 0/1 array shaped ``[T, N]`` (time-major, one column per neuron; steps numbered from 1).
        ax: axes to draw into; a new figure when None.
        ylabel: label of the neuron axis (e.g. how the neurons are sorted).
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    spikes = _matrix(spikes, "spikes", "[T, N]")
    fig, ax = _figure_and_axes(ax)
    steps, neurons = np.nonzero(spikes)
    ax.scatter(steps + 1, neurons, marker="|", s=12, linewidths=1.0, color="k")
    ax.set_xlim(0.5, spikes.shape[0] + 0.5)
    ax.set_ylim(-0.5, spikes.shape[1] - 0.5)
    ax.set_xlabel("time (steps)")
    ax.set_ylabel(ylabel)
    ax.grid(False)
    if title:
        ax.set_title(title)
    return fig


def plot_rate_curves(
    currents,
    rates_by_label: dict,
    ax=None,
    *,
    reference_currents=None,
    reference_by_label: dict | None = None,
    reference_name: str = "closed form",
    measured_name: str = "simulated",
    xlabel: str = "constant input current (membrane units / step)",
    title: str | None = None,
):
    """Firing rate against constant input current (f-I curves), one colour per label.

    Measured rates are drawn as markers; optional reference curves (e.g. the closed form
    :func:`primekit.snn.neurons.constant_input_rate`) as lines of the same colour, on their own grid.
    Where curves coincide, the first label is drawn on top.

    Args:
        currents: constant input currents, shape ``[K]`` (membrane units per step).
        rates_by_label: label -> firing rates shaped ``[K]`` (spikes per step, between 0 and 1).
        ax: axes to draw into; a new figure when None.
        reference_currents: currents of the reference curves, shape ``[M]``; defaults to ``currents``.
        reference_by_label: label -> reference rates shaped ``[M]``; labels must be in ``rates_by_label``.
        reference_name, measured_name: legend names of the two kinds of curve.
        xlabel: label of the current axis (say "mean input current" for noisy drive), with units.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    fig, ax = _figure_and_axes(ax, figsize=(7.4, 3.8))
    currents = _to_numpy(currents)
    reference_currents = currents if reference_currents is None else _to_numpy(reference_currents)
    reference_by_label = reference_by_label or {}
    unknown = set(reference_by_label) - set(rates_by_label)
    if unknown:
        raise ValueError(f"reference labels {sorted(map(str, unknown))} are not in rates_by_label")
    n = len(rates_by_label)
    for i, (label, rates) in enumerate(rates_by_label.items()):
        color, zorder = f"C{i % 8}", 2 + n - i  # the first label is drawn on top where curves meet
        ax.plot(currents, _to_numpy(rates), "o", markersize=3, color=color, label=label, zorder=zorder)
        if label in reference_by_label:
            ax.plot(reference_currents, _to_numpy(reference_by_label[label]), "-", linewidth=1.0,
                    color=color, zorder=zorder)
    if reference_by_label:
        handles, labels = ax.get_legend_handles_labels()
        handles += [Line2D([], [], color="0.3", marker="o", markersize=3, linestyle="none"),
                    Line2D([], [], color="0.3", linewidth=1.0)]
        labels += [measured_name, reference_name]
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))  # beside the axes, never over a curve
    ax.set_xlabel(xlabel)
    ax.set_ylabel("firing rate (spikes / step)")
    if title:
        ax.set_title(title)
    return fig


def plot_surrogates(x, surrogates: dict, ax=None, *, title: str | None = None):
    """The Heaviside spike function and the surrogate derivatives that stand in for its gradient.

    Args:
        x: points ``v - threshold`` at which to draw, shape ``[K]`` (membrane units).
        surrogates: label -> surrogate; either a :class:`primekit.snn.surrogate.Surrogate` (its ``grad``
            is drawn) or a callable mapping a tensor ``x`` to ``dH/dx``.
        ax: axes to draw into; a new figure when None.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    fig, ax = _figure_and_axes(ax, figsize=(6.4, 4.4))
    x_t = torch.as_tensor(_to_numpy(x), dtype=torch.float32)
    x_np = x_t.numpy()
    ax.plot(x_np, (x_np > 0).astype(float), color="k", linewidth=2.0,
            label="spike $H(x)$ (forward pass; true derivative 0)")
    for i, (label, surrogate) in enumerate(surrogates.items()):
        grad = surrogate.grad if hasattr(surrogate, "grad") else surrogate
        ax.plot(x_np, _to_numpy(grad(x_t)), color=f"C{i % 8}", label=f"{label}: $dH/dx$ (backward)")
    ax.axvline(0.0, color="0.5", linewidth=0.6)
    ax.set_xlabel(r"$x = v - \vartheta$ (membrane units; $\vartheta$ the threshold)")
    ax.set_ylabel("$H(x)$ and surrogate $dH/dx$\n(per membrane unit)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))  # below the axes, never over a curve
    ax.set_ylim(-0.05, 1.1)
    if title:
        ax.set_title(title)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
