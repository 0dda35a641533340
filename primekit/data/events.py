"""Structured events and the N-MNIST binary file format.

An event camera reports *events*, not images: pixel ``(x, y)`` saw its log intensity change by more
than a threshold at time ``t``, brighter (ON, ``p = 1``) or darker (OFF, ``p = 0``). primekit keeps
events in a NumPy structured array with exactly the dtype tonic uses for N-MNIST
(:data:`EVENT_DTYPE`), so tonic's transforms apply to our arrays unchanged:

==========  ======  =====================================================================
field       dtype   meaning
==========  ======  =====================================================================
``x``       int64   column, 0 (left) ... 33 (right)
``y``       int64   row, 0 (top) ... 33 (bottom)
``t``       int64   time in microseconds from the start of the recording
``p``       int64   polarity: 1 = ON (brighter), 0 = OFF (darker)
==========  ======  =====================================================================

**The N-MNIST ``.bin`` format** (Orchard et al. 2015; the reader below matches
``tonic.io.read_mnist_file``, which follows Garrick Orchard's original code). Every event takes 5 bytes::

    byte 0      x (unsigned)
    byte 1      y (unsigned)
    byte 2      bit 7: polarity; bits 6..0: timestamp bits 22..16
    byte 3      timestamp bits 15..8
    byte 4      timestamp bits 7..0       (a 23-bit big-endian timestamp, in us)

A record with ``y == 240`` is not an event but a *timestamp-overflow marker*: every later timestamp is
increased by ``2**13`` us per marker seen so far (2**13, not 2**23: that is what the original reader
does, and therefore what the format means in practice). Real N-MNIST recordings last about 0.3 s, far
below the 2**23 us (8.4 s) a stored timestamp can hold, so they contain no markers; the writer inserts
them only for longer event streams, so that the round trip writer -> reader is exact for any ``t >= 0``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from primekit import paths
from primekit.reference import reference_path

#: The event dtype of tonic's N-MNIST dataset (``tonic.datasets.NMNIST.dtype``): x, y, t (us), p.
EVENT_DTYPE = np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])

#: Sensor size as tonic writes it: (width in x, height in y, number of polarities).
SENSOR_SIZE = (34, 34, 2)

#: Bytes per record in an N-MNIST ``.bin`` file.
RECORD_BYTES = 5

#: The ``y`` value of a timestamp-overflow marker record.
OVERFLOW_Y = 240

#: Microseconds added to every later timestamp per overflow marker (as in tonic / Orchard's reader).
OVERFLOW_INCREMENT_US = 2**13

#: Stored timestamps have 23 bits: 0 ... 2**23 - 1 us.
TIMESTAMP_LIMIT = 2**23

_FIELDS = ("x", "y", "t", "p")


class EventFileError(ValueError):
    """An N-MNIST ``.bin`` file is truncated or holds an impossible record."""


# ---------------------------------------------------------------------------------------------------
# Building and checking event arrays
# ---------------------------------------------------------------------------------------------------


def make_events(x, y, t, p, *, sort: bool = False) -> np.ndarray:
    """A structured event array (:data:`EVENT_DTYPE`) from four equally long 1-D sequences.

    Args:
        x: columns in ``[0, 34)``.
        y: rows in ``[0, 34)``.
        t: times in microseconds, ``>= 0``.
        p: polarities, 0 (OFF) or 1 (ON); booleans are accepted.
        sort: if True, order the events by ``t`` (a stable sort: ties keep their given order). If
            False the order is kept as given; the writer and the frame binning require sorted ``t``.

    Values must be integers (floats are accepted only when they hold whole numbers: nothing is
    rounded). Raises ValueError naming the field and the first offending value.
    """
    columns = {}
    for name, values in zip(_FIELDS, (x, y, t, p)):
        array = np.asarray(values)
        if array.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
        columns[name] = _as_int64(array, name)
    lengths = {name: len(column) for name, column in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"x, y, t, p must have the same length, got {lengths}")
    events = np.empty(lengths["x"], dtype=EVENT_DTYPE)
    for name, column in columns.items():
        events[name] = column
    check_events(events, require_sorted=False)
    if sort:
        events = events[np.argsort(events["t"], kind="stable")]
    return events


def _as_int64(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{i}] = {array[i].item()!r} is not a whole number; {name} must hold integers")
        return array.astype(np.int64)
    raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")


def check_events(events, *, name: str = "events", require_sorted: bool = True,
                 sensor_size: tuple[int, int, int] = SENSOR_SIZE) -> None:
    """Raise ValueError unless ``events`` is a valid 1-D event array.

    Valid means: a structured array with fields ``x, y, t, p`` (any integer or bool types, so
    tonic's own arrays pass too), ``0 <= x < sensor_size[0]``, ``0 <= y < sensor_size[1]``,
    ``p`` in ``{0, 1}``, ``t >= 0``, and, if ``require_sorted``, ``t`` non-decreasing.
    The message names ``name``, the field, the index and the offending value.
    """
    if not isinstance(events, np.ndarray) or events.dtype.names is None:
        raise ValueError(f"{name} must be a structured NumPy array with fields x, y, t, p "
                         f"(see primekit.data.events.make_events), got {type(events).__name__}")
    missing = [f for f in _FIELDS if f not in events.dtype.names]
    if missing:
        raise ValueError(f"{name} lacks field(s) {missing}; it has {list(events.dtype.names)}")
    if events.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one sample's events), got shape {events.shape}")
    for field in _FIELDS:
        kind = events.dtype[field].kind
        if kind not in "iub":
            raise ValueError(f"{name}['{field}'] must hold integers, got dtype {events.dtype[field]}")
    if len(events) == 0:
        return
    width, height, _ = sensor_size
    limits = {"x": (0, width), "y": (0, height), "t": (0, None), "p": (0, 2)}
    for field, (low, high) in limits.items():
        values = events[field]
        bad = values < low if high is None else (values < low) | (values >= high)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            allowed = f">= {low}" if high is None else f"in [{low}, {high})"
            raise ValueError(f"{name}['{field}'][{i}] = {int(values[i])} is out of range; {field} must be {allowed}")
    if require_sorted:
        drops = np.flatnonzero(np.diff(events["t"]) < 0)
        if drops.size:
            i = int(drops[0]) + 1
            raise ValueError(
                f"{name} must be sorted by t: event {i} has t = {int(events['t'][i])} us after "
                f"t = {int(events['t'][i - 1])} us (sort with make_events(..., sort=True) or "
                f"events[np.argsort(events['t'], kind='stable')])"
            )


# ---------------------------------------------------------------------------------------------------
# The N-MNIST .bin format
# ---------------------------------------------------------------------------------------------------


def read_nmnist_bin(path: str | os.PathLike) -> np.ndarray:
    """Read an N-MNIST ``.bin`` file into an event array (:data:`EVENT_DTYPE`).

    The result equals ``tonic.io.read_mnist_file(path, dtype=EVENT_DTYPE)`` field by field (overflow
    markers dropped, ``2**13`` us added to later timestamps per marker), but bad files fail loudly:

    Raises:
        FileNotFoundError: ``path`` does not exist.
        EventFileError: the size is not a multiple of 5 bytes ("truncated"), or a record has
            ``x >= 34`` or ``y >= 34`` without being an overflow marker (``y == 240``), or a timestamp earlier
            than the one before it ("corrupt").
    An empty file is valid and gives 0 events.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"N-MNIST event file {path} does not exist")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % RECORD_BYTES:
        raise EventFileError(
            f"{path} is truncated: its size, {raw.size} bytes, is not a multiple of "
            f"{RECORD_BYTES} (bytes per event); {raw.size % RECORD_BYTES} trailing byte(s)"
        )
    records = raw.reshape(-1, RECORD_BYTES).astype(np.int64)
    x, y = records[:, 0], records[:, 1]
    p = records[:, 2] >> 7
    t = ((records[:, 2] & 0x7F) << 16) | (records[:, 3] << 8) | records[:, 4]
    marker = y == OVERFLOW_Y
    width, height, _ = SENSOR_SIZE
    for field, values in (("x", x), ("y", y)):
        limit = width if field == "x" else height
        bad = (values >= limit) & ~marker
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EventFileError(
                f"{path} is corrupt: record {i} (byte offset {i * RECORD_BYTES}) has {field} = "
                f"{int(values[i])}; {field} must be < {limit} (or y = {OVERFLOW_Y} for an overflow marker)"
            )
    # Each marker adds 2**13 us to its own record (dropped) and every later one, as tonic does.
    t = t + OVERFLOW_INCREMENT_US * np.cumsum(marker)
    keep = ~marker
    backwards = np.flatnonzero(np.diff(t[keep]) < 0)
    if backwards.size:
        i = int(np.flatnonzero(keep)[backwards[0] + 1])
        raise EventFileError(
            f"{path} is corrupt: record {i} (byte offset {i * RECORD_BYTES}) has t = {int(t[i])} us, earlier than the "
            f"event before it; timestamps must not go backwards ({backwards.size} such record(s))"
        )
    events = np.empty(int(keep.sum()), dtype=EVENT_DTYPE)
    events["x"], events["y"], events["t"], events["p"] = x[keep], y[keep], t[keep], p[keep]
    return events


