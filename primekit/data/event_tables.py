"""The Event data chapter's summaries: one recording, the emulator's settings, real against emulated
statistics, and the two binning rules.

Every function returns plain values (a dict of named numbers, or a :class:`primekit.tables.Table`), so
the chapter glues or shows them and the tests check them on hand-made recordings. Units are in the
names: ``_ms`` milliseconds, ``_us`` microseconds, ``_px`` pixels, ``_percent`` percent (0-100).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from primekit.data.emulator import EmulatorConfig
from primekit.data.eventstats import SACCADE_EDGES_MS, polarity_images, saccade_windows_us
from primekit.data.frames import FrameSpec, bin_index, to_frames
from primekit.data.recording_stats import RecordingStats, summarize
from primekit.tables import Table


def fmt(value, spec: str = "", suffix: str = "") -> str:
    """``format(value, spec) + suffix``; an en dash for a NaN (a statistic undefined for the recordings)."""
    if isinstance(value, float) and math.isnan(value):
        return "–"
    return f"{format(value, spec)}{suffix}"


# ---------------------------------------------------------------------------------------------------
# One recording
# ---------------------------------------------------------------------------------------------------


#: Format of a bin time (ms) in the chapter's text and in :func:`comparison_table`: bin centres end in .5.
BIN_TIME_SPEC = ".1f"


def _times_text(times_ms: Sequence[float]) -> str:
    """``(57.5, 142.5, 262.5)`` -> ``"57.5, 142.5 and 262.5"`` (each formatted with :data:`BIN_TIME_SPEC`)."""
    parts = [format(float(t), BIN_TIME_SPEC) for t in times_ms]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def sample_summary(stats: RecordingStats, edges_ms: Sequence[float] = SACCADE_EDGES_MS) -> dict:
    """The numbers the chapter quotes about one recording (glue them with the prefix ``sample_``).

    Keys: ``events``, ``duration_ms``, ``on_percent``, ``saccade{k}_events`` and ``peak{k}_ms`` per saccade
    (k from 1), ``gap{k}_ms`` and ``edge{k}_ms`` per edge, ``peaks_text`` and ``gaps_text`` (the peak and gap
    times as the comparison table writes them, e.g. "57.5, 142.5 and 262.5"), ``gap_to_peak_percent``
    (busier gap over the weakest burst's peak rate) and ``offset1_dy`` (mean y of saccade 1's ON events minus
    that of its OFF events, px; negative is up).
    """
    out = {"events": stats.n_events, "duration_ms": stats.duration_ms, "on_percent": 100 * stats.on_fraction}
    for k, (count, peak) in enumerate(zip(stats.saccade_counts, stats.peak_ms), start=1):
        out[f"saccade{k}_events"] = int(count)
        out[f"peak{k}_ms"] = float(peak)
    for k, (gap, edge) in enumerate(zip(stats.gap_ms, edges_ms), start=1):
        out[f"gap{k}_ms"] = float(gap)
        out[f"edge{k}_ms"] = float(edge)
    out["peaks_text"] = _times_text(stats.peak_ms) if stats.peak_ms else "–"
    out["gaps_text"] = _times_text(stats.gap_ms) if stats.gap_ms else "–"
    out["gap_to_peak_percent"] = 100 * stats.gap_to_peak
    out["offset1_dy"] = float(stats.on_off_offset_px[0][1]) if stats.on_off_offset_px else math.nan
    return out


def saccade_polarity_images(events: np.ndarray, edges_ms: Sequence[float] = SACCADE_EDGES_MS) -> np.ndarray:
    """Events per pixel of each saccade and polarity, ``[saccade, p, y, x]`` (p = 0 OFF, 1 ON)."""
    return np.stack([polarity_images(events, start, None if math.isinf(end) else end)
                     for start, end in saccade_windows_us(edges_ms)])


def busiest_mixed_pixel(events: np.ndarray, width: int = 34) -> tuple[int, int]:
    """(x, y) of the pixel with the most events among those that fire both polarities.

    Raises:
        ValueError: no pixel fires both polarities (nothing to show).
    """
    pixel = np.asarray(events["y"], dtype=np.int64) * width + np.asarray(events["x"], dtype=np.int64)
    ids, counts = np.unique(pixel, return_counts=True)
    mixed = np.array([np.unique(events["p"][pixel == i]).size == 2 for i in ids], dtype=bool)
    if not mixed.any():
        raise ValueError(f"events (n={len(events)}) have no pixel that fires both polarities")
    y, x = divmod(int(ids[mixed][np.argmax(counts[mixed])]), width)
    return x, y


def pixel_events_summary(polarities: Sequence[int]) -> dict:
    """Counts of one pixel's events in time order: ``events``, ``on``, ``off`` and ``first_p`` ("ON"/"OFF")."""
    p = [int(v) for v in polarities]
    if any(v not in (0, 1) for v in p):
        raise ValueError(f"polarities={p!r} must all be 0 (OFF) or 1 (ON)")
    return {"events": len(p), "on": sum(p), "off": len(p) - sum(p),
            "first_p": ("ON" if p[0] else "OFF") if p else "none"}


