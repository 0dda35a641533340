"""Event data chapter figures: designed for the book's column, legends beside the data, never over it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from primekit import plots
from primekit.data.emulator import EmulatorConfig, displacement_px, nominal_schedule
from primekit.data.events import EVENT_DTYPE
from primekit.data.frames import FrameSpec, to_frames
from primekit.pages import COLUMN_PX, MIN_FONT_PT
from primekit.plots.render import figure_png, smallest_font_pt

pytestmark = pytest.mark.usefixtures("book_style")


@pytest.fixture
def events():
    rng = np.random.default_rng(0)
    n = 400
    out = np.zeros(n, dtype=EVENT_DTYPE)
    out["x"], out["y"] = rng.integers(0, 34, n), rng.integers(0, 34, n)
    out["t"] = np.sort(rng.integers(0, 300_000, n))
    out["p"] = rng.integers(0, 2, n)
    return out


def _fits_the_column(fig) -> None:
    _, size = figure_png(fig)
    assert size["width"] <= COLUMN_PX
    assert smallest_font_pt(fig) >= MIN_FONT_PT


def _legends_outside_data(fig) -> None:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends, "the figure has no legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        area = legend.axes.get_window_extent(renderer)
        overlap_w = min(box.x1, area.x1) - max(box.x0, area.x0)
        overlap_h = min(box.y1, area.y1) - max(box.y0, area.y0)
        assert overlap_w <= 1 or overlap_h <= 1, f"legend {box} overlaps its axes {area}"


def test_binning_legend_above_the_axes(events):
    fig = plots.plot_binning(events, 10)
    _legends_outside_data(fig)
    _fits_the_column(fig)


def test_pixel_crossings_legend_below_the_axes():
    fig = plots.plot_pixel_crossings(np.arange(5.0), [0, -0.2, -0.4, -0.2, 0.0], [1.7, 3.5], [0, 1], 0.13, 0.13,
                                     library_events=([1.7, 3.5], [0, 1]))
    _legends_outside_data(fig)
    _fits_the_column(fig)


def test_saccade_path_speed_legend_outside():
    times = np.arange(0, 320.0)
    fig = plots.plot_saccade_path(times, displacement_px(times, nominal_schedule(), EmulatorConfig()),
                                  schedule=nominal_schedule())
    speed_axes = fig.axes[1]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box, area = speed_axes.get_legend().get_window_extent(renderer), speed_axes.get_window_extent(renderer)
    assert box.y0 >= area.y1 - 1   # above the speed panel, not on the shaded saccades
    _legends_outside_data(fig)     # the path panel's "start and end" too: inside, it covered the path
    assert len([ax for ax in fig.axes if ax.get_legend() is not None]) == 2
    _fits_the_column(fig)


def test_counts_in_legends_have_thousands_separators(events):
    labels = {"training split": np.repeat(np.arange(10), 400), "test split": np.repeat(np.arange(10), 100)}
    fig = plots.plot_class_counts(labels)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["training split (4,000 samples)", "test split (1,000 samples)"]
    many = np.concatenate([events] * 4)
    many["p"][:] = 1
    fig = plots.plot_events_3d(many)
    assert "ON (1,600 events)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_event_rate_colours(events):
    from primekit.data import eventstats as es

    rates = {"ON": es.event_rate(events, 10.0, polarity=1), "OFF": es.event_rate(events, 10.0, polarity=0)}
    fig = plots.plot_event_rate(rates, colors=(plots.ON_COLOR, plots.OFF_COLOR))
    colours = [matplotlib.colors.to_hex(p.get_edgecolor()) for p in fig.axes[0].patches]
    assert colours == [plots.ON_COLOR, plots.OFF_COLOR]
    _fits_the_column(fig)
    with pytest.raises(ValueError, match="colors"):
        plots.plot_event_rate(rates, colors=("red",))


def test_frame_rules_one_scale_for_both_rules(events):
    frames = {"equal time": to_frames(events, FrameSpec(10, "time")),
              "equal count": to_frames(events, FrameSpec(10, "count"))}
    fig = plots.plot_frame_rules(frames)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 20
    assert len({im.get_clim() for im in images}) == 1   # one colour scale
    assert sum(1 for ax in fig.axes if ax.get_label() == "<colorbar>") == 1
    assert [ax.get_ylabel() for ax in fig.axes[:20:5]] == ["equal time", "equal time", "equal count", "equal count"]
    _fits_the_column(fig)
    with pytest.raises(ValueError, match="same number"):
        plots.plot_frame_rules({"a": frames["equal time"], "b": frames["equal time"][:5]})
    with pytest.raises(ValueError, match="empty"):
        plots.plot_frame_rules({})


def test_frames_without_colorbar(events):
    fig = plots.plot_frames(to_frames(events, FrameSpec(4)), colorbar_label=None)
    assert all(ax.get_label() != "<colorbar>" for ax in fig.axes)