def write_nmnist_bin(path: str | os.PathLike, events: np.ndarray) -> None:
    """Write ``events`` as an N-MNIST ``.bin`` file that :func:`read_nmnist_bin` reads back exactly.

    ``events`` must pass :func:`check_events` (fields in range, ``t >= 0``, sorted by ``t``), else
    ValueError names the field and the offending value. Timestamps that do not fit in 23 bits are
    stored as ``t - k * 2**13`` after ``k`` overflow markers (records ``x = 0, y = 240``, zero time
    bytes); ``k`` is the smallest count that makes every stored timestamp fit, so files of events
    shorter than 2**23 us (8.4 s, e.g. all of N-MNIST) contain no markers. The file is written to a
    temporary file in the same folder and renamed, so a reader never sees half a file.
    """
    check_events(events, require_sorted=True)
    t = events["t"].astype(np.int64)
    # markers needed before each event: smallest k >= 0 with t - k * 2**13 < 2**23 (non-decreasing in t)
    excess = t - (TIMESTAMP_LIMIT - 1)
    needed = np.where(excess > 0, -(-excess // OVERFLOW_INCREMENT_US), 0)
    n_markers = int(needed[-1]) if len(events) else 0
    n_records = len(events) + n_markers
    records = np.zeros((n_records, RECORD_BYTES), dtype=np.uint8)
    # event i sits after needed[i] markers; markers fill the remaining rows
    rows = np.arange(len(events)) + needed
    is_marker = np.ones(n_records, dtype=bool)
    is_marker[rows] = False
    records[is_marker, 1] = OVERFLOW_Y
    stored = t - needed * OVERFLOW_INCREMENT_US
    records[rows, 0] = events["x"]
    records[rows, 1] = events["y"]
    records[rows, 2] = (events["p"].astype(np.int64) << 7) | (stored >> 16)
    records[rows, 3] = (stored >> 8) & 0xFF
    records[rows, 4] = stored & 0xFF
    paths.atomic_write(path, lambda stream: stream.write(records.tobytes()))


#: The digit the shipped real recording shows (tonic's ``sample_nmnist.bin``, see ``data/reference/README.md``).
REFERENCE_RECORDING_DIGIT = 4


def read_reference_recording() -> np.ndarray:
    """The real N-MNIST recording shipped in ``data/reference`` (a "4", 4,325 events over 310.5 ms), after
    checking its SHA-256 (:func:`primekit.reference.reference_path`)."""
    return read_nmnist_bin(reference_path("nmnist-sample"))
