"""The Event data chapter's summaries, on hand-made recordings and statistics with known values."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from primekit.data import event_tables as et
from primekit.data.emulator import EmulatorConfig
from primekit.data.events import make_events
from primekit.data.frames import FrameSpec
from primekit.data.recording_stats import RecordingStats


def stats(**changes) -> RecordingStats:
    """A RecordingStats with simple values; ``changes`` override fields."""
    base = RecordingStats(
        n_events=100, n_on=50, on_fraction=0.5, duration_ms=300.0, saccade_counts=(30, 30, 40), active_pixels=20,
        events_per_active_pixel=5.0, median_pixel_interval_ms=4.0, off_then_on=3, on_then_off=1,
        off_then_on_ratio=3.0, saccade_off_then_on=(2, 2, 2), saccade_on_then_off=(1, 0, 1),
        peak_ms=(50.0, 150.0, 260.0), peak_rate_per_ms=(10.0, 8.0, 12.0), gap_ms=(97.5, 222.5),
        gap_rate_per_ms=(0.4, 0.8), on_off_offset_px=((0.0, -1.5), (0.5, 1.0), (1.0, 0.0)))
    return dataclasses.replace(base, **changes)


def test_sample_summary():
    s = et.sample_summary(stats())
    assert s["events"] == 100 and s["duration_ms"] == 300.0 and s["on_percent"] == 50.0
    assert (s["saccade1_events"], s["saccade3_events"]) == (30, 40)
    assert (s["peak2_ms"], s["gap1_ms"], s["gap2_ms"]) == (150.0, 97.5, 222.5)
    assert (s["edge1_ms"], s["edge2_ms"]) == (97.0, 224.0)
    assert s["gap_to_peak_percent"] == pytest.approx(100 * 0.8 / 8.0)   # busier gap over the weakest peak
    assert s["offset1_dy"] == -1.5
    # the text quotes peak and gap times exactly as the comparison table writes them (57.5, never 58)
    assert s["peaks_text"] == "50.0, 150.0 and 260.0" and s["gaps_text"] == "97.5 and 222.5"
    half = et.sample_summary(stats(peak_ms=(57.5, 142.5, 262.5)))
    assert half["peaks_text"] == "57.5, 142.5 and 262.5"
    table = et.comparison_table(stats(peak_ms=(57.5, 142.5, 262.5)), [stats()], [stats()])
    assert [row[1] for row in table.rows if row[0].startswith("busiest")] == ["57.5", "142.5", "262.5"]
    assert [row[1] for row in table.rows if row[0].startswith("quietest")] == ["97.5", "222.5"]


@pytest.fixture
def three_pixels():
    # (1, 2): OFF, ON; (5, 5): ON, OFF, OFF; (7, 7): ON x 4 (one polarity only)
    x = [1, 5, 1, 7, 7, 5, 7, 7, 5]
    y = [2, 5, 2, 7, 7, 5, 7, 7, 5]
    t = [1000, 2000, 4000, 5000, 6000, 100_000, 150_000, 230_000, 240_000]
    p = [0, 1, 1, 1, 1, 0, 1, 1, 0]
    return make_events(x, y, t, p)


def test_busiest_mixed_pixel_ignores_one_polarity_pixels(three_pixels):
    assert et.busiest_mixed_pixel(three_pixels) == (5, 5)
    one_sided = make_events([3, 3], [4, 4], [0, 10], [1, 1])
    with pytest.raises(ValueError, match="both polarities"):
        et.busiest_mixed_pixel(one_sided)


def test_saccade_polarity_images(three_pixels):
    images = et.saccade_polarity_images(three_pixels)
    assert images.shape == (3, 2, 34, 34) and images.sum() == len(three_pixels)
    assert images[0, 1, 7, 7] == 2 and images[1, 0, 5, 5] == 1 and images[2, 1, 7, 7] == 1
    assert images[2, 0, 5, 5] == 1                  # 240 ms: third saccade (edges 97 and 224 ms)


def test_pixel_events_summary():
    assert et.pixel_events_summary([0, 1, 1]) == {"events": 3, "on": 2, "off": 1, "first_p": "OFF"}
    assert et.pixel_events_summary([1])["first_p"] == "ON"
    with pytest.raises(ValueError, match="polarities"):
        et.pixel_events_summary([0, 2])


def test_emulator_settings():
    config = EmulatorConfig(contrast=0.5, threshold_mismatch=0.1, timing_jitter=0.02, noise_on_fraction=0.75)
    s = et.emulator_settings(config)
    assert s["darkest"] == pytest.approx(math.log(0.5))
    assert s["mismatch_percent"] == pytest.approx(10.0) and s["jitter_percent"] == pytest.approx(2.0)
    assert s["noise_on_percent"] == 75.0 and s["pause_ms"] == config.pause_ms


def test_path_summary():
    config = EmulatorConfig()           # corners (3.5, 7), (7, 0), (0, 0)
    path = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]])
    schedule = np.array([[0.0, 10.0], [15.0, 35.0], [40.0, 45.0]])
    s = et.path_summary(path, schedule, config)
    assert s["leg1_px"] == pytest.approx(math.hypot(3.5, 7.0)) and s["leg3_px"] == pytest.approx(7.0)
    assert (s["saccade1_ms"], s["saccade2_ms"], s["saccade3_ms"]) == (10.0, 20.0, 5.0)
    assert s["peak_speed"] == pytest.approx(5.0) and s["path_end_px"] == pytest.approx(5.0)
    with pytest.raises(ValueError, match="path_px"):
        et.path_summary(np.zeros(3), schedule, config)


def test_noise_summary():
    config = EmulatorConfig(noise_rate_hz=0.5)
    s = et.noise_summary(config, (np.array([[0.1, 0.2]]), np.array([0.15, 0.3])), 100, 110, duration_ms=2000.0,
                         n_pixels=10)
    assert (s["threshold_min"], s["threshold_max"]) == (0.1, 0.3)
    assert (s["signal_events"], s["noise_events"]) == (100, 10)
    assert s["noise_expected"] == pytest.approx(0.5 * 10 * 2.0)
    with pytest.raises(ValueError, match="n_with_noise=90"):
        et.noise_summary(config, ([0.1],), 100, 90, duration_ms=1.0)


class _Split(SimpleNamespace):
    def __len__(self):
        return len(self.labels)


def test_dataset_summary(tmp_path):
    cache = tmp_path / "frames.npz"
    cache.write_bytes(b"0" * 2_000_000)
    frames = SimpleNamespace(train=_Split(frames=np.zeros((4, 2, 2, 34, 34), np.uint8), labels=np.array([0, 0, 1, 9])),
                             test=_Split(labels=np.array([3, 4])))
    events = SimpleNamespace(train=_Split(labels=np.arange(3)))
    s = et.dataset_summary(frames, events, [cache, cache])
    assert (s["n_train"], s["n_test"], s["n_samples"], s["n_event_train"]) == (4, 2, 6, 3)
    assert s["frames_shape"] == "4 x 2 x 2 x 34 x 34" and s["frames_dtype"] == "uint8"
    assert (s["train_per_class_min"], s["train_per_class_max"]) == (0, 2)   # digits 2-8 have none
    assert s["cache_listing"] == "frames 2.0 MB" and s["cache_total_mb"] == pytest.approx(2.0)
    # files are named by what they hold, not by their hash; two of a kind add up
    events = tmp_path / "nmnist-emulated-events-9414d2684a9b52fc.pt"
    events.write_bytes(b"0" * 1_000_000)
    other = tmp_path / "inpainting-digits-0123abcd.pt"
    other.write_bytes(b"0" * 500_000)
    s = et.dataset_summary(frames, SimpleNamespace(train=_Split(labels=np.arange(3))), [cache, events, other])
    assert s["cache_listing"] == "frames 2.0 MB, inpainting-digits 0.5 MB, events 1.0 MB"
    assert s["cache_total_mb"] == pytest.approx(3.5)


def test_pooled_ratio_counts_before_dividing():
    a = stats(off_then_on=3, on_then_off=1)
    b = stats(off_then_on=1, on_then_off=3)
    assert et.pooled_ratio([a, b], "off_then_on", "on_then_off") == 1.0     # per-recording mean would be 1.67
    assert et.pooled_ratio([a], "saccade_off_then_on", "saccade_on_then_off") == 3.0
    assert math.isnan(et.pooled_ratio([stats(on_then_off=0)], "off_then_on", "on_then_off"))
    with pytest.raises(ValueError, match="off_field='x'"):
        et.pooled_ratio([a], "x", "on_then_off")


def _row(table, first_cell):
    return next(row for row in table.rows if row[0] == first_cell)


def test_fmt():
    assert et.fmt(1234.5, ",.0f") == "1,234" and et.fmt(2.0, ".1f", " (pooled)") == "2.0 (pooled)"
    assert et.fmt(math.nan, ".1f") == "–"


def test_comparison_table():
    real = stats(n_events=4325, on_fraction=0.496)
    emulated = [stats(n_events=100, off_then_on=3, on_then_off=1), stats(n_events=300, off_then_on=1, on_then_off=1)]
    table = et.comparison_table(real, emulated, emulated[:1], "emulated N-MNIST")
    assert table.header[1:] == ("real “4”", "emulated N-MNIST", "its 1 “4”s")
    assert _row(table, "events per sample")[1:] == ("4,325", "200 ± 100", "100")
    assert _row(table, "ON events (%)")[1] == "49.6"
    assert _row(table, "events in saccade 3")[1:] == ("40", "40 ± 0", "40")
    assert _row(table, "busier gap / weakest burst peak (%)")[1] == "10.0"
    assert _row(table, "OFF-first / ON-first pixels, whole recording")[1:] == ("3.0", "2.0 (pooled)", "3.0 (pooled)")
    assert _row(table, "OFF-first / ON-first pixels, saccade by saccade")[2] == "3.0 (pooled)"
    assert len(table.rows) == len(et.COMPARISON_ROWS) + len(et.ORDER_ROWS)
    with pytest.raises(ValueError, match="non-empty"):
        et.comparison_table(real, emulated, [])


def test_on_above_fraction():
    up, down = stats(), stats(on_off_offset_px=((0.0, 2.0), (0.0, 0.0), (0.0, 0.0)))
    assert et.on_above_fraction([up, up, down, down]) == 0.5
    with pytest.raises(ValueError, match="empty"):
        et.on_above_fraction([])


@pytest.fixture
def five_events():
    return make_events([0] * 5, [0] * 5, [0, 10, 20, 30, 100], [0, 1, 0, 1, 0])


def test_binning_summary_by_hand(five_events):
    # equal time: width (100 - 0) // 2 = 50 us, bins [0, 50) and [50, 100); t = 100 falls outside.
    # equal count: 5 // 2 = 2 per bin, the last takes the remainder: [0, 10] and [20, 30, 100].
    s = et.binning_summary(five_events, 2)
    assert s["bin_ms"] == 0.05 and s["time_dropped"] == 1
    assert (s["time_bin_min_events"], s["time_bin_max_events"]) == (0, 4)
    assert (s["count_per_bin"], s["count_last_bin"], s["count_remainder"]) == (2, 3, 1)
    assert s["count_span_min_ms"] == pytest.approx(0.01) and s["count_span_max_ms"] == pytest.approx(0.08)
    assert s["k_steps"] == 1 and s["k_time_ms"] == pytest.approx(0.05) and s["k_count_ms"] == pytest.approx(0.01)


def test_binning_summary_checks(five_events):
    with pytest.raises(ValueError, match="timesteps=1"):
        et.binning_summary(five_events, 1)
    with pytest.raises(ValueError, match="5 events"):
        et.binning_summary(five_events, 6)


def test_step_titles(five_events):
    assert et.step_titles(five_events, FrameSpec(2, "time")) == ["step 1\n0–0 ms\n4 events", "step 2\nno events\n0 events"]
    assert et.step_titles(five_events, FrameSpec(2, "count"))[1] == "step 2\n0–0 ms\n3 events"


def test_balance_and_dropped_phrases():
    assert et.balance_text(400, 400) == "class-balanced (400 training samples per digit)"
    assert et.balance_text(5421, 6742) == "not class-balanced (from 5,421 to 6,742 training samples per digit)"
    with pytest.raises(ValueError, match="per_class_min=5"):
        et.balance_text(5, 4)
    assert [et.dropped_text(n) for n in (0, 1, 3)] == [
        "no event falls", "1 event at the very end falls", "3 events at the very end fall"]
    with pytest.raises(ValueError, match="n_dropped"):
        et.dropped_text(-1)


def test_path_end_text():
    assert et.path_end_text(1e-12) == "returns exactly to its start"
    assert et.path_end_text(0.25) == "ends 0.25 px from its start"
    with pytest.raises(ValueError, match="path_end_px"):
        et.path_end_text(-1.0)


def test_dark_digit_text_follows_the_ratios():
    name = "emulated N-MNIST"
    assert et.dark_digit_text((2.2, 3.6), (2.6, 5.1), name) == (
        "OFF-first wins in the real recording and in the emulated N-MNIST, more sharply saccade by saccade")
    assert et.dark_digit_text((2.2, 3.6), (2.6, 2.0), name) == (
        "OFF-first wins in the real recording and in the emulated N-MNIST")
    assert et.dark_digit_text((2.2, 3.6), (0.9, 1.5), name) == (
        "OFF-first wins in the real recording but not in the emulated N-MNIST")
    assert et.dark_digit_text((0.5, 0.4), (2.6, 5.1), name) == (
        "OFF-first wins in the emulated N-MNIST but not in the real recording")
    assert et.dark_digit_text((1.0, 0.4), (0.5, 5.1), name) == (
        "OFF-first wins neither in the real recording nor in the emulated N-MNIST")


def test_conventions_text():
    assert et.conventions_text([True] * 4, 1.0, 4000) == (
        "in every row; over the whole training split, in every one of its 4,000 recordings")
    assert et.conventions_text([True, False, True, True], 0.995, 4000) == (
        "in 3 of the 4 rows; over the whole training split, in 99.5 % of its 4,000 recordings")
    with pytest.raises(ValueError, match="shown_above"):
        et.conventions_text([], 1.0, 10)
