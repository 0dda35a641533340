"""Figure functions for the book.

Every function takes ``ax=None`` (``axes=None`` for multi-panel figures; a new figure is made when
None), returns the matplotlib Figure and never calls ``show()``; axis labels carry units. Inputs may be
torch tensors or NumPy arrays; time axes count steps from 1. :func:`use_style` applies the style shipped with the package.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.lines import Line2D

STYLE_PATH = Path(__file__).resolve().parent / "style" / "primekit.mplstyle"


def use_style() -> None:
    """Apply primekit's matplotlib style (shipped inside the package) to all later figures."""
    plt.style.use(STYLE_PATH)


def _figure_and_axes(ax=None, **subplot_kw):
    """``(fig, ax)``: the given axes and their figure, or a new figure with one axes."""
    if ax is None:
        fig, ax = plt.subplots(**subplot_kw)
        return fig, ax
    return ax.figure, ax


def _to_numpy(x) -> np.ndarray:
    """A NumPy array from a tensor (detached, on the CPU), an array or a sequence."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _steps(n: int) -> np.ndarray:
    """Timestep numbers 1..n (steps are counted from 1, as everywhere in primekit)."""
    return np.arange(1, n + 1)


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
        title: optional title above the top panel.

    Returns:
        The matplotlib Figure.
    """
    current, v, spikes = _to_numpy(current).ravel(), _to_numpy(v).ravel(), _to_numpy(spikes).ravel()
    if not (current.shape == v.shape == spikes.shape):
        raise ValueError(
            f"current, v and spikes must all be shaped [T]; got {current.shape}, {v.shape}, {spikes.shape}"
        )
    if axes is None:
        fig, axes = plt.subplots(2, 1, sharex=True, figsize=(6.4, 4.4), height_ratios=(1, 2))
    ax_i, ax_v = axes
    fig = ax_v.figure
    t = _steps(len(v))
    fired = spikes > 0

    ax_i.step(t, current, where="mid", color="C1")
    ax_i.axhline(0.0, color="0.5", linewidth=0.6)
    ax_i.set_ylabel("input current\n(membrane units / step)")
    if title:
        ax_i.set_title(title)

    ax_v.plot(t, v, marker="o", markersize=2.5, color="C0", label="membrane potential $v$")
    ax_v.axhline(threshold, color="C3", linestyle="--", linewidth=1.0, label=f"threshold = {threshold:g}")
    ax_v.plot(t[fired], v[fired], "o", markersize=7, markerfacecolor="none", markeredgecolor="C3")
    top = max(float(v.max()), threshold) * 1.12 + 1e-9
    ax_v.plot(t[fired], np.full(fired.sum(), top), "|", markersize=10, markeredgewidth=1.6,
              color="C3", label="spike")
    ax_v.set_xlabel("time (steps)")
    ax_v.set_ylabel(f"membrane potential\n(membrane units, threshold = {threshold:g})")
    ax_v.legend(loc="upper left", ncols=3, fontsize=8)
    ax_v.set_ylim(top=top * 1.25)
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
    spikes = _to_numpy(spikes)
    if spikes.ndim != 2:
        raise ValueError(f"spikes must be shaped [T, N], got shape {spikes.shape}")
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
    :func:`primekit.neurons.constant_input_rate`) as lines of the same colour, on their own grid.
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
    fig, ax = _figure_and_axes(ax)
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
        ax.legend(handles, labels, loc="upper left")
    else:
        ax.legend(loc="upper left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("firing rate (spikes / step)")
    if title:
        ax.set_title(title)
    return fig


def plot_surrogates(x, surrogates: dict, ax=None, *, title: str | None = None):
    """The Heaviside spike function and the surrogate derivatives that stand in for its gradient.

    Args:
        x: points ``v - threshold`` at which to draw, shape ``[K]`` (membrane units).
        surrogates: label -> surrogate; either a :class:`primekit.surrogate.Surrogate` (its ``grad``
            is drawn) or a callable mapping a tensor ``x`` to ``dH/dx``.
        ax: axes to draw into; a new figure when None.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    fig, ax = _figure_and_axes(ax)
    x_t = torch.as_tensor(_to_numpy(x), dtype=torch.float32)
    x_np = x_t.numpy()
    ax.plot(x_np, (x_np > 0).astype(float), color="k", linewidth=2.0,
            label="spike $H(x)$ (forward pass; true derivative 0)")
    for i, (label, surrogate) in enumerate(surrogates.items()):
        grad = surrogate.grad if hasattr(surrogate, "grad") else surrogate
        ax.plot(x_np, _to_numpy(grad(x_t)), color=f"C{i % 8}", label=f"{label}: $dH/dx$ (backward)")
    ax.axvline(0.0, color="0.5", linewidth=0.6)
    ax.set_xlabel("$x = v -$ threshold (membrane units)")
    ax.set_ylabel("$H(x)$ and surrogate $dH/dx$\n(per membrane unit)")
    ax.legend(loc="upper left")
    ax.set_ylim(-0.05, 1.45)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------------
# Event data (the Event data chapter): events, rates, ON/OFF images, frames, the emulator's pieces
# ---------------------------------------------------------------------------------------------------

#: Colours of the two polarities, the ends of the diverging map used for signed images (ON red, OFF blue).
ON_COLOR = "#b2182b"
OFF_COLOR = "#2166ac"
SIGNED_CMAP = "RdBu_r"


def _event_fields(events):
    """x, y, t (us), p of a structured event array as int64 NumPy arrays."""
    return tuple(np.asarray(events[name], dtype=np.int64) for name in ("x", "y", "t", "p"))


def plot_events_3d(events, ax=None, *, max_events: int | None = None, seed: int = 0,
                   title: str | None = None, marker_size: float = 1.5):
    """One recording's events as points in (time, x, y), ON red and OFF blue.

    Args:
        events: a structured event array (fields x, y, t in us, p with 1 = ON).
        ax: a 3-D axes (``projection="3d"``); a new figure when None.
        max_events: draw at most this many events, a seeded random subset (None: all).
        seed: seed of that subset.
        title: optional title.

    Returns:
        The matplotlib Figure. The y axis points down the sensor (row 0 at the top), as in the images.
    """
    x, y, t, p = _event_fields(events)
    if max_events is not None and len(x) > max_events:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), max_events, replace=False))
        x, y, t, p = x[keep], y[keep], t[keep], p[keep]
    if ax is None:
        fig = plt.figure(figsize=(7.0, 4.6))
        ax = fig.add_subplot(projection="3d")
    fig = ax.figure
    for value, color, name in ((1, ON_COLOR, "ON"), (0, OFF_COLOR, "OFF")):
        mine = p == value
        ax.scatter(t[mine] / 1000.0, x[mine], y[mine], s=marker_size, color=color, alpha=0.6,
                   depthshade=False, label=f"{name} ({int(mine.sum())} events)", linewidths=0)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("x (px)")
    ax.set_zlabel("y (px)")
    ax.set_ylim(0, 33)
    ax.set_zlim(33, 0)  # row 0 at the top, as in an image
    ax.view_init(elev=18, azim=-62)
    ax.legend(loc="upper left", markerscale=4)
    if title:
        ax.set_title(title)
    return fig


def plot_event_rate(rates: dict, ax=None, *, edges_ms=None, title: str | None = None):
    """Events per millisecond against time, one line per label (e.g. a real and an emulated recording).

    Args:
        rates: label -> ``(bin_edges_ms, rate)`` as returned by :func:`primekit.eventstats.event_rate`,
            or ``(bin_edges_ms, mean, std)`` as returned by :func:`primekit.eventstats.mean_event_rate`
            (the standard deviation is drawn as a band).
        ax: axes to draw into; a new figure when None.
        edges_ms: times that separate the saccades, drawn as dotted vertical lines.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    fig, ax = _figure_and_axes(ax, figsize=(6.4, 3.4))
    for i, (label, curve) in enumerate(rates.items()):
        bins, mean = _to_numpy(curve[0]), _to_numpy(curve[1])
        color = f"C{i % 8}"
        ax.stairs(mean, bins, color=color, label=label, linewidth=1.4)
        if len(curve) > 2:
            std = _to_numpy(curve[2])
            ax.stairs(mean + std, bins, baseline=mean - std, fill=True, color=color, alpha=0.2, linewidth=0)
    for k, edge in enumerate(edges_ms or ()):
        ax.axvline(edge, color="0.4", linestyle=":", linewidth=1.0,
                   label="saccade edges" if k == 0 else None)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("event rate (events / ms)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    if title:
        ax.set_title(title)
    return fig


def _grid_axes(rows: int, cols: int, axes, panel_in: float = 1.55):
    """``(fig, axes[rows, cols])``: the given axes reshaped, or a new figure of square panels."""
    if axes is None:
        fig, axes = plt.subplots(rows, cols, figsize=(panel_in * cols + 1.0, panel_in * rows + 0.4),
                                 squeeze=False, sharex=True, sharey=True)
    axes = np.asarray(axes, dtype=object).reshape(rows, cols)
    return axes[0, 0].figure, axes


def plot_image_grid(images, titles=None, axes=None, *, row_labels=None, cmap: str = "gray",
                    vmin: float | None = None, vmax: float | None = None, colorbar_label: str | None = None,
                    xlabel: str = "x (px)", ylabel: str = "y (px)"):
    """Images in a grid sharing one colour scale and one colour bar.

    Args:
        images: ``[N, H, W]`` (one row of N panels) or ``[R, C, H, W]`` (R rows, C columns).
        titles: one title per panel (a flat list of N, or R lists of C), or C column titles written
            above the top row only, or None.
        axes: axes to draw into (N, or R x C of them, any nesting); a new figure when None.
        row_labels: one label per row, written above the y-axis label of the first column.
        cmap, vmin, vmax: colour map and limits (default: the images' minimum and maximum).
        colorbar_label: label of the colour bar (with units); no colour bar when None.
        xlabel, ylabel: axis labels of the bottom row and the first column.

    Returns:
        The matplotlib Figure.
    """
    images = _to_numpy(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4:
        raise ValueError(f"images must be [N, H, W] or [R, C, H, W], got shape {images.shape}")
    rows, cols = images.shape[:2]
    fig, grid = _grid_axes(rows, cols, axes)
    flat_titles = None
    if titles is not None:
        flat_titles = [str(t) for t in np.asarray(titles, dtype=object).ravel()]
        if rows > 1 and len(flat_titles) == cols:  # column titles: the top row only
            flat_titles = flat_titles + [""] * (rows - 1) * cols
        if len(flat_titles) != rows * cols:
            raise ValueError(f"{len(flat_titles)} titles for {rows * cols} images")
    vmin = float(images.min()) if vmin is None else vmin
    vmax = float(images.max()) if vmax is None else vmax
    shown = None
    for r in range(rows):
        for c in range(cols):
            ax = grid[r, c]
            shown = ax.imshow(images[r, c], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.grid(False)
            if flat_titles is not None and flat_titles[r * cols + c]:
                ax.set_title(flat_titles[r * cols + c], fontsize=9)
            if r == rows - 1:
                ax.set_xlabel(xlabel)
            if c == 0:
                label = ylabel if row_labels is None else f"{row_labels[r]}\n{ylabel}"
                ax.set_ylabel(label)
    if colorbar_label is not None:
        fig.colorbar(shown, ax=list(grid.ravel()), label=colorbar_label, shrink=0.9)
    return fig


def plot_signed_images(images, titles=None, axes=None, *, row_labels=None, vmax: float | None = None,
                       colorbar_label: str = "ON - OFF events"):
    """Signed ON - OFF event images (e.g. :func:`primekit.eventstats.saccade_images`): red ON, blue OFF.

    A diverging colour map with symmetric limits ``[-vmax, vmax]`` (default: the largest absolute value),
    so white means "no net events" in every panel. Arguments as :func:`plot_image_grid`.

    Returns:
        The matplotlib Figure.
    """
    images = _to_numpy(images)
    limit = float(np.abs(images).max()) if vmax is None else float(vmax)
    limit = limit or 1.0
    return plot_image_grid(images, titles, axes, row_labels=row_labels, cmap=SIGNED_CMAP, vmin=-limit,
                           vmax=limit, colorbar_label=colorbar_label)


def plot_frames(frames, axes=None, *, ncols: int | None = None, row_label: str | None = None, step_titles=None,
                vmax: float | None = None, colorbar_label: str = "ON - OFF events per frame"):
    """The T frames of one sample as signed (ON - OFF) images, step by step.

    Args:
        frames: event counts ``[T, 2, 34, 34]`` = ``[t, p, y, x]`` (p = 0 OFF, 1 ON), e.g. from
            :func:`primekit.frames.to_frames`.
        axes: at least T axes (any shape, filled row by row; extra axes are hidden); a new figure
            when None.
        ncols: panels per row of a new figure (default: all T in one row).
        row_label: label written beside the first panel of every row (e.g. the binning rule).
        step_titles: one title per step; default "step 1" ... "step T" (steps counted from 1).
        vmax: colour limit (default: the largest absolute value), symmetric around 0.
        colorbar_label: label of the colour bar.

    Returns:
        The matplotlib Figure. The 34 x 34 pixel axes carry no ticks (the panels are small).
    """
    frames = _to_numpy(frames)
    if frames.ndim != 4 or frames.shape[1] != 2:
        raise ValueError(f"frames must be [T, 2, H, W], got shape {frames.shape}")
    steps = len(frames)
    signed = frames[:, 1].astype(np.int64) - frames[:, 0].astype(np.int64)
    titles = step_titles if step_titles is not None else [f"step {t}" for t in _steps(steps)]
    if len(titles) != steps:
        raise ValueError(f"{len(titles)} step titles for {steps} frames")
    if axes is None:
        ncols = ncols or steps
        nrows = -(-steps // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(1.35 * ncols + 1.2, 1.8 * nrows + 0.2), squeeze=False)
    grid = np.asarray(axes, dtype=object)
    grid = grid.reshape(1, -1) if grid.ndim == 1 else grid
    flat = grid.ravel()
    if len(flat) < steps:
        raise ValueError(f"{len(flat)} axes for {steps} frames")
    limit = float(np.abs(signed).max()) if vmax is None else float(vmax)
    limit = limit or 1.0
    shown = None
    for k, ax in enumerate(flat):
        if k >= steps:
            ax.axis("off")
            continue
        shown = ax.imshow(signed[k], cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(titles[k], fontsize=8)
    if row_label is not None:
        for row in grid:
            row[0].set_ylabel(row_label)
    fig = flat[0].figure
    fig.colorbar(shown, ax=list(flat[:steps]), label=colorbar_label, shrink=0.9)
    return fig


def plot_saccade_path(times_ms, displacement_px, axes=None, *, schedule=None, title: str | None = None):
    """The image's path during a recording (left, x right and y down) and its speed (right).

    Args:
        times_ms: times in ms, ``[K]`` (evenly spaced).
        displacement_px: image displacement at those times, ``[K, 2]`` (x, y in px), e.g. from
            :func:`primekit.emulator.displacement_px`.
        axes: two axes ``(path_axes, speed_axes)``; a new figure when None.
        schedule: optional ``[n_saccades, 2]`` start and end times (ms), shaded on the speed panel.
        title: optional title above the path panel.

    Returns:
        The matplotlib Figure.
    """
    times_ms, d = _to_numpy(times_ms).astype(float), _to_numpy(displacement_px).astype(float)
    if d.shape != (len(times_ms), 2):
        raise ValueError(f"displacement_px must be [{len(times_ms)}, 2], got shape {d.shape}")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.2), width_ratios=(1, 1.6))
    ax_path, ax_speed = axes
    fig = ax_path.figure
    points = ax_path.scatter(d[:, 0], d[:, 1], c=times_ms, s=4, cmap="viridis")
    ax_path.plot(d[:, 0], d[:, 1], color="0.6", linewidth=0.6, zorder=0)
    ax_path.plot(d[0, 0], d[0, 1], "ko", markersize=5, label="start and end")
    ax_path.set_xlabel("image displacement x (px)")
    ax_path.set_ylabel("image displacement y (px, down)")
    ax_path.invert_yaxis()
    ax_path.set_aspect("equal", adjustable="datalim")
    ax_path.legend(loc="lower left")
    fig.colorbar(points, ax=ax_path, label="time (ms)", shrink=0.8)
    if title:
        ax_path.set_title(title)
    step = np.diff(times_ms)
    speed = np.hypot(*np.diff(d, axis=0).T) / step
    ax_speed.plot((times_ms[1:] + times_ms[:-1]) / 2, speed, color="C0")
    if schedule is not None:
        for k, (start, end) in enumerate(_to_numpy(schedule)):
            ax_speed.axvspan(start, end, color="C1", alpha=0.12, linewidth=0,
                             label="saccades" if k == 0 else None)
        ax_speed.legend(loc="upper right")
    ax_speed.set_xlabel("time (ms)")
    ax_speed.set_ylabel("image speed (px / ms)")
    ax_speed.set_ylim(bottom=0)
    return fig


def plot_pixel_crossings(times_ms, log_intensity, event_ms, event_p, threshold_on: float, threshold_off: float,
                         ax=None, *, library_events=None, title: str | None = None):
    """One pixel's log intensity, its reference level, and the events its threshold crossings make.

    The reference starts at the first value and moves by one threshold at each event (up by
    ``threshold_on`` for ON, down by ``threshold_off`` for OFF); an event fires where the intensity has
    moved a threshold away from it.

    Args:
        times_ms: ``[K]`` times (ms) of the trace.
        log_intensity: ``[K]`` log intensity at those times (log units).
        event_ms, event_p: the pixel's events (times in ms, polarities 1 = ON / 0 = OFF), e.g. found
            by hand.
        threshold_on, threshold_off: the pixel's contrast thresholds (log units, > 0).
        ax: axes to draw into; a new figure when None.
        library_events: optional ``(t_ms, p)`` of the same pixel from another source (e.g.
            :func:`primekit.emulator.emulate`), drawn as rings on the event ticks.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    times_ms, trace = _to_numpy(times_ms).astype(float), _to_numpy(log_intensity).astype(float)
    event_ms, event_p = _to_numpy(event_ms).astype(float), _to_numpy(event_p).astype(int)
    fig, ax = _figure_and_axes(ax, figsize=(6.8, 3.6))
    ax.plot(times_ms, trace, color="k", linewidth=1.2, label="log intensity")
    steps = np.where(event_p == 1, threshold_on, -threshold_off)
    levels = trace[0] + np.concatenate([[0.0], np.cumsum(steps)])
    ax.stairs(levels, np.concatenate([[times_ms[0]], event_ms, [times_ms[-1]]]), color="0.5", linestyle="--",
              linewidth=1.0, baseline=None, label="reference level")
    low = min(trace.min(), levels.min())
    high = max(trace.max(), levels.max())
    span = high - low or 1.0
    tick_y = high + 0.12 * span
    for value, color, name in ((1, ON_COLOR, "ON event"), (0, OFF_COLOR, "OFF event")):
        mine = event_p == value
        ax.plot(event_ms[mine], np.full(mine.sum(), tick_y), "|", color=color, markersize=12,
                markeredgewidth=1.8, label=f"{name} ({int(mine.sum())}, by hand)")
    if library_events is not None:
        lib_ms = _to_numpy(library_events[0]).astype(float)
        ax.plot(lib_ms, np.full(len(lib_ms), tick_y + 0.08 * span), "o", markersize=6, markerfacecolor="none",
                markeredgecolor="0.2", label=f"primekit.emulator ({len(lib_ms)} events)")
    ax.set_ylim(low - 0.08 * span, high + 0.3 * span)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("log intensity (log units)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_class_counts(labels_by_split: dict, ax=None, *, n_classes: int = 10, title: str | None = None):
    """Samples per class, one group of bars per class and one bar per split (e.g. train and test).

    Args:
        labels_by_split: split name -> integer labels ``[N]``.
        ax: axes to draw into; a new figure when None.
        n_classes: classes 0 ... n_classes - 1 on the x axis.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    fig, ax = _figure_and_axes(ax, figsize=(6.4, 2.8))
    n_splits = max(1, len(labels_by_split))
    width = 0.8 / n_splits
    classes = np.arange(n_classes)
    for i, (name, labels) in enumerate(labels_by_split.items()):
        counts = np.bincount(_to_numpy(labels).astype(np.int64), minlength=n_classes)[:n_classes]
        ax.bar(classes + (i - (n_splits - 1) / 2) * width, counts, width=width, color=f"C{i % 8}",
               label=f"{name} ({int(counts.sum())} samples)")
    ax.set_xticks(classes)
    ax.set_xlabel("class (digit)")
    ax.set_ylabel("samples")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=max(1, min(n_splits, 3)))
    if title:
        ax.set_title(title)
    return fig


def plot_binning(events, timesteps: int, ax=None, *, title: str | None = None):
    """Where the two frame rules cut one recording: its cumulative event count against time.

    Equal time (``FrameSpec(T, "time")``, tonic's ``n_time_bins``): vertical dashed lines, evenly spaced
    in time from the first to the last event. Equal count (``FrameSpec(T, "count")``): dotted lines
    evenly spaced in events, dropped to the time at which each bin starts; the last bin takes the
    remainder.

    Args:
        events: one recording, sorted by ``t``.
        timesteps: T, the number of frames.
        ax: axes to draw into; a new figure when None.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    from .frames import FrameSpec, bin_index

    _, _, t, _ = _event_fields(events)
    fig, ax = _figure_and_axes(ax, figsize=(6.4, 3.6))
    t_ms = t / 1000.0
    n = len(t_ms)
    ax.plot(t_ms, np.arange(1, n + 1), color="k", linewidth=1.2, label="events so far")
    count_index = bin_index(events, FrameSpec(timesteps, "count"))
    width_us = (t[-1] - t[0]) // timesteps if n else 0
    for k in range(1, timesteps + 1):  # equal-time edges t0 + k w, w = (t1 - t0) // T, as frames.bin_index
        ax.axvline((t[0] + k * width_us) / 1000.0 if n else np.nan, color="C0", linestyle="--", linewidth=0.9,
                   label=f"equal-time edges (T = {timesteps})" if k == 1 else None)
    for k in range(1, timesteps):
        first = np.flatnonzero(count_index == k)
        if not first.size:
            continue
        i = int(first[0])
        ax.plot([t_ms[0], t_ms[i], t_ms[i]], [i, i, 0], color="C3", linestyle=":", linewidth=1.1,
                label=f"equal-count edges (T = {timesteps})" if k == 1 else None)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("events (cumulative)")
    ax.set_xlim(left=0)
    ax.set_ylim(0, n * 1.05 + 1)
    ax.legend(loc="upper left")
    if title:
        ax.set_title(title)
    return fig


# --- memristor devices (chapter "Memristor noise") ------------------------------------------------------

def _normal_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2.0 * np.pi))


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
        fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.2), width_ratios=(3.1, 2.0))
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
        ax_form.text(x0 + 0.5, -0.08, text, ha="center", va="top", fontsize=8)
    ax_form.set_title("programming: every forming grows its own filament", fontsize=10)
    ax_form.text(-0.08, 1.22, "top\nelectrode", ha="right", va="center", fontsize=7)
    ax_form.text(-0.08, 0.65, "oxide\n(vacancies: dots)", ha="right", va="center", fontsize=7)
    ax_form.text(-0.08, 0.07, "bottom\nelectrode", ha="right", va="center", fontsize=7)
    ax_form.set_xlim(-0.75, 3.75)
    ax_form.set_ylim(-0.45, 1.4)

    cell(ax_read, 0.0, 0.09)
    traps = np.array([[0.25, 0.45], [0.78, 0.75], [0.3, 0.95], [0.72, 0.35]])
    ax_read.plot(*traps.T, "o", markersize=7, markerfacecolor="white", markeredgecolor="C0")
    ax_read.plot(*traps[1], "o", markersize=7, color="C0")
    ax_read.text(traps[1, 0] + 0.09, traps[1, 1], "trapped\nelectron", fontsize=7, va="center")
    ax_read.add_patch(FancyArrowPatch((0.5, 0.7), traps[1] - (0.04, 0), arrowstyle="->", mutation_scale=8,
                                      color="C0", connectionstyle="arc3,rad=-0.4"))
    ax_read.text(0.5, -0.08, "traps (circles) capture and\nrelease electrons;\nthermal noise adds jitter",
                 ha="center", va="top", fontsize=8)
    t = np.linspace(1.25, 2.25, 400)
    telegraph = np.where(np.sin(23 * t) + 0.6 * np.sin(57 * t + 1) > 0.4, 0.08, 0.0)
    trace = 0.65 + telegraph + rng.normal(0, 0.012, t.size)
    ax_read.plot(t, trace, color="k", linewidth=0.8)
    ax_read.text(1.75, 0.92, "read current over time", ha="center", fontsize=7)
    ax_read.set_title("reading: the current fluctuates", fontsize=10)
    ax_read.set_xlim(-0.1, 2.35)
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
        g_plus, g_minus: conductances, shape ``[rows, pairs]`` (uS).
        ax: axes to draw into; a new figure when None.
        vmax: top of the colour scale (uS); the largest conductance when None.

    Returns:
        The matplotlib Figure.
    """
    from matplotlib.patches import Rectangle

    v, gp, gm = _to_numpy(voltages).ravel(), _to_numpy(g_plus), _to_numpy(g_minus)
    if gp.shape != gm.shape or gp.ndim != 2 or gp.shape[0] != v.size:
        raise ValueError(f"need voltages [rows] and conductances [rows, pairs]; got {v.shape}, {gp.shape}, {gm.shape}")
    rows, pairs = gp.shape
    fig, ax = _figure_and_axes(ax, figsize=(1.6 + 1.5 * pairs, 1.4 + 0.65 * rows))
    vmax = float(max(gp.max(), gm.max())) if vmax is None else vmax
    cmap = plt.get_cmap("viridis")
    x_of = {(j, s): 1.5 * j + 0.6 * s for j in range(pairs) for s in (0, 1)}
    right = 1.5 * (pairs - 1) + 0.6 + 0.4
    for i in range(rows):
        y = -i
        ax.plot([-0.4, right], [y, y], color="0.3", linewidth=1.0)
        ax.text(-0.5, y, f"$V_{{{i + 1}}}$ = {v[i]:.2f} V", ha="right", va="center", fontsize=8)
    for j in range(pairs):
        for s, (g, name) in enumerate(((gp, "+"), (gm, "-"))):
            x = x_of[(j, s)]
            ax.plot([x, x], [0.4, -rows + 0.35], color="0.3", linewidth=1.0)
            for i in range(rows):
                ax.add_patch(Rectangle((x - 0.16, -i - 0.16), 0.32, 0.32, color=cmap(g[i, j] / vmax),
                                       ec="k", linewidth=0.5, zorder=3))
            current = float(v @ g[:, j])
            ax.annotate("", xy=(x, -rows + 0.05), xytext=(x, -rows + 0.35),
                        arrowprops=dict(arrowstyle="->", color="k", lw=0.8))
            ax.text(x, -rows - 0.05, f"$I^{{{name}}}_{{{j + 1}}}$\n{current:.2f}", ha="center", va="top",
                    fontsize=7)
        xm = 0.5 * (x_of[(j, 0)] + x_of[(j, 1)])
        out = float(v @ (gp[:, j] - gm[:, j]))
        ax.text(xm, -rows - 0.75, f"$I_{{{j + 1}}}$ = {out:.2f} uA", ha="center", va="top", fontsize=8,
                bbox=dict(boxstyle="round", fc="white", ec="0.5"))
        ax.text(xm, 0.55, f"pair {j + 1}\n$G^+$   $G^-$", ha="center", va="bottom", fontsize=8)
    ax.text(right + 0.1, -rows - 0.1, "column\ncurrents\n(uA)", fontsize=7, va="top")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, vmax))
    fig.colorbar(sm, ax=ax, shrink=0.7, label="cell conductance (uS)")
    ax.set_xlim(-2.2, right + 0.7)
    ax.set_ylim(-rows - 1.3, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_conductance_map(g, ax=None, *, title: str | None = None, label: str = "conductance (uS)",
                         vmin: float | None = None, vmax: float | None = None):
    """Heatmap of an array of cell conductances, ``[rows, columns]`` in uS, with a colour bar.

    Returns:
        The matplotlib Figure.
    """
    g = _to_numpy(g)
    if g.ndim != 2:
        raise ValueError(f"g must be a 2-D array [rows, columns], got shape {g.shape}")
    fig, ax = _figure_and_axes(ax)
    image = ax.imshow(g, cmap="viridis", vmin=vmin, vmax=vmax, interpolation="nearest")
    fig.colorbar(image, ax=ax, label=label)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return fig


def plot_histogram_with_normal(values, ax=None, *, unit: str = "uS", quantity: str = "conductance",
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
    ax.legend(loc="upper left", fontsize=8)
    ax.set_ylim(top=ax.get_ylim()[1] * 1.3)
    if title:
        ax.set_title(title)
    return fig


def plot_pair_histograms(before, after, config, axes=None, *, bins: int = 80):
    """Conductances of G+ and G- (top) and the weights they hold (bottom), before and after pruning.

    Before pruning both cells are quasi-normal around ``g_mean_us``; after pruning the RESET pairs pile
    up in a narrow peak at ``g_reset_us`` (near zero) and their weights in a peak at zero. Counts are on
    a logarithmic axis so that the tall RESET peak and the kept pairs are both visible.

    Args:
        before, after: :class:`primekit.memristor.Pairs` (uS), e.g. a formed array and the same array
            after :func:`primekit.memristor.reset_pruned`.
        config: the :class:`primekit.memristor.DeviceConfig` (for ``weight_scale`` and the range).
        axes: a 2 x 2 array of axes; a new figure when None.
        bins: histogram bins per panel.

    Returns:
        The matplotlib Figure.
    """
    if axes is None:
        fig, axes = plt.subplots(2, 2, figsize=(8.0, 5.6), sharex="row", sharey="row")
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
        ax_g.set_xlabel("cell conductance (uS)")
        ax_g.set_yscale("log")
        ax_g.legend(loc="upper right")
        ax_w.hist(_to_numpy(pairs.weights(config)).ravel(), bins=w_bins, color="C2", alpha=0.8)
        ax_w.set_xlabel(f"weight $w$ = {config.weight_scale:g} x ($G^+ - G^-$ in uS)")
        ax_w.set_yscale("log")
        if pairs.reset is not None and bool(_to_numpy(pairs.reset).any()):
            n_reset = int(_to_numpy(pairs.reset).sum())
            ax_g.annotate(f"RESET cells\n({2 * n_reset:,})", xy=(config.g_reset_us, 0.5 * ax_g.get_ylim()[1]),
                          xytext=(config.g_reset_us + 0.12 * (config.g_max_us - config.g_min_us),
                                  0.5 * ax_g.get_ylim()[1]),
                          va="center", fontsize=8, arrowprops=dict(arrowstyle="->", lw=0.8))
            ax_w.annotate(f"RESET pairs\n({n_reset:,})", xy=(0.0, 0.5 * ax_w.get_ylim()[1]),
                          xytext=(0.35 * w_lim, 0.5 * ax_w.get_ylim()[1]), va="center", fontsize=8,
                          arrowprops=dict(arrowstyle="->", lw=0.8))
    axes[0, 0].set_ylabel("cells")
    axes[1, 0].set_ylabel("pairs")
    return fig


def plot_mean_vs_spread(cycles, ax=None, *, title: str | None = None):
    """Each cell's mean conductance against its std over re-programming cycles (one dot per cell).

    Args:
        cycles: conductances ``[n_cycles, n_cells]`` (uS), e.g. from
            :func:`primekit.memristor.reprogram_cycles`.
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
    ax.set_xlabel("mean conductance over cycles (uS)")
    ax.set_ylabel("std over cycles (uS)")
    ax.set_ylim(0, max(float(std.max()) * 1.5, 1e-9))
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return fig


def plot_read_traces(traces, ax=None, *, xlabel: str = "read number (reads)", ylabel: str = "conductance (uS)",
                     title: str | None = None, linewidth: float = 0.4):
    """Conductance of several cells over repeated reads (or programming cycles), one line per cell.

    Lines are coloured by each cell's mean (dark: low, light: high) and rasterised in vector output.

    Args:
        traces: ``[n_reads, n_cells]`` (uS); reads are numbered from 1.
        ax: axes to draw into; a new figure when None.
        xlabel, ylabel: axis labels with units (use "programming cycle (cycles)" for cycles).
        title: optional title.
        linewidth: line width of the traces.

    Returns:
        The matplotlib Figure.
    """
    traces = _to_numpy(traces)
    if traces.ndim != 2:
        raise ValueError(f"traces must be shaped [n_reads, n_cells], got {traces.shape}")
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
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------------
# Subnet training (edge-popup) and the methods of the paper's Fig. 3e
# ---------------------------------------------------------------------------------------------------


def plot_mask_training(losses, magnitudes, masks, axes=None, *, reference=None,
                       loss_label: str = "training loss (mean squared error)"):
    """Edge-popup on a small layer: the loss, every score's magnitude and the mask over training steps.

    Step 0 is the initial state; step ``s`` the state after ``s`` optimiser updates. The middle panel
    draws the keep threshold (halfway between the smallest kept and the largest pruned ``|S|``).

    Args:
        losses: loss at each step, shape ``[S + 1]``.
        magnitudes: score magnitudes ``|S|`` at each step, shape ``[S + 1, n]`` (weights flattened).
        masks: keep decisions at each step, shape ``[S + 1, n]`` (bool or 0/1).
        axes: three axes; a new 1 x 3 figure when None.
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
        fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.6))
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
                      Line2D([], [], color="k", linestyle="--")], [*names, "keep threshold"], loc="upper left")
    ax_scores.set_xlabel("optimiser step (updates)")
    ax_scores.set_ylabel("score magnitude |S| (a.u.)")
    order = np.arange(n) if reference is None else np.argsort(~reference, kind="stable")
    ax_mask.imshow(masks[:, order].T, aspect="auto", cmap="Greys", vmin=0, vmax=1.6, interpolation="nearest",
                   extent=(-0.5, steps[-1] + 0.5, n - 0.5, -0.5))
    if reference is not None:
        ax_mask.axhline(int(reference.sum()) - 0.5, color="C3", linewidth=1.2)
        ax_mask.set_ylabel("weight (planted subnet above the red line)")
    else:
        ax_mask.set_ylabel("weight (index)")
    ax_mask.set_xlabel("optimiser step (updates)")
    ax_mask.set_title("mask: dark = kept, white = pruned", fontsize=9)
    ax_mask.grid(False)
    return fig


