"""Structured events and the N-MNIST .bin format: exact round trips, tonic's reader, loud failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tonic

from primekit.data.events import (
    EVENT_DTYPE,
    OVERFLOW_INCREMENT_US,
    OVERFLOW_Y,
    SENSOR_SIZE,
    TIMESTAMP_LIMIT,
    EventFileError,
    check_events,
    make_events,
    read_nmnist_bin,
    write_nmnist_bin,
)
from primekit.reference import reference_path


@pytest.fixture
def sample_path() -> Path:
    return reference_path("nmnist-sample")


def random_events(rng: np.random.Generator, n: int, t_max: int) -> np.ndarray:
    return make_events(rng.integers(0, 34, n), rng.integers(0, 34, n), np.sort(rng.integers(0, t_max, n)),
                       rng.integers(0, 2, n))


def test_dtype_and_sensor_size_are_tonics():
    assert EVENT_DTYPE == tonic.datasets.NMNIST.dtype
    assert EVENT_DTYPE.names == ("x", "y", "t", "p")
    assert SENSOR_SIZE == tonic.datasets.NMNIST.sensor_size == (34, 34, 2)


# ---------------------------------------------------------------------------------------------------
# The real recording
# ---------------------------------------------------------------------------------------------------


def test_reader_equals_tonic_on_real_recording(sample_path):
    ours = read_nmnist_bin(sample_path)
    theirs = tonic.io.read_mnist_file(str(sample_path), dtype=tonic.datasets.NMNIST.dtype)
    assert ours.dtype == theirs.dtype == EVENT_DTYPE
    for field in EVENT_DTYPE.names:
        np.testing.assert_array_equal(ours[field], theirs[field], err_msg=field)


def test_real_recording_facts(sample_path):
    events = read_nmnist_bin(sample_path)
    assert len(events) == 4325                     # the real recording: 4,325 events
    assert int(events["p"].sum()) == 2145          # ON events: 49.6 %
    assert round(100 * events["p"].mean(), 1) == 49.6
    assert int(events["t"][0]) == 654 and int(events["t"][-1]) == 311175  # us; 310.5 ms span
    assert np.all(np.diff(events["t"]) >= 0)
    assert sample_path.stat().st_size == 5 * 4325  # no overflow markers in a 0.3 s recording
    check_events(events)


def test_real_recording_round_trip_is_byte_exact(sample_path, tmp_path):
    out = tmp_path / "copy.bin"
    write_nmnist_bin(out, read_nmnist_bin(sample_path))
    assert out.read_bytes() == sample_path.read_bytes()


# ---------------------------------------------------------------------------------------------------
# Round trips, overflow markers
# ---------------------------------------------------------------------------------------------------


def test_round_trip_exact_with_overflow_markers(tmp_path):
    rng = np.random.default_rng(1)
    events = random_events(rng, 3000, 3 * TIMESTAMP_LIMIT)  # most timestamps need markers
    events = np.concatenate([events, make_events([5], [6], [events["t"][-1] + 10**6], [1])])
    path = tmp_path / "long.bin"
    write_nmnist_bin(path, events)
    back = read_nmnist_bin(path)
    assert back.dtype == EVENT_DTYPE
    np.testing.assert_array_equal(back, events)
    # markers really were written, and tonic's reader agrees with ours on them
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 5)
    n_markers = int((raw[:, 1] == OVERFLOW_Y).sum())
    assert n_markers == -(-(int(events["t"][-1]) - (TIMESTAMP_LIMIT - 1)) // OVERFLOW_INCREMENT_US)
    np.testing.assert_array_equal(tonic.io.read_mnist_file(str(path), dtype=EVENT_DTYPE), events)


def test_marker_boundary(tmp_path):
    limit = TIMESTAMP_LIMIT
    t = [0, limit - 1, limit, limit + OVERFLOW_INCREMENT_US - 1, limit + OVERFLOW_INCREMENT_US, 5 * limit]
    events = make_events([0] * 6, [33] * 6, t, [0, 1, 0, 1, 0, 1])
    path = tmp_path / "edge.bin"
    write_nmnist_bin(path, events)
    np.testing.assert_array_equal(read_nmnist_bin(path), events)
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 5)
    # one marker before t = 2**23 (covers up to 2**23 + 2**13 - 1), a second before 2**23 + 2**13
    assert list(np.flatnonzero(raw[:, 1] == OVERFLOW_Y)[:2]) == [2, 5]


def test_hand_made_record_decoding(tmp_path):
    # x=3, y=4, ON, t = 0x01345 ; then a marker ; then x=33, y=0, OFF, t = 7 (+ 2**13 from the marker)
    path = tmp_path / "hand.bin"
    path.write_bytes(bytes([3, 4, 0x80 | 0x00, 0x13, 0x45, 0, 240, 0, 0, 0, 33, 0, 0x00, 0x00, 0x07]))
    events = read_nmnist_bin(path)
    assert events.tolist() == [(3, 4, 0x01345, 1), (33, 0, 7 + 2**13, 0)]


def test_timestamps_going_backwards_are_refused(tmp_path):
    # t = 0x12345 then t = 7 + 2**13 (one marker): the second event is earlier than the first
    path = tmp_path / "backwards.bin"
    path.write_bytes(bytes([3, 4, 0x80 | 0x01, 0x23, 0x45, 0, 240, 0, 0, 0, 33, 0, 0x00, 0x00, 0x07]))
    with pytest.raises(EventFileError, match=r"backwards\.bin is corrupt: record 2 \(byte offset 10\) has t = 8199 "
                                             r"us, earlier than the event before it"):
        read_nmnist_bin(path)


def test_empty_file_is_zero_events(tmp_path):
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    events = read_nmnist_bin(path)
    assert events.dtype == EVENT_DTYPE and len(events) == 0
    write_nmnist_bin(tmp_path / "empty2.bin", events)
    assert (tmp_path / "empty2.bin").read_bytes() == b""


# ---------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.bin"):
        read_nmnist_bin(tmp_path / "nope.bin")


def test_truncated_file(tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(bytes(5 * 3 + 2))
    with pytest.raises(EventFileError, match=r"cut\.bin.*truncated.*17 bytes"):
        read_nmnist_bin(path)
    assert issubclass(EventFileError, ValueError)


@pytest.mark.parametrize("byte, value, field", [(0, 34, "x"), (0, 200, "x"), (1, 34, "y"), (1, 239, "y")])
def test_corrupt_byte(tmp_path, byte, value, field):
    events = make_events([1, 2, 3], [4, 5, 6], [10, 20, 30], [0, 1, 0])
    path = tmp_path / "bad.bin"
    write_nmnist_bin(path, events)
    raw = bytearray(path.read_bytes())
    raw[5 * 1 + byte] = value  # record 1
    path.write_bytes(bytes(raw))
    with pytest.raises(EventFileError, match=rf"bad\.bin is corrupt: record 1 .*{field} = {value}"):
        read_nmnist_bin(path)


def test_writer_rejects_unsorted_and_out_of_range(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "w.bin"
    with pytest.raises(ValueError, match=r"sorted by t: event 1 has t = 5"):
        write_nmnist_bin(path, make_events([0, 0], [0, 0], [9, 5], [0, 0]))
    bad = make_events([0, 0], [0, 0], [1, 2], [0, 0])
    for field, value in (("x", 34), ("y", -1), ("p", 2), ("t", -3)):
        broken = bad.copy()
        broken[field][1] = value
        with pytest.raises(ValueError, match=rf"\['{field}'\]\[1\] = {value} is out of range"):
            write_nmnist_bin(path, broken)
    assert not path.exists()
    assert list(folder.iterdir()) == []  # no temporary file left behind


def test_make_events_validates_and_sorts():
    events = make_events(np.array([1, 2]), [3, 4], np.array([20.0, 10.0]), [True, False], sort=True)
    assert events.dtype == EVENT_DTYPE
    assert events.tolist() == [(2, 4, 10, 0), (1, 3, 20, 1)]
    with pytest.raises(ValueError, match=r"t\[0\] = 1.5 is not a whole number"):
        make_events([0], [0], [1.5], [0])
    with pytest.raises(ValueError, match="same length"):
        make_events([0, 1], [0], [1], [0])
    with pytest.raises(ValueError, match=r"\['x'\]\[0\] = 40"):
        make_events([40], [0], [1], [0])
    with pytest.raises(ValueError, match="must hold integers"):
        make_events(["a"], [0], [1], [0])


def test_check_events_accepts_tonics_own_dtype():
    events = np.zeros(3, dtype=tonic.io.events_struct)  # x int16, y int16, t int64, p bool
    events["t"] = [1, 2, 3]
    check_events(events)
    with pytest.raises(ValueError, match="lacks field"):
        check_events(np.zeros(2, dtype=[("x", int), ("t", int)]))
    with pytest.raises(ValueError, match="structured NumPy array"):
        check_events(np.zeros((2, 4), dtype=int))
