"""One record of a recording's statistics, and summaries over many recordings.

:func:`recording_stats` gathers the measures of :mod:`primekit.data.eventstats` for one recording into a
:class:`RecordingStats` (event count, ON fraction, active pixels, events per saccade, peak times and quiet
gaps of the event rate, polarity order, ON/OFF offsets); :func:`summarize` gives the mean, standard
deviation, minimum and maximum of every field over many recordings (the emulated split against the real
recording in the Event data chapter).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from primekit.data.events import check_events
from primekit.data.eventstats import (
    SACCADE_EDGES_MS,
    _edges_us,
    _first_polarity,
    _on_off_offsets,
    _pixel_order,
    event_rate,
    saccade_counts,
    saccade_windows_us,
)

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
