"""LIF chapter figures: designed for the book's column, legends beside the data, never over it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

import primekit
from primekit import plots
from primekit.pages import COLUMN_PX, MIN_FONT_PT
from primekit.plots.render import figure_png, smallest_font_pt

pytestmark = pytest.mark.usefixtures("book_style")


def _fits_the_column(fig) -> None:
    _, size = figure_png(fig)
    assert size["width"] <= COLUMN_PX
    assert smallest_font_pt(fig) >= MIN_FONT_PT


def _legend_outside_data(fig) -> None:
    """Every legend's box lies outside every axes' data area (it may touch the border)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    assert legends, "the figure has no legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            area = ax.get_window_extent(renderer)
            overlap_w = min(box.x1, area.x1) - max(box.x0, area.x0)
            overlap_h = min(box.y1, area.y1) - max(box.y0, area.y0)
            assert overlap_w <= 1 or overlap_h <= 1, f"legend {box} overlaps axes {area}"


def _trace():
    current = torch.full((30,), 0.18)
    current[10:15] = 0.3
    result = primekit.LIF().run(current[:, None], keep_states=True)
    return current, primekit.stack_states(result.states).v[:, 0], result.outputs[:, 0]


def test_membrane_trace_legend_above_the_panels():
    current, v, spikes = _trace()
    fig = plots.plot_membrane_trace(current, v, spikes, threshold=0.2)
    _legend_outside_data(fig)
    _fits_the_column(fig)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["input current $I$", "membrane potential $v$", "threshold 0.2", "spike"]
    with pytest.raises(ValueError, match="shaped"):
        plots.plot_membrane_trace(current, v[:-1], spikes, threshold=0.2)


def test_rate_curves_legend_beside_the_axes():
    grid = torch.linspace(0.0, 0.4, 21)
    drive = grid.expand(100, -1)
    rates = {"PRIME": primekit.LIF().run(drive).outputs.mean(dim=0)}
    fig = plots.plot_rate_curves(grid, rates, reference_by_label={"PRIME": rates["PRIME"]})
    _legend_outside_data(fig)
    _fits_the_column(fig)
    with pytest.raises(ValueError, match="not in rates_by_label"):
        plots.plot_rate_curves(grid, rates, reference_by_label={"other": rates["PRIME"]})


def test_surrogates_legend_below_the_axes():
    fig = plots.plot_surrogates(torch.linspace(-1.5, 1.5, 61), {"Rectangle": primekit.Rectangle()})
    _legend_outside_data(fig)
    _fits_the_column(fig)


def test_raster_fits_the_column():
    fig = plots.plot_raster(torch.zeros(20, 5))
    _fits_the_column(fig)