# ---------------------------------------------------------------------------------------------------
# The emulator
# ---------------------------------------------------------------------------------------------------


def emulator_settings(config: EmulatorConfig) -> dict:
    """The emulator's settings as the chapter quotes them (glue with the prefix ``em_``).

    Keys: ``contrast``, ``blur_px``, ``darkest`` (log intensity of a full stroke, ``log(1 - contrast)``),
    ``threshold`` (nominal ON threshold, log units), ``mismatch_percent``, ``refractory_ms``, ``noise_hz``
    (background rate per pixel), ``noise_on_percent``, ``pause_ms``, ``jitter_percent``.
    """
    return {"contrast": config.contrast, "blur_px": config.blur_px, "darkest": math.log(1 - config.contrast),
            "threshold": config.threshold_on, "mismatch_percent": 100 * config.threshold_mismatch,
            "refractory_ms": config.refractory_ms, "noise_hz": config.noise_rate_hz,
            "noise_on_percent": 100 * config.noise_on_fraction, "pause_ms": config.pause_ms,
            "jitter_percent": 100 * config.timing_jitter}


def path_summary(path_px: np.ndarray, schedule_ms: np.ndarray, config: EmulatorConfig) -> dict:
    """The saccade path of one recording, sampled every ``config.dt_ms``.

    Args:
        path_px: displacement ``[time, (x, y)]`` in px (from ``emulator.displacement_px``).
        schedule_ms: ``[saccade, (start, end)]`` in ms.
        config: gives the corners of the triangle and the time step.

    Returns:
        ``leg{k}_px`` (straight length of each leg), ``saccade{k}_ms`` (its duration), ``peak_speed``
        (px per ms, largest step over ``dt_ms``) and ``path_end_px`` (distance of the last point from the start).
    """
    path_px, schedule_ms = np.asarray(path_px, dtype=np.float64), np.asarray(schedule_ms, dtype=np.float64)
    if path_px.ndim != 2 or path_px.shape[1] != 2 or len(path_px) < 2:
        raise ValueError(f"path_px has shape {path_px.shape}; expected [time >= 2, 2] (x, y in px)")
    corners = np.vstack([[0.0, 0.0], np.asarray(config.saccade_end_px, dtype=np.float64)])
    legs = np.linalg.norm(np.diff(corners, axis=0), axis=1)
    out = {}
    for k, (leg, (start, end)) in enumerate(zip(legs, schedule_ms), start=1):
        out[f"leg{k}_px"] = float(leg)
        out[f"saccade{k}_ms"] = float(end - start)
    out["peak_speed"] = float(np.linalg.norm(np.diff(path_px, axis=0), axis=1).max() / config.dt_ms)
    out["path_end_px"] = float(np.linalg.norm(path_px[-1]))
    return out


