"""Energy figures draw the numbers they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from primekit.energy.prices import EnergyRow, Lever, SensitivityRow  # noqa: E402
from primekit.energy.references import ReadingRow  # noqa: E402
from primekit.plots.energy import (
    plot_energy_breakdown,
    plot_energy_vs_threshold,
    plot_operation_energies,
    plot_ratio_readings,
    plot_sensitivity,
    plot_work_reduction,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_operation_energies_are_drawn_as_given():
    fig = plot_operation_energies({"add": 0.9, "SRAM read": 10.0})
    ax = fig.axes[0]
    assert sorted(p.get_width() for p in ax.patches) == [0.9, 10.0]
    assert {"0.9 pJ", "10 pJ"} <= {t.get_text() for t in ax.texts}
    with pytest.raises(ValueError, match="must be > 0"):
        plot_operation_energies({"free": 0.0})


def test_work_reduction_writes_the_factors():
    fig = plot_work_reduction({"dense": 1000.0, "sparse": 10.0})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "1,000" in texts and "10  (dense ÷ 100)" in texts
    fig = plot_work_reduction({"dense MACs, all T steps": 3.44e7, "kept": 1.72e7, "triggered": 2.96e6})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["34.4 million", "17.2 million  (dense MACs ÷ 2)", "2.96 million  (dense MACs ÷ 11.6)"]
    with pytest.raises(ValueError, match="stages is empty"):
        plot_work_reduction({})


def test_energy_vs_threshold_draws_uj_and_ratios():
    rows = [EnergyRow(0.5, 0.9, 2.0, 4e6, 1e6), EnergyRow(1.0, 0.95, 10.0, 2e7, 4e6)]
    fig = plot_energy_vs_threshold(rows, paper_ratio=37.83)
    ax_energy, ax_ratio = fig.axes
    assert np.allclose(ax_energy.lines[0].get_ydata(), [4.0, 20.0])      # digital, uJ
    assert np.allclose(ax_energy.lines[1].get_ydata(), [1.0, 4.0])       # hybrid, uJ
    assert np.allclose(ax_ratio.lines[0].get_ydata(), [4.0, 5.0])
    assert ax_ratio.lines[1].get_ydata()[0] == pytest.approx(37.83)
    assert [t.get_text() for t in ax_energy.texts] == ["2.0", "10.0"]


def test_energy_breakdown_shows_shares_and_totals():
    fig = plot_energy_breakdown({"digital": {"MACs": 3e6, "neurons": 1e6}, "hybrid": {"ADC": 1e6, "neurons": 1e6}})
    ax = fig.axes[0]
    widths = sorted(round(p.get_width()) for p in ax.patches)
    assert widths == [25, 50, 50, 75]
    texts = {t.get_text() for t in ax.texts}
    assert {"4 µJ", "2 µJ", "75 %", "25 %", "50 %"} <= texts


def test_sensitivity_marks_both_ends_and_the_default():
    lever = Lever("ADC", {"adc_pj": 0.4}, {"adc_pj": 4.0}, "0.4 pJ", "4 pJ", "A")
    rows = [SensitivityRow(lever, 12.0, 6.0, 10.0)]
    fig = plot_sensitivity(rows, paper_ratio=37.83)
    ax = fig.axes[0]
    xs = [line.get_xdata() for line in ax.lines]
    assert any(np.allclose(x, [6.0, 12.0]) for x in xs)                  # the swing, low to high
    assert any(np.allclose(x, [10.0, 10.0]) for x in xs)                 # the default
    assert not ax.texts                                                  # the values go in a table, not beside the markers
    legends = [legend for legend in [ax.get_legend(), *fig.legends] if legend is not None]
    assert {"low end", "high end", "our default: 10.0x", "paper: 37.83x"} <= {
        t.get_text() for legend in legends for t in legend.get_texts()}


def test_figures_fit_the_column_with_readable_fonts():
    from primekit.plots._base import STYLE_PATH
    from primekit.plots.render import figure_png, smallest_font_pt

    with plt.style.context(STYLE_PATH):      # the book's style, as start_chapter applies it
        _check_figures(figure_png, smallest_font_pt)


def _check_figures(figure_png, smallest_font_pt):
    rows = [EnergyRow(t, 0.9, 2.0 + k, 4e6 + k * 1e5, 1e6) for k, t in enumerate((0.3, 0.5, 0.8, 0.99, 0.999, 1.0))]
    lever = Lever("neuron and pooling arithmetic (both)", {}, {}, "int8", "fp32", "Horowitz 2014")
    readings = [ReadingRow(r.threshold, r.mean_exit, 5.0, 20.0 - k) for k, r in enumerate(rows)]
    figures = [plot_energy_vs_threshold(rows, paper_ratio=37.83),
               plot_sensitivity([SensitivityRow(lever, 20.0, 6.0, 6.0)] * 14, paper_ratio=37.83),
               plot_energy_breakdown({"digital, θ = 0.8": {"synaptic MACs": 3e6, "neurons": 1e6, "pooling": 1e5},
                                      "hybrid, θ = 0.8": {"ADC": 1e6, "row drivers": 1e5, "neurons": 1e6}}),
               plot_ratio_readings({"event-driven fp32 (ours)": readings, "dense fp32": readings}, paper_ratio=37.83),
               plot_operation_energies({"memristor pair, one pulse (V²Gt, 2 cells)": 0.016, "DRAM read, 32 bit": 640.0}),
               plot_work_reduction({"dense MACs, all T steps": 1e7, "up to the exit at θ = 0.8 (early stop)": 1e5})]
    for fig in figures:
        _, size = figure_png(fig)
        assert size["width"] <= 772 and smallest_font_pt(fig) >= 9, (fig, size, smallest_font_pt(fig))


def test_ratio_readings_draw_both_readings_per_reference():
    rows = [ReadingRow(0.5, 2.0, 5.0, 20.0), ReadingRow(1.0, 10.0, 6.0, 6.0)]
    dense = [ReadingRow(0.5, 2.0, 80.0, 300.0), ReadingRow(1.0, 10.0, 81.0, 81.0)]
    fig = plot_ratio_readings({"event": rows, "dense": dense}, paper_ratio=37.83)
    ax = fig.axes[0]
    assert [list(line.get_ydata()) for line in ax.lines[:4]] == [[5, 6], [20, 6], [80, 81], [300, 81]]
    assert ax.lines[0].get_color() == ax.lines[1].get_color() != ax.lines[2].get_color()
    assert ax.lines[1].get_linestyle() == "--"
    assert ax.lines[4].get_ydata()[0] == pytest.approx(37.83)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.5", "1"]
    with pytest.raises(ValueError, match="the same thresholds"):
        plot_ratio_readings({"event": rows, "dense": dense[:1]})
    with pytest.raises(ValueError, match="readings is empty"):
        plot_ratio_readings({})
