"""Robustness figures draw the numbers they are given: sweep means in %, exit steps, bar heights, flip rates."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from primekit.experiments.noise_anatomy import LayerNoise, Margins
from primekit.experiments.noise_sweep import NoiseSweep, NoiseSweepConfig  # noqa: E402
from primekit.plots.noise_robustness import (
    plot_accuracy_vs_noise,
    plot_early_stop_panels,
    plot_early_stop_vs_noise,
    plot_layer_noise,
    plot_margin_flips,
    plot_sweep_panels,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def sweep():
    config = NoiseSweepConfig(levels=(0.0, 0.1, 0.2), chips=2, thresholds=(0.5, 0.9))
    rng = np.random.default_rng(0)
    shape = (2, 2, 3, 2)
    accuracy = rng.uniform(0.3, 1.0, shape)
    early = accuracy[..., None] - rng.uniform(0, 0.05, shape + (2,))
    exits = rng.uniform(2, 10, shape + (2,))
    logits = np.zeros(shape + (4, 10), dtype=np.float32)
    return NoiseSweep(config, ("weight-tuning", "memristor-pruning"), accuracy, early, exits, logits,
                      np.zeros(4, dtype=np.int64), 10, 1.0)


def _errorbar_lines(ax):
    """The data lines of errorbar containers, in drawing order."""
    return [c.lines[0] for c in ax.containers]


def test_accuracy_plot_draws_the_means_in_percent(sweep):
    fig = plot_accuracy_vs_noise(sweep, "read", weight_noise_factor=4.5, chance=0.1)
    ax = fig.axes[0]
    lines = _errorbar_lines(ax)
    assert len(lines) == 2
    for line, method in zip(lines, sweep.methods):
        x, y = line.get_data()
        assert np.allclose(x, [0, 10, 20])
        assert np.allclose(y, 100 * sweep.stats(method, "read")[0])
    assert ax.get_ylabel() == "test accuracy (%)"
    assert any(line.get_ydata()[0] == 10 for line in ax.lines)  # chance
    top = [child for child in ax.get_children() if type(child).__name__ == "SecondaryAxis"]
    assert len(top) == 1
    with pytest.raises(ValueError, match="weight_noise_factor=-1"):
        plot_accuracy_vs_noise(sweep, "read", weight_noise_factor=-1)
    with pytest.raises(ValueError, match="kind='thermal'"):
        plot_accuracy_vs_noise(sweep, "thermal")


def test_early_stop_plot_draws_accuracy_changes_and_exits_per_threshold(sweep):
    fig = plot_early_stop_vs_noise(sweep, "memristor-pruning", "programming")
    ax_acc, ax_exit = fig.axes[:2]
    full = sweep.per_chip("memristor-pruning", "programming")
    for line, theta in zip(_errorbar_lines(ax_acc), sweep.config.thresholds):
        change = 100 * (sweep.per_chip("memristor-pruning", "programming", theta) - full)
        assert np.allclose(line.get_ydata(), change.mean(axis=1))
    for line, theta in zip(_errorbar_lines(ax_exit), sweep.config.thresholds):
        assert np.allclose(line.get_ydata(), sweep.stats("memristor-pruning", "programming", theta, "mean_exit")[0])
    assert ax_exit.get_ylabel() == "mean exit step"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["threshold 0.5", "threshold 0.9"]


def test_panel_figures_fit_the_column_with_one_legend_below(sweep):
    from primekit.plots.render import figure_png, smallest_font_pt

    for fig in (plot_sweep_panels({"cell": sweep, "weight": sweep}, weight_noise_factor=4.5),
                plot_early_stop_panels(sweep, "memristor-pruning")):
        _, size = figure_png(fig)
        assert size["width"] <= 772 and smallest_font_pt(fig) >= 9
        assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    fig = plot_sweep_panels({"cell": sweep, "weight": sweep}, weight_noise_factor=4.5)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["Weight Tuning", "Memristor Pruning", "chance"]
    assert fig.axes[2].get_xlabel() == "weight noise (% of each weight)"
    with pytest.raises(ValueError, match="sweeps is empty"):
        plot_sweep_panels({})


def _rows(scale):
    return [LayerNoise(name, 100, 0.5, scale * (i + 1), 14.0, 4.0 * scale, 2.0 * scale)
            for i, name in enumerate(("conv0", "conv1", "linear"))]


def test_layer_plot_bars_are_the_rows_values():
    anatomy = {"weight-tuning": _rows(1.0), "memristor-pruning": _rows(2.0)}
    fig = plot_layer_noise(anatomy)
    spread, weight_noise, current_noise = fig.axes[:3]
    heights = [p.get_height() for p in spread.patches]
    assert heights == [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]
    assert [p.get_height() for p in weight_noise.patches] == [4.0] * 3 + [8.0] * 3
    assert [p.get_height() for p in current_noise.patches] == [2.0] * 3 + [4.0] * 3
    assert spread.get_ylabel() == "std of $G^+ - G^-$ (µS)"
    with pytest.raises(ValueError, match="anatomy is empty"):
        plot_layer_noise({})
    with pytest.raises(ValueError, match="has layers"):
        plot_layer_noise({"a": _rows(1.0), "b": _rows(1.0)[:2]})


def test_margin_plot_draws_flip_rates_and_the_ratio_distribution():
    ratio = np.array([0.2] * 10 + [5.0] * 10)
    flipped = np.array([True] * 6 + [False] * 4 + [True] * 1 + [False] * 9)
    margins = Margins(ratio.copy(), np.ones(20), np.ones(20, dtype=bool), flipped)
    fig = plot_margin_flips({"software-pruning": margins}, edges=[0.1, 1.0, 10.0])
    ax_rate, ax_cdf = fig.axes[:2]
    x, y = ax_rate.lines[0].get_data()
    assert np.allclose(y, [60.0, 10.0]) and np.allclose(x, [np.sqrt(0.1), np.sqrt(10.0)])
    x, y = ax_cdf.lines[0].get_data()
    assert np.allclose(np.sort(x), np.sort(ratio)) and y[-1] == 100.0
    with pytest.raises(ValueError, match="margins is empty"):
        plot_margin_flips({})