def noise_summary(config: EmulatorConfig, thresholds: Sequence, n_signal: int, n_with_noise: int,
                  duration_ms: float, n_pixels: int = 34 * 34) -> dict:
    """Threshold range and background noise of one emulated recording (glue with the prefix ``em_``).

    Args:
        thresholds: the sensor's threshold maps (ON and OFF), any array-likes.
        n_signal: events of the recording emulated without background noise.
        n_with_noise: events of the same recording with noise.
        duration_ms: how long the noise runs (the recording's end), ms.

    Returns:
        ``threshold_min``, ``threshold_max``, ``signal_events``, ``noise_events`` (the difference) and
        ``noise_expected`` (rate x pixels x duration).
    """
    if n_with_noise < n_signal:
        raise ValueError(f"n_with_noise={n_with_noise} must be >= n_signal={n_signal} (noise only adds events)")
    values = np.concatenate([np.asarray(t, dtype=np.float64).ravel() for t in thresholds])
    return {"threshold_min": float(values.min()), "threshold_max": float(values.max()),
            "signal_events": int(n_signal), "noise_events": int(n_with_noise - n_signal),
            "noise_expected": config.noise_rate_hz * n_pixels * duration_ms / 1000.0}


# ---------------------------------------------------------------------------------------------------
# A dataset, and the real recording beside it
# ---------------------------------------------------------------------------------------------------


def dataset_summary(frames, events, cache_files: Sequence[Path] = ()) -> dict:
    """Sizes of a profile's splits and of the cache files behind them.

    Args:
        frames: a ``Splits`` of frames (``.train.frames`` ``[N, T, 2, 34, 34]``, ``.train.labels``, ``.test``).
        events: a ``Splits`` of events (its training split is counted).
        cache_files: paths whose sizes are listed.

    Returns:
        ``n_train``, ``n_test``, ``n_samples``, ``n_event_train``, ``frames_shape`` ("N x T x 2 x 34 x 34"),
        ``frames_dtype``, ``train_per_class_min``/``max`` (over the ten digits), ``cache_listing``
        ("events 143.0 MB, frames 115.6 MB": what each file holds, not its hashed name) and ``cache_total_mb``.
    """
    sizes: dict[str, float] = {}
    for path in sorted({Path(p) for p in cache_files}):
        kind = _cache_kind(path.name)
        sizes[kind] = sizes.get(kind, 0.0) + path.stat().st_size / 1e6
    counts = np.bincount(np.asarray(frames.train.labels, dtype=np.int64), minlength=10)
    return {"n_train": len(frames.train), "n_test": len(frames.test),
            "n_samples": len(frames.train) + len(frames.test), "n_event_train": len(events.train),
            "frames_shape": " x ".join(str(n) for n in frames.train.frames.shape),
            "frames_dtype": str(frames.train.frames.dtype),
            "train_per_class_min": int(counts.min()), "train_per_class_max": int(counts.max()),
            "cache_listing": ", ".join(f"{kind} {size:.1f} MB" for kind, size in sizes.items()),
            "cache_total_mb": float(sum(sizes.values()))}


def _cache_kind(file_name: str) -> str:
    """What a cache file holds, from its name: "events", "frames", else the name without its hash and suffix."""
    stem = file_name.split(".")[0]
    for kind in ("events", "frames"):
        if kind in stem.split("-"):
            return kind
    head, _, tail = stem.rpartition("-")
    return head if head and all(c in "0123456789abcdef" for c in tail) else stem


def pooled_ratio(stats: Sequence[RecordingStats], off_field: str, on_field: str) -> float:
    """All OFF-first pixels over all ON-first pixels of many recordings (NaN when no pixel is ON-first).

    A ratio per recording is noisy when a recording has few ON-first pixels; pooling counts first is not.
    ``off_field``/``on_field``: ``"off_then_on"``/``"on_then_off"`` (a pixel's first event in the whole
    recording) or ``"saccade_off_then_on"``/``"saccade_on_then_off"`` (saccade by saccade).
    """
    allowed = ("off_then_on", "on_then_off", "saccade_off_then_on", "saccade_on_then_off")
    for name, value in (("off_field", off_field), ("on_field", on_field)):
        if value not in allowed:
            raise ValueError(f"{name}={value!r} is not one of {allowed}")
    off = sum(int(np.sum(getattr(s, off_field))) for s in stats)
    on = sum(int(np.sum(getattr(s, on_field))) for s in stats)
    return off / on if on else math.nan


