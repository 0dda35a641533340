"""Figures of the Event data chapter: events in 3-D, event rates, the saccade path, a pixel's threshold
crossings, class counts and the binning of events into timesteps.

Image grids and frames are in :mod:`primekit.plots.event_frames`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from primekit.plots._base import (
    OFF_COLOR,
    ON_COLOR,
    _figure_and_axes,
    _to_numpy,
)


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
                   depthshade=False, label=f"{name} ({int(mine.sum()):,} events)", linewidths=0)
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


def plot_event_rate(rates: dict, ax=None, *, edges_ms=None, colors=None, title: str | None = None):
    """Events per millisecond against time, one line per label (e.g. a real and an emulated recording).

    Args:
        rates: label -> ``(bin_edges_ms, rate)`` as returned by :func:`primekit.data.eventstats.event_rate`,
            or ``(bin_edges_ms, mean, std)`` as returned by :func:`primekit.data.eventstats.mean_event_rate`
            (the standard deviation is drawn as a band).
        ax: axes to draw into; a new figure when None.
        edges_ms: times that separate the saccades, drawn as dotted vertical lines.
        colors: one colour per label, in order (e.g. ``ON_COLOR, OFF_COLOR`` for ON and OFF rates); default
            the style's colour cycle.
        title: optional title.

    Returns:
        The matplotlib Figure.
    """
    fig, ax = _figure_and_axes(ax, figsize=(6.4, 3.4))
    colors = list(colors) if colors is not None else [f"C{i % 8}" for i in range(len(rates))]
    if len(colors) != len(rates):
        raise ValueError(f"{len(colors)} colors for {len(rates)} rate curves")
    for i, (label, curve) in enumerate(rates.items()):
        bins, mean = _to_numpy(curve[0]), _to_numpy(curve[1])
        color = colors[i]
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



def plot_saccade_path(times_ms, displacement_px, axes=None, *, schedule=None, title: str | None = None):
    """The image's path during a recording (left, x right and y down) and its speed (right).

    Args:
        times_ms: times in ms, ``[K]`` (evenly spaced).
        displacement_px: image displacement at those times, ``[K, 2]`` (x, y in px), e.g. from
            :func:`primekit.data.emulator.displacement_px`.
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
    ax_path.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0))  # above the panel: inside, it covered the path
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
        ax_speed.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0))  # above the panel, not over the curve
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
            :func:`primekit.data.emulator.emulate`), drawn as rings on the event ticks.
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
                markeredgewidth=1.8, label=f"{name} ({int(mine.sum()):,}, by hand)")
    if library_events is not None:
        lib_ms = _to_numpy(library_events[0]).astype(float)
        ax.plot(lib_ms, np.full(len(lib_ms), tick_y + 0.08 * span), "o", markersize=6, markerfacecolor="none",
                markeredgecolor="0.2", label=f"primekit.data.emulator ({len(lib_ms):,} events)")
    ax.set_ylim(low - 0.08 * span, high + 0.3 * span)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("log intensity (log units)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)  # below the axes, never over the trace
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
               label=f"{name} ({int(counts.sum()):,} samples)")
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
    from primekit.data.frames import FrameSpec, bin_index

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
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3)  # above the axes: edges fill the plot
    if title:
        ax.set_title(title)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
