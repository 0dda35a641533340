"""Frame binning: tonic's equal-time bins exactly, the authors' equal-count bins, counts never clipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tonic.transforms as T

from primekit.data.events import EVENT_DTYPE, SENSOR_SIZE, make_events, read_reference_recording
from primekit.data.frames import FrameSpec, bin_index, frames_for_dataset, to_frames

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return read_reference_recording()


def random_events(seed: int, n: int, t_max: int = 310_000, t_min: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_events(rng.integers(0, 34, n), rng.integers(0, 34, n), np.sort(rng.integers(t_min, t_max, n)),
                       rng.integers(0, 2, n))


def tonic_frames(events, **kwargs) -> np.ndarray:
    return T.ToFrame(sensor_size=SENSOR_SIZE, **kwargs)(events.copy())


# ---------------------------------------------------------------------------------------------------
# FrameSpec
# ---------------------------------------------------------------------------------------------------


def test_spec_defaults_and_validation():
    spec = FrameSpec()
    assert (spec.timesteps, spec.rule, spec.window_us) == (10, "time", None)
    assert spec.shape == (10, 2, 34, 34)
    with pytest.raises(ValueError, match=r"timesteps=0 must be a positive integer"):
        FrameSpec(timesteps=0)
    with pytest.raises(ValueError, match=r"timesteps=2.5"):
        FrameSpec(timesteps=2.5)
    with pytest.raises(ValueError, match=r"rule='events' is not allowed; use one of \('time', 'count'\)"):
        FrameSpec(rule="events")
    with pytest.raises(ValueError, match=r"window_us=-1 must be a positive integer"):
        FrameSpec(window_us=-1)
    with pytest.raises(AttributeError):
        spec.timesteps = 3  # frozen


# ---------------------------------------------------------------------------------------------------
# Equal time
# ---------------------------------------------------------------------------------------------------


def test_equal_time_equals_tonic_on_real_sample(sample):
    for steps in (1, 3, 10, 16):
        ours = to_frames(sample, FrameSpec(timesteps=steps))
        theirs = tonic_frames(sample, n_time_bins=steps)
        assert ours.shape == theirs.shape == (steps, 2, 34, 34)
        np.testing.assert_array_equal(ours, theirs)
    ours = to_frames(sample)
    assert ours.dtype == np.uint8
    assert int(ours.sum()) == 4324  # tonic's bins end at t0 + 10 * ((t1 - t0) // 10): the last event is out


@pytest.mark.parametrize("seed", range(6))
def test_equal_time_equals_tonic_on_random_events(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 3000))
    events = random_events(seed, n, t_max=int(rng.integers(2, 400_000)), t_min=int(rng.integers(0, 2)))
    steps = int(rng.integers(1, 20))
    np.testing.assert_array_equal(to_frames(events, FrameSpec(timesteps=steps)),
                                  tonic_frames(events, n_time_bins=steps))


def test_equal_time_sum_is_events_in_tonic_window():
    events = random_events(7, 2000)
    t0, t1 = int(events["t"][0]), int(events["t"][-1])
    width = (t1 - t0) // 10
    inside = int((events["t"] < t0 + 10 * width).sum())
    assert int(to_frames(events).sum()) == inside
    # a sample shorter than T us: zero-width bins, nothing counted (as tonic)
    short = make_events([1, 2, 3], [1, 2, 3], [100, 102, 105], [0, 1, 1])
    assert int(to_frames(short).sum()) == 0
    np.testing.assert_array_equal(to_frames(short), tonic_frames(short, n_time_bins=10))


def test_fixed_window_bins():
    # window 1000 us, T = 3: bins [0, 333.3), [333.3, 666.7), [666.7, 1000)
    events = make_events([0, 1, 2, 3, 4, 5, 6], [0] * 7, [0, 333, 334, 666, 667, 999, 1000], [1, 0, 1, 0, 1, 0, 1])
    spec = FrameSpec(timesteps=3, window_us=1000)
    assert bin_index(events, spec).tolist() == [0, 0, 1, 1, 2, 2, -1]
    frames = to_frames(events, spec)
    assert frames.sum() == 6  # t = 1000 is outside [0, 1000)
    assert frames[0, 1, 0, 0] == 1 and frames[0, 0, 0, 1] == 1 and frames[2, 0, 0, 5] == 1


def test_fixed_window_sum_and_agreement_with_tonic_time_window():
    events = random_events(8, 3000, t_max=400_000)
    spec = FrameSpec(timesteps=10, window_us=300_000)
    frames = to_frames(events, spec)
    assert int(frames.sum()) == int((events["t"] < 300_000).sum())
    # equal to tonic's fixed time_window slicing started at t = 0 when W / T is a whole number
    theirs = tonic_frames(events, time_window=30_000, start_time=0, end_time=300_000)
    np.testing.assert_array_equal(frames, theirs)


# ---------------------------------------------------------------------------------------------------
# Equal count
# ---------------------------------------------------------------------------------------------------


def test_equal_count_on_real_sample(sample):
    frames = to_frames(sample, FrameSpec(rule="count"))
    per_bin = frames.sum(axis=(1, 2, 3))
    assert per_bin.tolist() == [432] * 9 + [437]  # 4325 // 10 = 432, the last bin takes 4325 - 9 * 432
    assert int(frames.sum()) == len(sample)
    # tonic's n_event_bins drops the remainder: we differ exactly by the last 5 events in the last bin
    theirs = tonic_frames(sample, n_event_bins=10)
    np.testing.assert_array_equal(frames[:9], theirs[:9])
    np.testing.assert_array_equal(frames[9].astype(int) - theirs[9], to_frames(sample[-5:], FrameSpec(timesteps=1, rule="count"))[0])


@pytest.mark.parametrize("n, steps", [(1000, 10), (1009, 10), (57, 7), (10, 10), (11, 3)])
def test_equal_count_bins_hold_n_over_t(n, steps):
    events = random_events(n, n)
    frames = to_frames(events, FrameSpec(timesteps=steps, rule="count"))
    per_bin = frames.sum(axis=(1, 2, 3)).tolist()
    assert per_bin == [n // steps] * (steps - 1) + [n - (steps - 1) * (n // steps)]
    theirs = tonic_frames(events, n_event_bins=steps)
    remainder = n - steps * (n // steps)
    np.testing.assert_array_equal(frames[:-1], theirs[:-1])
    assert int(frames[-1].sum()) - int(theirs[-1].sum()) == remainder


def test_equal_count_fewer_events_than_bins():
    events = make_events([1, 2, 3], [1, 1, 1], [5, 6, 7], [1, 1, 0])
    frames = to_frames(events, FrameSpec(timesteps=10, rule="count"))
    assert frames.sum(axis=(1, 2, 3)).tolist() == [0] * 9 + [3]  # n // T = 0 per bin, the last takes all


def test_equal_count_with_window_drops_late_events_first():
    events = random_events(3, 500, t_max=200_000)
    spec = FrameSpec(timesteps=4, rule="count", window_us=100_000)
    k = int((events["t"] < 100_000).sum())
    per_bin = to_frames(events, spec).sum(axis=(1, 2, 3)).tolist()
    assert per_bin == [k // 4] * 3 + [k - 3 * (k // 4)]


# ---------------------------------------------------------------------------------------------------
# Layout, dtype, validation, batches
# ---------------------------------------------------------------------------------------------------


def test_axis_order_is_t_p_y_x():
    events = make_events([5], [20], [0], [1])
    frames = to_frames(events, FrameSpec(timesteps=2, window_us=10))
    assert frames.shape == (2, 2, 34, 34)
    assert frames[0, 1, 20, 5] == 1 and frames.sum() == 1
    np.testing.assert_array_equal(frames, tonic_frames(events, time_window=5, start_time=0, end_time=10))


def test_large_counts_are_widened_never_clipped():
    n = 70_000  # one pixel, one bin: needs uint32
    events = make_events(np.full(n, 3), np.full(n, 4), np.arange(n) // 1000, np.ones(n, dtype=int))
    frames = to_frames(events, FrameSpec(timesteps=1, rule="count"))
    assert frames.dtype == np.uint32 and int(frames[0, 1, 4, 3]) == n
    frames = to_frames(events[:300], FrameSpec(timesteps=1, rule="count"))
    assert frames.dtype == np.uint16 and int(frames.max()) == 300
    batch = frames_for_dataset([events[:10], events[:300]], FrameSpec(timesteps=1, rule="count"), progress=False)
    assert batch.dtype == np.uint16 and batch[:, 0, 1, 4, 3].tolist() == [10, 300]


def test_to_frames_rejects_bad_events():
    with pytest.raises(ValueError, match="sorted by t"):
        to_frames(make_events([0, 0], [0, 0], [5, 1], [0, 0]))
    with pytest.raises(ValueError, match=r"samples\[1\]\['x'\]\[0\] = 34"):
        bad = np.zeros(1, dtype=EVENT_DTYPE)
        bad["x"] = 34
        frames_for_dataset([make_events([0], [0], [0], [0]), bad], progress=False)


def test_empty_sample_gives_empty_frames():
    empty = np.zeros(0, dtype=EVENT_DTYPE)
    for spec in (FrameSpec(), FrameSpec(rule="count"), FrameSpec(window_us=1000)):
        frames = to_frames(empty, spec)
        assert frames.shape == (10, 2, 34, 34) and frames.sum() == 0 and frames.dtype == np.uint8


def test_frames_for_dataset_matches_per_sample_and_sums():
    samples = [random_events(s, 100 + 37 * s) for s in range(12)]
    for spec in (FrameSpec(), FrameSpec(rule="count"), FrameSpec(timesteps=5, window_us=200_000)):
        batch = frames_for_dataset(samples, spec, progress=False)
        assert batch.shape == (12, *spec.shape) and batch.dtype == np.uint8
        for i, events in enumerate(samples):
            np.testing.assert_array_equal(batch[i], to_frames(events, spec))
            inside = (bin_index(events, spec) >= 0).sum()
            assert int(batch[i].sum()) == int(inside)
    # any iterable works, e.g. a generator
    batch = frames_for_dataset((s for s in samples), FrameSpec(), progress=False)
    assert batch.shape[0] == 12


# ---------------------------------------------------------------------------------------------------
# tonic transforms on our arrays
# ---------------------------------------------------------------------------------------------------


def test_tonic_transforms_accept_our_events():
    events = random_events(11, 4000)
    frames = T.ToFrame(sensor_size=SENSOR_SIZE, n_time_bins=10)(events.copy())
    assert frames.shape == (10, 2, 34, 34)
    denoised = T.Denoise(filter_time=10_000)(events.copy())
    assert denoised.dtype == EVENT_DTYPE and 0 < len(denoised) < len(events)
    small = T.Downsample(spatial_factor=0.5)(events.copy())
    assert small.dtype == EVENT_DTYPE and small["x"].max() < 17 and small["y"].max() < 17
    pipeline = T.Compose([T.Denoise(filter_time=10_000), T.ToFrame(sensor_size=SENSOR_SIZE, n_time_bins=10)])
    assert np.array_equal(pipeline(events.copy()), T.ToFrame(sensor_size=SENSOR_SIZE, n_time_bins=10)(denoised))
    # and our binning accepts what tonic's transforms return
    assert int(to_frames(denoised, FrameSpec(rule="count")).sum()) == len(denoised)