#: The rows of :func:`comparison_table`: (label, RecordingStats field, scale, format, index in a per-saccade field).
COMPARISON_ROWS = (
    ("events per sample", "n_events", 1, ",.0f", None),
    ("duration, first to last event (ms)", "duration_ms", 1, ".1f", None),
    ("ON events (%)", "on_fraction", 100, ".1f", None),
    ("events in saccade 1", "saccade_counts", 1, ",.0f", 0),
    ("events in saccade 2", "saccade_counts", 1, ",.0f", 1),
    ("events in saccade 3", "saccade_counts", 1, ",.0f", 2),
    ("busiest 5 ms of saccade 1, bin centre (ms)", "peak_ms", 1, BIN_TIME_SPEC, 0),
    ("busiest 5 ms of saccade 2, bin centre (ms)", "peak_ms", 1, BIN_TIME_SPEC, 1),
    ("busiest 5 ms of saccade 3, bin centre (ms)", "peak_ms", 1, BIN_TIME_SPEC, 2),
    ("quietest 5 ms near the first edge, bin centre (ms)", "gap_ms", 1, BIN_TIME_SPEC, 0),
    ("quietest 5 ms near the second edge, bin centre (ms)", "gap_ms", 1, BIN_TIME_SPEC, 1),
    ("busier gap / weakest burst peak (%)", "gap_to_peak", 100, ".1f", None),
    ("active pixels", "active_pixels", 1, ",.0f", None),
    ("events per active pixel", "events_per_active_pixel", 1, ".1f", None),
    ("median interval between one pixel's events (ms)", "median_pixel_interval_ms", 1, ".1f", None),
)
#: The two polarity-order rows: (label, RecordingStats ratio field, OFF-first field, ON-first field).
ORDER_ROWS = (
    ("OFF-first / ON-first pixels, whole recording", "off_then_on_ratio", "off_then_on", "on_then_off"),
    ("OFF-first / ON-first pixels, saccade by saccade", "saccade_off_then_on_ratio",
     "saccade_off_then_on", "saccade_on_then_off"),
)


def _pick(value, index):
    return value if index is None else value[index]


def comparison_table(real: RecordingStats, emulated: Sequence[RecordingStats], fours: Sequence[RecordingStats],
                     data_name: str = "emulated N-MNIST") -> Table:
    """Real recording against a split, statistic by statistic (:data:`COMPARISON_ROWS`, then :data:`ORDER_ROWS`).

    Columns: the real recording's value; the split's mean ± standard deviation; the mean over ``fours`` (the
    split's recordings of the real recording's digit). The polarity-order rows give pooled ratios
    (:func:`pooled_ratio`) for the split and its fours, marked "(pooled)". Headers are short (the text beside
    the table says what each column holds) so that the table fits the book's text column; peak and gap times use :data:`BIN_TIME_SPEC`, as
    :func:`sample_summary`'s ``peaks_text`` and ``gaps_text`` do.
    """
    if not emulated or not fours:
        raise ValueError(f"emulated ({len(emulated)} recordings) and fours ({len(fours)}) must both be non-empty")
    summary, summary_4 = summarize(emulated), summarize(fours)
    header = ("quantity", "real “4”", data_name, f"its {len(fours):,} “4”s")
    rows = []
    for label, name, scale, spec, index in COMPARISON_ROWS:
        real_value = scale * _pick(getattr(real, name), index)
        mean, std = (scale * _pick(getattr(summary[name], part), index) for part in ("mean", "std"))
        rows.append((label, fmt(real_value, spec), f"{fmt(mean, spec)} ± {fmt(std, spec)}",
                     fmt(scale * _pick(summary_4[name].mean, index), spec)))
    for label, ratio, off_field, on_field in ORDER_ROWS:
        rows.append((label, fmt(getattr(real, ratio), ".1f"),
                     fmt(pooled_ratio(emulated, off_field, on_field), ".1f", suffix=" (pooled)"),
                     fmt(pooled_ratio(fours, off_field, on_field), ".1f", suffix=" (pooled)")))
    return Table.of(header, rows)


