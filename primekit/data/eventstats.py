"""Statistics of event recordings: how many events, when, where, of which polarity, in which order.

The Event data chapter puts the emulated N-MNIST beside a real recording with these functions. All take
one event array (:data:`primekit.data.events.EVENT_DTYPE` or tonic's, sorted by ``t``; ``p = 1`` is ON) and
use the recording's own clock (``t`` in microseconds from the start of the recording).

- :func:`primekit.data.recording_stats.recording_stats` gathers everything below for one recording.
- :func:`saccade_counts`: events in each saccade, cut at fixed times (``saccade_edges_ms``).
- :func:`off_then_on_ratio` / :func:`first_polarity_counts`: among pixels that fire both polarities,
  how many start with OFF and how many with ON. A digit *darker* than its background makes a pixel go
  OFF when a stroke arrives and ON when it leaves, so OFF-then-ON dominates; a bright digit does the
  opposite.
- :func:`on_off_offset_px`: where the ON events lie relative to the OFF events; for a dark digit the
  offset points against the image's motion (in saccade 1 the image moves down: ON lies above).
- :func:`polarity_images`, :func:`signed_image`, :func:`saccade_images`: per-pixel event counts in a
  time window (``[2, 34, 34]`` as ``[p, y, x]``, the order of :func:`primekit.data.frames.to_frames`) and
  the signed ``ON - OFF`` image.
- :func:`event_rate` / :func:`mean_event_rate`: events per millisecond in fixed time bins (the three
  saccades show as three bursts).

The default saccade edges, 97 ms and 224 ms, sit in the two quiet gaps of the real recording (and of the
emulator's default protocol); they are what the book uses, not a property of every N-MNIST file.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from primekit.checks import check_number
from primekit.data.events import SENSOR_SIZE

#: Times (ms) that cut a recording into its three saccades: the quiet gaps of the real recording.
SACCADE_EDGES_MS = (97.0, 224.0)

# ---------------------------------------------------------------------------------------------------
# Counting by time
# ---------------------------------------------------------------------------------------------------


def saccade_counts(events: np.ndarray, edges_ms: Sequence[float] = SACCADE_EDGES_MS) -> np.ndarray:
    """Events before the first edge, between consecutive edges, and after the last (``len(edges) + 1``).

    An event exactly at an edge belongs to the later saccade. ``edges_ms`` must increase.
    """
    edges_us = _edges_us(edges_ms)
    index = np.searchsorted(edges_us, np.asarray(events["t"], dtype=np.float64), side="right")
    return np.bincount(index, minlength=len(edges_us) + 1).astype(np.int64)


def _edges_us(edges_ms: Sequence[float]) -> np.ndarray:
    edges = np.asarray(edges_ms, dtype=np.float64) * 1000.0
    if edges.ndim != 1 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"saccade edges {list(edges_ms)} must be an increasing 1-D sequence (ms)")
    return edges


def saccade_windows_us(edges_ms: Sequence[float] = SACCADE_EDGES_MS,
                       end_us: float = math.inf) -> list[tuple[float, float]]:
    """``[(start_us, end_us), ...]`` of each saccade: from 0 to the first edge, ..., last edge to ``end_us``."""
    edges = _edges_us(edges_ms).tolist()
    bounds = [0.0, *edges, float(end_us)]
    return list(zip(bounds[:-1], bounds[1:]))


def event_rate(events: np.ndarray, bin_ms: float = 5.0, end_ms: float | None = None,
               polarity: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Events per millisecond in consecutive bins of ``bin_ms`` starting at t = 0.

    Args:
        events: one recording.
        bin_ms: bin width in ms (> 0).
        end_ms: last bin edge; default: the first multiple of ``bin_ms`` after the last event. Events at
            or after ``end_ms`` are not counted.
        polarity: None for all events, 1 for ON only, 0 for OFF only.

    Returns:
        ``(edges_ms, rate)``: ``len(rate) + 1`` bin edges (ms) and the rate in each bin (events / ms).
    """
    check_number("bin_ms", bin_ms, above=0)
    t_ms = np.asarray(events["t"], dtype=np.float64) / 1000.0
    if polarity is not None:
        t_ms = t_ms[np.asarray(events["p"]) == polarity]
    if end_ms is None:
        last = float(np.asarray(events["t"]).max(initial=0)) / 1000.0
        end_ms = (math.floor(last / bin_ms) + 1) * bin_ms
    n_bins = max(1, int(math.ceil(end_ms / bin_ms - 1e-9)))
    edges = np.arange(n_bins + 1) * float(bin_ms)
    index = np.floor(t_ms / bin_ms).astype(np.int64)
    index = index[(index >= 0) & (index < n_bins)]
    counts = np.bincount(index, minlength=n_bins)
    return edges, counts / float(bin_ms)


