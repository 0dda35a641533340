"""Statistics of event recordings: how many events, when, where, of which polarity, in which order.

The Event data chapter puts the emulated N-MNIST beside a real recording with these functions. All take
one event array (:data:`primekit.events.EVENT_DTYPE` or tonic's, sorted by ``t``; ``p = 1`` is ON) and
use the recording's own clock (``t`` in microseconds from the start of the recording).

- :func:`recording_stats`: everything below for one recording, as a :class:`RecordingStats`;
  :func:`summarize` aggregates many of them (mean, standard deviation, min, max of every field).
- :func:`saccade_counts`: events in each saccade, cut at fixed times (``saccade_edges_ms``).
- :func:`off_then_on_ratio` / :func:`first_polarity_counts`: among pixels that fire both polarities,
  how many start with OFF and how many with ON. A digit *darker* than its background makes a pixel go
  OFF when a stroke arrives and ON when it leaves, so OFF-then-ON dominates; a bright digit does the
  opposite. :func:`recording_stats` also counts this saccade by saccade.
- :func:`on_off_offset_px`: where the ON events lie relative to the OFF events; for a dark digit the
  offset points against the image's motion (in saccade 1 the image moves down: ON lies above).
- :func:`polarity_images`, :func:`signed_image`, :func:`saccade_images`: per-pixel event counts in a
  time window (``[2, 34, 34]`` as ``[p, y, x]``, the order of :func:`primekit.frames.to_frames`) and
  the signed ``ON - OFF`` image.
- :func:`event_rate` / :func:`mean_event_rate`: events per millisecond in fixed time bins (the three
  saccades show as three bursts).
- :func:`shared_sample_path`: the real N-MNIST recording kept beside the repository for tests and the
  book (``../shared/data/nmnist/sample_nmnist.bin``), or None when it is absent;
  :data:`REAL_SAMPLE_STATS` holds its statistics for when it is absent.

The default saccade edges, 97 ms and 224 ms, sit in the two quiet gaps of the real recording (and of the
emulator's default protocol); they are what the book uses, not a property of every N-MNIST file.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from . import paths
from .events import SENSOR_SIZE, check_events

#: Times (ms) that cut a recording into its three saccades: the quiet gaps of the real recording.
SACCADE_EDGES_MS = (97.0, 224.0)

#: Environment variable naming another file to use as "the real sample" (a path that does not exist
#: makes :func:`shared_sample_path` return None, which is how the book's fallback is tested).
REAL_SAMPLE_ENV = "PRIMEKIT_REAL_SAMPLE"

#: Where the real recording lives, relative to the folder that holds the repository.
SHARED_SAMPLE_RELATIVE = Path("shared") / "data" / "nmnist" / "sample_nmnist.bin"


def shared_sample_path() -> Path | None:
    """The real N-MNIST recording beside the repository, or None when it is not there.

    Looks for ``<folder holding the repository>/shared/data/nmnist/sample_nmnist.bin`` (found from
    :func:`primekit.paths.repo_root`; None for a non-editable install). ``$PRIMEKIT_REAL_SAMPLE``, if
    set, names the file to use instead (None if that file does not exist).
    """
    override = os.environ.get(REAL_SAMPLE_ENV)
    if override is not None:
        candidate = Path(override).expanduser()
        return candidate if candidate.is_file() else None
    root = paths.repo_root()
    if root is None:
        return None
    candidate = root.parent / SHARED_SAMPLE_RELATIVE
    return candidate if candidate.is_file() else None


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
    if not bin_ms > 0:
        raise ValueError(f"bin_ms={bin_ms!r} must be > 0")
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

    Index 0 is OFF, 1 is ON (the order of :func:`primekit.frames.to_frames`). ``t_end_us=None``: to the end.
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


# ---------------------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordingStats:
    """The statistics of one recording (see :func:`recording_stats`; units in the names).

    Attributes:
        n_events: number of events.
        n_on: number of ON events (``p = 1``).
        on_fraction: ``n_on / n_events``.
        duration_ms: last minus first event time.
        saccade_counts: events per saccade (cut at the edges).
        active_pixels: pixels (of 34 x 34) with at least one event.
        events_per_active_pixel: ``n_events / active_pixels``.
        median_pixel_interval_ms: median time between consecutive events of one pixel (NaN if no pixel
            fires twice).
        off_then_on: pixels firing both polarities whose first event is OFF.
        on_then_off: pixels firing both polarities whose first event is ON.
        off_then_on_ratio: ``off_then_on / max(on_then_off, 1)``.
        saccade_off_then_on: per saccade, the same OFF-first count within that saccade alone.
        saccade_on_then_off: per saccade, the ON-first count within that saccade alone.
        peak_ms: per saccade, the centre of its busiest ``bin_ms`` bin.
        peak_rate_per_ms: per saccade, that bin's rate (events / ms).
        gap_ms: per edge, the centre of the quietest bin within ``gap_search_ms`` of the edge.
        gap_rate_per_ms: per edge, that bin's rate (events / ms).
        on_off_offset_px: per saccade, mean (x, y) of its ON events minus that of its OFF events (px).
    """

    n_events: int
    n_on: int
    on_fraction: float
    duration_ms: float
    saccade_counts: tuple[int, ...]
    active_pixels: int
    events_per_active_pixel: float
    median_pixel_interval_ms: float
    off_then_on: int
    on_then_off: int
    off_then_on_ratio: float
    saccade_off_then_on: tuple[int, ...]
    saccade_on_then_off: tuple[int, ...]
    peak_ms: tuple[float, ...]
    peak_rate_per_ms: tuple[float, ...]
    gap_ms: tuple[float, ...]
    gap_rate_per_ms: tuple[float, ...]
    on_off_offset_px: tuple[tuple[float, float], ...]

    @property
    def saccade_off_then_on_ratio(self) -> float:
        """OFF-first over ON-first pixels counted saccade by saccade: ``sum(off) / max(sum(on), 1)``."""
        return sum(self.saccade_off_then_on) / max(sum(self.saccade_on_then_off), 1)

    @property
    def gap_to_peak(self) -> float:
        """The busiest quiet gap relative to the weakest burst: ``max(gap rates) / min(peak rates)``."""
        weakest = min(self.peak_rate_per_ms) if self.peak_rate_per_ms else 0.0
        if not self.gap_rate_per_ms or weakest == 0:
            return math.nan
        return max(self.gap_rate_per_ms) / weakest

    def as_dict(self) -> dict:
        """The fields (and the properties ``saccade_off_then_on_ratio``, ``gap_to_peak``) as a plain dict."""
        out = dataclasses.asdict(self)
        out["saccade_off_then_on_ratio"] = self.saccade_off_then_on_ratio
        out["gap_to_peak"] = self.gap_to_peak
        return out


def _extreme_bin(centres: np.ndarray, rate: np.ndarray, where: np.ndarray, pick) -> tuple[float, float]:
    """(time in ms, rate) of the bin ``pick`` (np.argmax or np.argmin) chooses among ``where``; (nan, 0) if none."""
    if not where.any():
        return math.nan, 0.0
    j = np.flatnonzero(where)[pick(rate[where])]
    return float(centres[j]), float(rate[j])


def recording_stats(events: np.ndarray, saccade_edges_ms: Sequence[float] = SACCADE_EDGES_MS, *,
                    bin_ms: float = 5.0, gap_search_ms: float = 10.0) -> RecordingStats:
    """All statistics of one recording.

    Args:
        events: one recording, sorted by ``t`` (``p = 1`` is ON).
        saccade_edges_ms: times that separate the saccades.
        bin_ms: bin width of the event rate used for the bursts and gaps.
        gap_search_ms: a gap is the quietest bin whose centre lies within this distance of an edge.

    Returns:
        A :class:`RecordingStats`. An empty recording gives zeros and NaNs, never an error.
    """
    check_events(events, require_sorted=True)
    n = len(events)
    t = np.asarray(events["t"], dtype=np.int64)
    p = np.asarray(events["p"], dtype=np.int64)
    n_on = int(p.sum())
    edges_ms = np.asarray(saccade_edges_ms, dtype=np.float64)
    windows = saccade_windows_us(edges_ms)
    saccade = np.searchsorted(_edges_us(edges_ms), t.astype(np.float64), side="right")

    # one grouping by pixel (time order within a pixel) serves every per-pixel statistic
    pixel, order = _pixel_order(events)
    pixel_s, t_s, p_s, saccade_s = pixel[order], t[order], p[order], saccade[order]
    new_pixel = np.r_[True, pixel_s[1:] != pixel_s[:-1]] if n else np.zeros(0, dtype=bool)
    active = int(new_pixel.sum())
    intervals = np.diff(t_s)[~new_pixel[1:]] if n else np.zeros(0)
    off_first, on_first = (int(v) for v in _first_polarity(pixel_s, p_s)[0])
    # saccade is non-decreasing within a pixel, so (pixel, saccade) groups are contiguous too
    by_saccade = _first_polarity(pixel_s * (len(windows) + 1) + saccade_s, p_s, len(windows), saccade_s)
    if n:
        bins, rate = event_rate(events, bin_ms)
        centres = (bins[:-1] + bins[1:]) / 2
    else:
        centres, rate = np.zeros(0), np.zeros(0)
    peaks = [_extreme_bin(centres, rate, (centres >= a / 1000.0) & (centres < b / 1000.0), np.argmax)
             for a, b in windows]
    gaps = [_extreme_bin(centres, rate, np.abs(centres - edge) <= gap_search_ms, np.argmin) for edge in edges_ms]
    peak_ms, peak_rate = [p[0] for p in peaks], [p[1] for p in peaks]
    gap_ms, gap_rate = [g[0] for g in gaps], [g[1] for g in gaps]
    offsets = _on_off_offsets(events, saccade, len(windows))

    return RecordingStats(
        n_events=n,
        n_on=n_on,
        on_fraction=n_on / n if n else math.nan,
        duration_ms=float(t[-1] - t[0]) / 1000.0 if n else 0.0,
        saccade_counts=tuple(int(c) for c in saccade_counts(events, edges_ms)),
        active_pixels=active,
        events_per_active_pixel=n / active if active else math.nan,
        median_pixel_interval_ms=float(np.median(intervals)) / 1000.0 if intervals.size else math.nan,
        off_then_on=off_first,
        on_then_off=on_first,
        off_then_on_ratio=off_first / max(on_first, 1),
        saccade_off_then_on=tuple(int(c) for c in by_saccade[:, 0]),
        saccade_on_then_off=tuple(int(c) for c in by_saccade[:, 1]),
        peak_ms=tuple(peak_ms),
        peak_rate_per_ms=tuple(peak_rate),
        gap_ms=tuple(gap_ms),
        gap_rate_per_ms=tuple(gap_rate),
        on_off_offset_px=offsets,
    )


@dataclass(frozen=True)
class FieldSummary:
    """Mean, standard deviation, minimum and maximum of one field over many recordings.

    Scalars for scalar fields; arrays shaped like the field for tuple fields (e.g. one value per saccade).
    NaNs (a recording where a field is undefined) are ignored.
    """

    mean: float | np.ndarray
    std: float | np.ndarray
    min: float | np.ndarray
    max: float | np.ndarray


def summarize(stats: Sequence[RecordingStats]) -> dict[str, FieldSummary]:
    """Field name -> :class:`FieldSummary` over ``stats`` (also ``gap_to_peak``)."""
    if len(stats) == 0:
        raise ValueError("summarize needs at least one RecordingStats")
    rows = [s.as_dict() for s in stats]
    out = {}
    for name in rows[0]:
        values = np.asarray([row[name] for row in rows], dtype=np.float64)
        with warnings.catch_warnings():  # an all-NaN column gives NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            parts = [np.nanmean(values, axis=0), np.nanstd(values, axis=0),
                     np.nanmin(values, axis=0), np.nanmax(values, axis=0)]
        out[name] = FieldSummary(*(float(v) if values.ndim == 1 else v for v in parts))
    return out


#: The statistics of the real recording ``sample_nmnist.bin`` (a "4"), for pages that must build when the
#: file is absent (label them as quoted). Measured from the file with :func:`recording_stats` and its
#: defaults (edges 97 / 224 ms, 5 ms bins, +-10 ms gap search), offsets rounded to 1e-4 px;
#: ``tests/test_eventstats.py`` checks every value against the file whenever it is present. The paper
#: notes (PAPER.md section 9) describe the same recording: 4,325 events over 310.5 ms, 49.6 % ON, 452
#: active pixels, about 9.6 events per active pixel, median pixel interval 5.2 ms, OFF-then-ON "about 4
#: times" as often as ON-then-OFF (saccade by saccade: 271 / 75 = 3.6 here; over the whole recording,
#: a pixel's very first event: 242 / 111 = 2.2), and 1,369 / 1,409 / 1,547 events per saccade (their
#: edges differ slightly from ours).
REAL_SAMPLE_LABEL = 4
REAL_SAMPLE_STATS = RecordingStats(
    n_events=4325,
    n_on=2145,
    on_fraction=2145 / 4325,
    duration_ms=310.521,
    saccade_counts=(1365, 1413, 1547),
    active_pixels=452,
    events_per_active_pixel=4325 / 452,
    median_pixel_interval_ms=5.195,
    off_then_on=242,
    on_then_off=111,
    off_then_on_ratio=242 / 111,
    saccade_off_then_on=(82, 88, 101),
    saccade_on_then_off=(25, 28, 22),
    peak_ms=(57.5, 142.5, 262.5),
    peak_rate_per_ms=(30.0, 25.2, 33.4),
    gap_ms=(97.5, 227.5),
    gap_rate_per_ms=(1.4, 0.2),
    on_off_offset_px=((-1.1791, -4.5189), (-3.6379, 4.2728), (4.0951, 0.3631)),
)