def on_above_fraction(stats: Sequence[RecordingStats]) -> float:
    """Fraction of recordings whose saccade-1 ON events lie above their OFF events (mean y offset < 0)."""
    if not stats:
        raise ValueError("stats is empty: give at least one RecordingStats")
    return float(np.mean([s.on_off_offset_px[0][1] < 0 for s in stats]))


# ---------------------------------------------------------------------------------------------------
# Binning
# ---------------------------------------------------------------------------------------------------


def step_titles(events: np.ndarray, spec: FrameSpec) -> list[str]:
    """One title per step: "step k", the times of its first and last event (ms), and its number of events."""
    t_ms = np.asarray(events["t"], dtype=np.int64) / 1000.0
    index = bin_index(events, spec)
    titles = []
    for k in range(spec.timesteps):
        times = t_ms[index == k]
        span = f"{times.min():.0f}–{times.max():.0f} ms" if times.size else "no events"
        titles.append(f"step {k + 1}\n{span}\n{times.size} events")
    return titles


def binning_summary(events: np.ndarray, timesteps: int) -> dict:
    """Equal-time against equal-count binning of one recording into ``timesteps`` frames.

    Returns:
        ``bin_ms`` (equal-time bin width), ``time_dropped`` (events outside the equal-time bins),
        ``time_bin_min_events``/``time_bin_max_events``, ``count_per_bin`` (``n // T``), ``count_last_bin``
        (events of the last equal-count bin), ``count_remainder`` (``n % T``), ``count_span_min_ms``/
        ``count_span_max_ms`` (first to last event of an equal-count bin), and the step ``k_steps`` (from 1,
        among the first T - 1) after which the two rules have consumed the most different stretches of the
        recording: up to ``k_time_ms`` (equal time) and ``k_count_ms`` (the last event of equal-count bin k).

    Raises:
        ValueError: ``timesteps`` < 2, or fewer events than ``timesteps``.
    """
    if not isinstance(timesteps, (int, np.integer)) or timesteps < 2:
        raise ValueError(f"timesteps={timesteps!r} must be an integer >= 2 (the summary compares steps)")
    n = len(events)
    if n < timesteps:
        raise ValueError(f"events has {n} events; binning_summary needs at least timesteps={timesteps}")
    t_us = np.asarray(events["t"], dtype=np.int64)
    time_spec, count_spec = FrameSpec(timesteps, "time"), FrameSpec(timesteps, "count")
    time_counts = to_frames(events, time_spec).sum(axis=(1, 2, 3))
    count_counts = to_frames(events, count_spec).sum(axis=(1, 2, 3))
    count_index = bin_index(events, count_spec)
    count_end_ms = np.array([t_us[count_index == k].max() for k in range(timesteps)]) / 1000.0
    count_start_ms = np.array([t_us[count_index == k].min() for k in range(timesteps)]) / 1000.0
    width_us = (t_us[-1] - t_us[0]) // timesteps
    time_end_ms = (t_us[0] + np.arange(1, timesteps + 1) * width_us) / 1000.0
    k = int(np.argmax(np.abs(time_end_ms - count_end_ms)[:-1])) + 1
    spans = count_end_ms - count_start_ms
    return {"bin_ms": int(width_us) / 1000.0, "time_dropped": int(n - time_counts.sum()),
            "time_bin_min_events": int(time_counts.min()), "time_bin_max_events": int(time_counts.max()),
            "count_per_bin": n // timesteps, "count_last_bin": int(count_counts[-1]),
            "count_remainder": n % timesteps, "count_span_min_ms": float(spans.min()),
            "count_span_max_ms": float(spans.max()), "k_steps": k,
            "k_time_ms": float(time_end_ms[k - 1]), "k_count_ms": float(count_end_ms[k - 1])}