def mean_event_rate(recordings: Sequence[np.ndarray], bin_ms: float = 5.0,
                    end_ms: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`event_rate` averaged over recordings on common bins: ``(edges_ms, mean, std)`` (events / ms).

    ``end_ms`` defaults to one bin past the latest event of all recordings.
    """
    if len(recordings) == 0:
        raise ValueError("mean_event_rate needs at least one recording")
    check_number("bin_ms", bin_ms, above=0)
    if end_ms is None:
        last = max(float(np.asarray(r["t"]).max(initial=0)) for r in recordings) / 1000.0
        end_ms = (math.floor(last / bin_ms) + 1) * bin_ms
    rates = np.stack([event_rate(r, bin_ms, end_ms)[1] for r in recordings])
    edges = event_rate(recordings[0], bin_ms, end_ms)[0]
    return edges, rates.mean(axis=0), rates.std(axis=0)


# ---------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------


def polarity_images(events: np.ndarray, t_start_us: float = 0, t_end_us: float | None = None) -> np.ndarray:
    """Event counts per polarity and pixel in ``t_start_us <= t < t_end_us``: int64 ``[2, 34, 34]`` = ``[p, y, x]``.

    Index 0 is OFF, 1 is ON (the order of :func:`primekit.data.frames.to_frames`). ``t_end_us=None``: to the end.
    """
    t = np.asarray(events["t"])
    inside = t >= t_start_us
    if t_end_us is not None:
        inside &= t < t_end_us
    width, height, polarities = SENSOR_SIZE
    flat = ((np.asarray(events["p"], dtype=np.int64)[inside] * height
             + np.asarray(events["y"], dtype=np.int64)[inside]) * width
            + np.asarray(events["x"], dtype=np.int64)[inside])
    return np.bincount(flat, minlength=polarities * height * width).reshape(polarities, height, width)


def signed_image(events: np.ndarray, t_start_us: float = 0, t_end_us: float | None = None) -> np.ndarray:
    """ON minus OFF events per pixel in ``t_start_us <= t < t_end_us``: int64 ``[34, 34]`` = ``[y, x]``."""
    counts = polarity_images(events, t_start_us, t_end_us)
    return counts[1] - counts[0]


def saccade_images(events: np.ndarray, edges_ms: Sequence[float] = SACCADE_EDGES_MS) -> np.ndarray:
    """:func:`signed_image` of each saccade (cut at ``edges_ms``): int64 ``[len(edges) + 1, 34, 34]``."""
    return np.stack([signed_image(events, start, None if math.isinf(end) else end)
                     for start, end in saccade_windows_us(edges_ms)])


def on_off_offset_px(events: np.ndarray, t_start_us: float = 0, t_end_us: float | None = None) -> np.ndarray:
    """Mean position of ON events minus mean position of OFF events, ``[dx, dy]`` in px (x right, y down).

    For a dark digit the trailing edges of a moving stroke brighten (ON) and the leading edges darken
    (OFF), so the offset points *against* the image's motion; NaN if a polarity has no event.
    """
    t = np.asarray(events["t"])
    inside = t >= t_start_us
    if t_end_us is not None:
        inside &= t < t_end_us
    p = np.asarray(events["p"])[inside]
    xy = np.stack([np.asarray(events["x"])[inside], np.asarray(events["y"])[inside]], axis=1).astype(np.float64)
    if not (p == 1).any() or not (p == 0).any():
        return np.full(2, np.nan)
    return xy[p == 1].mean(axis=0) - xy[p == 0].mean(axis=0)


# ---------------------------------------------------------------------------------------------------
# Per-pixel statistics
# ---------------------------------------------------------------------------------------------------


def _pixel_order(events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(pixel, order)``: pixel id ``y * 34 + x`` of every event, and the order that groups events by
    pixel, in time order within a pixel. Stable: events of one pixel with equal ``t`` keep their order."""
    width = SENSOR_SIZE[0]
    pixel = np.asarray(events["y"], dtype=np.int64) * width + np.asarray(events["x"], dtype=np.int64)
    t = np.asarray(events["t"], dtype=np.int64)
    if len(t) < 2 or np.all(t[1:] >= t[:-1]):
        order = np.argsort(pixel.astype(np.uint16), kind="stable")  # already in time order: a radix sort
    else:
        order = np.lexsort((t, pixel))
    return pixel, order


def _by_pixel(events: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel id, t and p of every event, grouped by pixel and in time order within a pixel."""
    pixel, order = _pixel_order(events)
    return pixel[order], np.asarray(events["t"], dtype=np.int64)[order], np.asarray(events["p"], dtype=np.int64)[order]


def pixel_intervals_us(events: np.ndarray) -> np.ndarray:
    """Time between consecutive events of the same pixel (us), pooled over all pixels."""
    pixel, t, _ = _by_pixel(events)
    same = pixel[1:] == pixel[:-1]
    return np.diff(t)[same]


def _first_polarity(group: np.ndarray, p: np.ndarray, n_labels: int = 1,
                    label: np.ndarray | None = None) -> np.ndarray:
    """OFF-first and ON-first counts ``[n_labels, 2]`` of the groups of mixed polarity.

    ``group`` and ``p`` are sorted so that each group is contiguous and in time order; ``label`` (per
    event, constant within a group) says which row a group is counted in.
    """
    out = np.zeros((n_labels, 2), dtype=np.int64)
    if len(group) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    both = np.minimum.reduceat(p, starts) != np.maximum.reduceat(p, starts)
    first = p[starts]
    rows = np.zeros(len(starts), dtype=np.int64) if label is None else label[starts]
    out[:, 0] = np.bincount(rows[both & (first == 0)], minlength=n_labels)
    out[:, 1] = np.bincount(rows[both & (first == 1)], minlength=n_labels)
    return out


def first_polarity_counts(events: np.ndarray) -> tuple[int, int]:
    """``(off_then_on, on_then_off)``: among pixels that fire both polarities, how many fire OFF first
    and how many fire ON first."""
    pixel, _, p = _by_pixel(events)
    off_first, on_first = _first_polarity(pixel, p)[0]
    return int(off_first), int(on_first)


def _on_off_offsets(events: np.ndarray, window: np.ndarray, n_windows: int) -> tuple[tuple[float, float], ...]:
    """:func:`on_off_offset_px` of every window at once (``window``: each event's window index)."""
    p = np.asarray(events["p"], dtype=np.int64)
    key = window * 2 + p
    count = np.bincount(key, minlength=2 * n_windows).reshape(n_windows, 2)
    out = []
    for field in ("x", "y"):
        total = np.bincount(key, weights=np.asarray(events[field], dtype=np.float64),
                            minlength=2 * n_windows).reshape(n_windows, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
        out.append(mean[:, 1] - mean[:, 0])
    return tuple((float(dx), float(dy)) for dx, dy in zip(*out))


def off_then_on_ratio(events: np.ndarray) -> float:
    """Pixels firing both polarities: (number starting with OFF) / (number starting with ON).

    A pixel's first event over the whole recording decides (for the count within each saccade see
    :attr:`RecordingStats.saccade_off_then_on`). The denominator is floored at 1 (a recording with no
    ON-first pixel gives the OFF-first count; one with no mixed pixel gives 0). The real recording
    gives 242 / 111 = 2.2: a dark digit (a bright one would give well under 1).
    """
    off_first, on_first = first_polarity_counts(events)
    return off_first / max(on_first, 1)
