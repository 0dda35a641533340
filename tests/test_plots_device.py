"""Device figures: they draw the numbers they are given (values, not just "a figure came back")."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.patches import Rectangle

from primekit import plots
from primekit.chip import memristor
from primekit.chip.memristor import MemristorConfig
from primekit.experiments.conductance_mixture import MixtureFit

CONFIG = MemristorConfig()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_histogram_overlays_the_normal_fitted_by_mean_and_std():
    values = torch.randn(20_000, generator=torch.Generator().manual_seed(0)) * 3.0 + 7.0
    fig = plots.plot_histogram_with_normal(values, unit="uS")
    ax = fig.axes[0]
    x, y = ax.lines[0].get_data()
    mean, std = values.mean().item(), values.std().item()
    assert y.max() == pytest.approx(1 / (std * math.sqrt(2 * math.pi)), rel=1e-3)
    assert x[np.argmax(y)] == pytest.approx(mean, abs=(x[1] - x[0]))
    assert ax.get_xlabel() == "conductance (uS)" and ax.get_ylabel() == "density (per uS)"
    with pytest.raises(ValueError, match="at least 2 values"):
        plots.plot_histogram_with_normal([1.0])


def test_conductance_map_shows_the_array_unchanged():
    g = torch.arange(12.0).reshape(3, 4)
    fig = plots.plot_conductance_map(g)
    assert np.array_equal(np.asarray(fig.axes[0].images[0].get_array()), g.numpy())
    with pytest.raises(ValueError, match="2-D array"):
        plots.plot_conductance_map(torch.ones(3))


def test_crossbar_schematic_writes_the_hand_computed_currents():
    v = torch.tensor([0.2, 0.0, 0.2])
    g_plus = torch.tensor([[10.0, 20.0], [30.0, 5.0], [15.0, 40.0]])
    g_minus = torch.tensor([[20.0, 10.0], [10.0, 5.0], [5.0, 0.0]])
    fig = plots.plot_crossbar_schematic(v, g_plus, g_minus)
    texts = [t.get_text() for t in fig.axes[0].texts]
    # pair 1: 0.2 (10 - 20) + 0 + 0.2 (15 - 5) = 0 uA; pair 2: 0.2 (20 - 10) + 0.2 (40 - 0) = 10 uA
    assert "$I_{1}$ = 0.00 µA" in texts and "$I_{2}$ = 10.00 µA" in texts
    assert "$I^{+}_{2}$\n12.00" in texts  # 0.2 * 20 + 0.2 * 40
    with pytest.raises(ValueError, match="need voltages"):
        plots.plot_crossbar_schematic(torch.ones(2), g_plus, g_minus)


def test_pair_histograms_mark_the_reset_pairs():
    formed = memristor.form((40, 50), CONFIG, seed=0)
    keep = torch.arange(2000).reshape(40, 50) % 4 != 0  # 500 pairs pruned
    after = memristor.reset_pruned(formed, keep, CONFIG, seed=1)
    fig = plots.plot_pair_histograms(formed, after, CONFIG)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "RESET pairs\n(500)" in texts and "RESET cells\n(1,000)" in texts
    assert len(fig.axes) == 4 and all(ax.get_yscale() == "log" for ax in fig.axes)


def test_mean_vs_spread_plots_each_cells_mean_and_std():
    cycles = memristor.reprogram_cycles(20, 300, CONFIG, seed=2)
    fig = plots.plot_mean_vs_spread(cycles)
    points = fig.axes[0].collections[0].get_offsets()
    assert np.allclose(points[:, 0], cycles.mean(dim=0).numpy(), atol=1e-5)
    assert np.allclose(points[:, 1], cycles.std(dim=0).numpy(), atol=1e-5)


def test_read_traces_draw_one_line_per_cell_from_read_one():
    traces = torch.arange(30.0).reshape(10, 3)
    fig = plots.plot_read_traces(traces)
    lines = fig.axes[0].lines
    assert len(lines) == 3
    x, y = lines[1].get_data()
    assert np.array_equal(x, np.arange(1, 11)) and np.array_equal(y, traces[:, 1].numpy())


def test_noise_sweep_draws_percentages():
    levels, mean, spread = torch.tensor([0.0, 0.1]), torch.tensor([0.0, 0.45]), torch.tensor([0.0, 0.02])
    fig = plots.plot_noise_sweep(levels, mean, spread, prediction=[0.0, 0.46])
    ax = fig.axes[0]
    assert np.allclose(ax.lines[0].get_ydata(), [0.0, 46.0])  # the prediction line, in %
    markers = next(line for line in ax.lines if line.get_marker() == "o")
    assert np.allclose(markers.get_xdata(), [0.0, 10.0]) and np.allclose(markers.get_ydata(), [0.0, 45.0])
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_noise_sweep([0.1], [0.1, 0.2], [0.0])


def test_chip_outputs_draw_each_chip_and_its_mean():
    fig = plots.plot_chip_outputs({"a": torch.tensor([1.0, 3.0]), "b": torch.tensor([2.0, 2.0])}, ideal=2.5)
    ys = [tuple(np.asarray(line.get_ydata(), dtype=float)) for line in fig.axes[0].lines]
    assert (2.5, 2.5) in ys and (1.0, 3.0) in ys and (2.0, 2.0) in ys  # ideal, chip a, chip a's mean = chip b


def test_filament_schematic_has_two_panels_without_axes():
    fig = plots.plot_filament_schematic(seed=3)
    assert len(fig.axes) == 2 and not any(ax.axison for ax in fig.axes)


def test_pair_joint_plots_each_pair_and_marks_the_reset_ones():
    before = memristor.form((4, 5), CONFIG, seed=0)
    keep = torch.arange(20).reshape(4, 5) % 4 != 0                   # pairs 0, 4, 8, 12, 16 are RESET
    after = memristor.reset_pruned(before, keep, CONFIG, seed=1)
    fig = plots.plot_pair_joint(before, after, CONFIG)
    ax_before, ax_after = fig.axes
    points = ax_before.collections[0].get_offsets()
    assert np.allclose(points, np.stack([before.g_plus.flatten(), before.g_minus.flatten()], axis=1))
    kept, reset = (np.asarray(c.get_offsets()) for c in ax_after.collections)
    assert np.allclose(kept[:, 0], after.g_plus[keep].numpy()) and np.allclose(reset[:, 1], after.g_minus[~keep].numpy())
    assert ax_after.get_title() == "after pruning: 15 kept, 5 RESET"
    assert "5 RESET pairs:\nboth cells near 0.5 µS" in [t.get_text() for t in ax_after.texts]
    with pytest.raises(ValueError, match="before has 20 pairs but after has 5"):
        plots.plot_pair_joint(before, memristor.form((5,), CONFIG), CONFIG)


def test_conductance_mixture_draws_the_histogram_and_the_expected_counts():
    values = torch.tensor([0.4, 0.6, 19.0, 21.0, 21.5])
    fit = MixtureFit(means=(0.5, 20.0), stds=(0.1, 1.0), weights=(0.4, 0.6), bic=(9.0, 3.0), n_values=5)
    edges = np.array([0.0, 1.0, 20.0, 40.0])
    fig = plots.plot_conductance_mixture(values, fit, edges=edges)
    ax = fig.axes[0]
    assert [bar.get_height() for bar in ax.patches if isinstance(bar, Rectangle)] == [2.0, 1.0, 2.0]
    total = next(s for s in ax.patches if s.get_label() == "sum of the 2 components")
    assert np.allclose(total.get_data().values, fit.expected_counts(edges).sum(axis=0))
    assert np.allclose(total.get_data().values, [2.0, 1.5, 1.5], atol=1e-6)  # half of N(20, 1) either side of 20
    assert ax.get_yscale() == "log" and ax.get_legend().get_title().get_text() == "BIC chose 2 components"
    # component weights as the book writes percentages, with a space
    assert [t.get_text() for t in ax.get_legend().get_texts()][2:] == ["0.50 µS, std 0.10 (40 %)",
                                                                     "20.00 µS, std 1.00 (60 %)"]
    one = MixtureFit(means=(20.0,), stds=(1.0,), weights=(1.0,), bic=(3.0,), n_values=5)
    legend = plots.plot_conductance_mixture(values, one).axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["5 cells", "1 component: 20.00 µS, std 1.00"]
    assert legend.get_title().get_text() == "BIC chose 1 component"
    with pytest.raises(ValueError, match="headroom=0 must be in"):
        plots.plot_conductance_mixture(values, fit, headroom=0)


def test_chip_offsets_draw_each_outputs_time_mean_minus_ideal_in_percent():
    ideal = torch.tensor([1.0, -1.0])                                   # typical output 1
    chip = torch.tensor([[1.1, -0.9], [1.3, -0.7]])                     # time-means 1.2 and -0.8
    fig = plots.plot_two_chips(ideal, {"chip A": chip, "chip B": chip.flip(0)}, shown=1)
    ax_time, ax_offsets = fig.axes
    assert np.allclose(ax_time.lines[1].get_ydata(), [-0.9, -0.7])     # output 2 over time on chip A
    markers = [line for line in ax_offsets.lines if line.get_marker() == "o"]
    assert np.allclose(markers[0].get_ydata(), [20.0, 20.0]) and np.allclose(markers[0].get_xdata(), [0.875, 1.875])
    assert next(t.get_text() for t in ax_offsets.get_legend().get_texts()) == "chip A: mean |offset| 20 %"
    with pytest.raises(ValueError, match="shown=2"):
        plots.plot_two_chips(ideal, {"chip A": chip}, shown=2)
    with pytest.raises(ValueError, match="all zeros"):
        plots.plot_chip_offsets(torch.zeros(2), {"chip A": chip})