# ---------------------------------------------------------------------------------------------------
# Phrases: the chapter's sentences whose wording depends on the numbers
# ---------------------------------------------------------------------------------------------------


def balance_text(per_class_min: int, per_class_max: int) -> str:
    """The training split's balance over the digits: "class-balanced (400 training samples per digit)", or
    "not class-balanced (from 5,421 to 6,742 training samples per digit)"."""
    if not 0 <= per_class_min <= per_class_max:
        raise ValueError(f"per_class_min={per_class_min!r}, per_class_max={per_class_max!r}: need 0 <= min <= max")
    if per_class_min == per_class_max:
        return f"class-balanced ({per_class_min:,} training samples per digit)"
    return f"not class-balanced (from {per_class_min:,} to {per_class_max:,} training samples per digit)"


def dropped_text(n_dropped: int) -> str:
    """The events an equal-time binning leaves out: "1 event at the very end falls", "3 events ... fall"."""
    if not isinstance(n_dropped, (int, np.integer)) or n_dropped < 0:
        raise ValueError(f"n_dropped={n_dropped!r} must be a non-negative integer")
    if n_dropped == 0:
        return "no event falls"
    return f"{n_dropped:,} event" + (" at the very end falls" if n_dropped == 1 else "s at the very end fall")


def path_end_text(path_end_px: float, tolerance_px: float = 1e-3) -> str:
    """Where the saccade path ends: "returns exactly to its start" (within ``tolerance_px``), else "ends 0.25 px
    from its start"."""
    if not path_end_px >= 0:
        raise ValueError(f"path_end_px={path_end_px!r} must be a distance >= 0 (px)")
    return "returns exactly to its start" if path_end_px <= tolerance_px else f"ends {path_end_px:.2f} px from its start"


def dark_digit_text(real: Sequence[float], split: Sequence[float], data_name: str) -> str:
    """Who passes the dark-digit test. ``real`` and ``split``: the OFF-first / ON-first ratios (whole recording,
    saccade by saccade) of the real recording and of the split (pooled). OFF-first wins where both ratios
    exceed 1; "more sharply saccade by saccade" only where the saccade ratio is the larger one for both."""
    wins = {"the real recording": min(real) > 1, f"the {data_name}": min(split) > 1}
    if all(wins.values()):
        sharper = real[1] > real[0] and split[1] > split[0]
        return f"OFF-first wins in the real recording and in the {data_name}" + (
            ", more sharply saccade by saccade" if sharper else "")
    if not any(wins.values()):
        return f"OFF-first wins neither in the real recording nor in the {data_name}"
    winner, loser = sorted(wins, key=wins.get, reverse=True)
    return f"OFF-first wins in {winner} but not in {loser}"


def conventions_text(shown_above: Sequence[bool], fraction_above: float, n_recordings: int) -> str:
    """Whether saccade 1's ON events lie above its OFF events: in the rows of the signed-image figure
    (``shown_above``, one bool per row) and over the split (``fraction_above`` of ``n_recordings``)."""
    if not shown_above or not 0 <= fraction_above <= 1:
        raise ValueError(f"shown_above={shown_above!r} must be non-empty, fraction_above={fraction_above!r} in [0, 1]")
    rows = sum(bool(a) for a in shown_above)
    rows_text = "in every row" if rows == len(shown_above) else f"in {rows} of the {len(shown_above)} rows"
    split_text = (f"in every one of its {n_recordings:,} recordings" if fraction_above == 1
                  else f"in {100 * fraction_above:.1f} % of its {n_recordings:,} recordings")
    return f"{rows_text}; over the whole training split, {split_text}"