def plot_training_curves(histories: dict, axes=None, *, chance: float | None = None):
    """Training loss and test accuracy per epoch, one colour per method.

    A history with no training epochs (an untrained baseline: empty ``loss``, one test accuracy) is
    drawn as a dotted horizontal line on the accuracy panel.

    Args:
        histories: label -> an object with ``loss`` (mean training cross-entropy per epoch, nats) and
            ``test_accuracy`` (fraction per epoch), e.g. :class:`primekit.train.History`.
        axes: two axes; a new 1 x 2 figure when None.
        chance: optional chance accuracy (fraction), drawn as a grey line.

    Returns:
        The matplotlib Figure.
    """
    from matplotlib.ticker import MaxNLocator

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8))
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
            ax_acc.plot([1, longest], [accuracy[-1]] * 2, linestyle=":", color=color, label=f"{label} (untrained)")
    if chance is not None:
        ax_acc.axhline(100 * chance, color="0.5", linewidth=0.8, label="chance")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_loss.set_ylabel("training loss (cross-entropy, nats)")
    ax_loss.set_ylim(bottom=0)
    ax_loss.legend(loc="upper right")
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.set_ylim(0, 100)
    ax_acc.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    return fig


def plot_kept_fractions(fractions: dict, ax=None, *, title: str | None = None):
    """Grouped bars: the kept fraction of each layer (in %), one group per layer, one bar per label.

    Args:
        fractions: label (e.g. a method) -> {layer name -> kept fraction}, as from
            :func:`primekit.subnet.kept_fractions`; layers ordered as in the first label.
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
    ax.legend(loc="upper center", ncols=min(len(fractions), 3), fontsize=8)
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
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_method_accuracies(accuracies: dict, ax=None, *, spread: dict | None = None, noiseless: dict | None = None,
                           references: dict | None = None, chance: float | None = None, colors: dict | None = None,
                           title: str | None = None):
    """Test accuracy (in %) of several methods as bars, with their values written on top.

    Args:
        accuracies: label -> accuracy (fraction).
        ax: axes to draw into; a new figure when None.
        spread: label -> (lowest, highest) accuracy over repeats (fractions), drawn as an error bar.
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
    for xi, v in zip(x, values):  # the value inside its bar (above it when the bar is too short)
        inside = v >= 12
        ax.text(xi, 0.5 * v if inside else v + 1.5, f"{v:.1f} %", ha="center", va="center" if inside else "bottom",
                fontsize=9, color="white" if inside else "k", fontweight="bold" if inside else "normal")
    for label, (low, high) in (spread or {}).items():
        i, v = labels.index(label), 100 * accuracies[label]
        ax.errorbar([i], [v], yerr=[[v - 100 * low], [100 * high - v]], color="k", capsize=3, linewidth=1.0)
    handles, names = [], []
    for label, value in (noiseless or {}).items():
        ax.plot([labels.index(label)], [100 * value], marker="D", markersize=6, markerfacecolor="white",
                markeredgecolor="k", linestyle="none")
        handles, names = [Line2D([], [], marker="D", markerfacecolor="white", markeredgecolor="k",
                                 linestyle="none")], ["same model without read noise"]
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
        ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, fontsize=8)
    if title:
        ax.set_title(title)
    return fig
