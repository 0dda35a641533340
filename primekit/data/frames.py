"""Binning events into frames: T frames of per-pixel, per-polarity event counts.

A spiking network steps through time, so each sample's events become ``T`` frames, shape
``[T, 2, 34, 34]`` = ``[T, p, y, x]`` (the axis order of tonic's ``ToFrame``: polarity 0 = OFF first,
then ON; row ``y`` before column ``x``). A frame holds *counts* (how many events each pixel sent in that
bin), not 0/1 spikes: PRIME feeds the counts to its first layer as they are.

Two rules choose which events go into which frame (:class:`FrameSpec`):

``rule="time"`` (equal time, primekit's default and the authors' training):
    ``T`` bins of equal duration.

    - ``window_us=None``: the bins span the sample's own events exactly as
      ``tonic.transforms.ToFrame(sensor_size, n_time_bins=T)`` does, and the result is identical to
      tonic's: with ``t0`` the first and ``t1`` the last timestamp, each bin lasts
      ``w = (t1 - t0) // T`` us (integer division) and bin ``i`` holds ``t0 + i w <= t < t0 + (i + 1) w``.
      Events at ``t >= t0 + T w`` (the last ``(t1 - t0) mod T`` us, always including the last event)
      are not counted; a sample shorter than ``T`` us gives ``w = 0`` and all frames empty.
    - ``window_us=W``: the bins cover ``[0, W)`` and bin ``i`` holds ``i W / T <= t < (i + 1) W / T``
      (each exactly ``W / T`` us long, computed exactly in integers); events at ``t >= W`` are outside
      the window and not counted. Every sample then shares the same clock, which is what a fixed
      recording protocol (three 100 ms saccades) suggests.

``rule="count"`` (equal count, the authors' early-stop evaluation):
    the ``n`` events (in time order) are cut into ``T`` consecutive runs: ``n // T`` events in each of
    the first ``T - 1`` bins, and the last bin takes the rest, ``n - (T - 1) (n // T)`` (every event is
    counted). This is *not* tonic's ``ToFrame(n_event_bins=T)``, which puts ``n // T`` events in every
    bin and drops the remaining ``n mod T`` events. With ``n < T`` the same formula gives ``n // T = 0``
    events in the first ``T - 1`` bins and all ``n`` in the last; no error, no special case.
    With ``window_us=W``, events at ``t >= W`` are dropped first and the rest are cut by count.

Counts are returned in the smallest unsigned integer type that holds the largest count (``uint8``
for N-MNIST; ``uint16`` or wider if a pixel ever needs it); nothing is clipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from primekit.data.events import SENSOR_SIZE, check_events
from primekit.progress import progress as _progress

#: Allowed values of :attr:`FrameSpec.rule`.
RULES = ("time", "count")

_UNSIGNED = (np.uint8, np.uint16, np.uint32, np.uint64)


@dataclass(frozen=True)
class FrameSpec:
    """How a sample's events become frames.

    Attributes:
        timesteps: T, the number of frames (the network's time steps), >= 1.
        rule: ``"time"`` (equal duration per bin) or ``"count"`` (equal number of events per bin, the
            last bin taking the remainder); see the module docstring for the exact definitions.
        window_us: None, or the length in microseconds of the window ``[0, window_us)`` that is binned;
            events at ``t >= window_us`` are not counted. With ``rule="time"`` and None, the bins span
            each sample's first to last event the way tonic's ``ToFrame(n_time_bins=T)`` does.
    """

    timesteps: int = 10
    rule: str = "time"
    window_us: int | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.timesteps) or self.timesteps < 1:
            raise ValueError(f"timesteps={self.timesteps!r} must be a positive integer")
        if self.rule not in RULES:
            raise ValueError(f"rule={self.rule!r} is not allowed; use one of {RULES}")
        if self.window_us is not None and (not _is_int(self.window_us) or self.window_us < 1):
            raise ValueError(f"window_us={self.window_us!r} must be a positive integer (us) or None")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Shape of one sample's frames: ``(T, 2, 34, 34)`` = ``(T, p, y, x)``."""
        width, height, polarities = SENSOR_SIZE
        return (self.timesteps, polarities, height, width)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def bin_index(events: np.ndarray, spec: FrameSpec) -> np.ndarray:
    """The frame each event falls in (0 ... T-1), or -1 for events outside the window.

    ``events`` must be sorted by ``t`` (as read from a file or emulated); see the module docstring for
    the rules.
    """
    t = events["t"].astype(np.int64)
    n, T = len(t), spec.timesteps
    index = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return index
    if spec.window_us is not None:
        inside = t < spec.window_us
    else:
        inside = np.ones(n, dtype=bool)
    if spec.rule == "time":
        if spec.window_us is not None:
            index[inside] = (t[inside] * T) // spec.window_us  # exact: bins of window_us / T us
        else:
            # tonic's SliceByTimeBins: w = (t1 - t0) // T, bins [t0 + i w, t0 + (i + 1) w)
            width = (t[-1] - t[0]) // T
            if width > 0:
                candidate = (t - t[0]) // width
                index = np.where(candidate < T, candidate, -1)
    else:  # "count"
        k = int(inside.sum())  # sorted t: the inside events are the first k
        per_bin = k // T
        order = np.arange(k)
        index[:k] = np.minimum(order // per_bin, T - 1) if per_bin > 0 else T - 1
    return index


def to_frames(events: np.ndarray, spec: FrameSpec = FrameSpec()) -> np.ndarray:
    """One sample's events -> frames ``[T, 2, 34, 34]`` (``[T, p, y, x]``) of event counts.

    Args:
        events: a structured array with fields ``x, y, t, p`` (primekit's :data:`EVENT_DTYPE` or
            tonic's), sorted by ``t``, in the 34 x 34 sensor range.
        spec: the binning rule (default: 10 equal-time bins spanning the sample, as tonic).

    Returns:
        Counts in the smallest unsigned integer dtype that holds the largest count (usually uint8).
        ``frames.sum()`` equals the number of events inside the window (see the module docstring).

    Raises:
        ValueError: ``events`` is not a valid sorted event array (the message says which field,
            event index and value).
    """
    if not isinstance(spec, FrameSpec):
        raise ValueError(f"spec must be a FrameSpec (e.g. FrameSpec(timesteps=10)), got {type(spec).__name__} {spec!r}")
    check_events(events, require_sorted=True)
    counts = _counts(events, spec)
    return counts.astype(_smallest_unsigned(int(counts.max(initial=0))))


def _counts(events: np.ndarray, spec: FrameSpec) -> np.ndarray:
    """int64 counts ``[T, 2, 34, 34]`` for validated, sorted events."""
    T, polarities, height, width = spec.shape
    index = bin_index(events, spec)
    keep = index >= 0
    flat = (((index[keep] * polarities + events["p"][keep].astype(np.int64)) * height
             + events["y"][keep].astype(np.int64)) * width + events["x"][keep].astype(np.int64))
    return np.bincount(flat, minlength=T * polarities * height * width).reshape(spec.shape)


def _smallest_unsigned(max_count: int):
    for dtype in _UNSIGNED:
        if max_count <= np.iinfo(dtype).max:
            return dtype
    raise OverflowError(f"a count of {max_count} does not fit in uint64")  # unreachable in practice


def frames_for_dataset(
    samples: Sequence[np.ndarray] | Iterable[np.ndarray],
    spec: FrameSpec = FrameSpec(),
    *,
    progress: bool = True,
    desc: str = "frames",
) -> np.ndarray:
    """Frames of many samples, stacked: ``[N, T, 2, 34, 34]``.

    Args:
        samples: event arrays (each as :func:`to_frames` accepts); a list, or any iterable (an
            iterable without ``len`` is collected into a list first).
        spec: the binning rule, the same for every sample.
        progress: show a text progress bar on stderr (see :mod:`primekit.progress`).
        desc: the progress bar's label.

    Returns:
        One array in the smallest unsigned dtype that holds the largest count over the whole dataset
        (it starts as uint8 and is widened, never clipped, if a sample needs more). An invalid sample
        raises ValueError naming its index.
    """
    if not hasattr(samples, "__len__"):
        samples = list(samples)
    n = len(samples)
    out = np.zeros((n, *spec.shape), dtype=np.uint8)
    limit = np.iinfo(out.dtype).max
    options = {} if progress else {"disable": True}  # progress=True leaves $PRIMEKIT_PROGRESS in charge
    for i, events in enumerate(_progress(samples, desc=desc, total=n, unit="recordings", **options)):
        check_events(events, name=f"samples[{i}]", require_sorted=True)
        counts = _counts(events, spec)
        peak = int(counts.max(initial=0))
        if peak > limit:
            out = out.astype(_smallest_unsigned(peak))
            limit = np.iinfo(out.dtype).max
        out[i] = counts
    return out
