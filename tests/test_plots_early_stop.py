"""Early-stop figures draw the numbers they are given (values, not just "a figure came back")."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from primekit import plots
from primekit.inference.sweeps import SweepRow, TimedRow


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_running_confidence_marks_the_first_step_above_the_threshold():
    fig = plots.plot_running_confidence([0.3, 0.6, 0.85, 0.9], 0.8)
    ax = fig.axes[0]
    assert np.array_equal(ax.lines[0].get_ydata(), [0.3, 0.6, 0.85, 0.9])
    assert ax.lines[1].get_ydata()[0] == 0.8                      # the threshold
    assert ax.lines[2].get_xdata()[0] == 3                        # exit at t = 3 (steps count from 1)


def test_threshold_sweep_draws_accuracy_in_percent_and_mean_exit():
    rows = [SweepRow(0.5, 0.9, 4.0, 0.6), SweepRow(1.0, 0.95, 10.0, 0.0)]
    fig = plots.plot_threshold_sweep({"net": rows}, 10, full_accuracy={"net": 0.95})
    ax_acc, ax_exit = fig.axes[:2]
    assert np.allclose(ax_acc.lines[0].get_ydata(), [90.0, 95.0])
    assert np.allclose(ax_acc.lines[1].get_ydata(), [95.0, 95.0])  # the full-T accuracy
    assert np.array_equal(ax_exit.lines[0].get_ydata(), [4.0, 10.0])


def test_exit_histogram_bars_are_the_share_of_samples_per_step():
    fig = plots.plot_exit_histogram({"a": torch.tensor([1, 1, 2, 4])}, 4)
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    assert np.allclose(heights, [50.0, 25.0, 0.0, 25.0])


def test_confusion_heatmap_is_row_normalised_percent():
    fig = plots.plot_confusion_matrices({"m": np.array([[3, 1], [0, 2]])})
    values = np.asarray(fig.axes[0].collections[0].get_array()).reshape(2, 2)
    assert np.allclose(values, [[75.0, 25.0], [0.0, 100.0]])
    # whole percent, an empty cell where no sample fell, numbers at 9 pt
    texts = fig.axes[0].texts
    assert [t.get_text() for t in texts] == ["75", "25", "", "100"]
    assert all(t.get_fontsize() >= 9 for t in texts)


def test_figures_fit_the_column_with_readable_text():
    from primekit.plots.render import figure_png, smallest_font_pt

    rows = [SweepRow(0.5, 0.9, 4.0, 0.6), SweepRow(1.0, 0.95, 10.0, 0.0)]
    matrices = {f"panel {k}": np.eye(10, dtype=int) * 90 + 1 for k in range(3)}
    figures = [
        plots.plot_threshold_sweep({"a long network name (with details)": rows, "b": rows}, 10,
                                   full_accuracy={"b": 0.95}, accuracy_bands={"b": [(0.85, 0.94), (0.9, 0.97)]}),
        plots.plot_confusion_matrices(matrices),
        plots.plot_tsne_panels({f"θ = {k}\nsame-digit neighbour 90 %": np.random.default_rng(k).normal(size=(30, 2))
                                for k in range(3)}, np.arange(30) % 10),
        plots.plot_wall_time({"software": [TimedRow(0.3, 3.0, 10.0, 0.8)], "hardware": [TimedRow(0.3, 3.0, 10.0, 0.7)]}),
        plots.plot_exit_by_class({"θ = 0.3": [2.0] * 10, "θ = 0.5": [5.0] * 10, "θ = 0.8": [9.0] * 10}, 10),
        plots.plot_exit_histogram({"θ = 0.3": torch.tensor([1, 2, 3]), "θ = 0.5": torch.tensor([4, 5, 10])}, 10),
    ]
    for fig in figures:
        _, size = figure_png(fig)
        assert size["width"] <= 772, (fig.axes[0].get_title(), size)
        assert smallest_font_pt(fig) >= 9
    confusion = figures[1]
    assert len([ax for ax in confusion.axes if ax.get_visible()]) == 3   # two per row, the fourth slot hidden
    assert confusion.axes[0].get_position().width > 0.35                  # each matrix about half the width


def test_exit_by_class_and_wall_time_draw_their_values():
    fig = plots.plot_exit_by_class({"a": [2.0, 5.5]}, 10)
    assert [bar.get_height() for bar in fig.axes[0].patches] == [2.0, 5.5]
    rows = [TimedRow(0.3, 3.0, 10.0, 0.8)]
    fig = plots.plot_wall_time({"net": rows})
    line = fig.axes[0].lines[-1]
    assert np.allclose(line.get_xdata(), [80.0]) and np.allclose(line.get_ydata(), [70.0])


def test_tsne_panels_colour_points_by_label():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    fig = plots.plot_tsne_panels({"t": points}, [0, 1, 1])
    offsets = fig.axes[0].collections[0].get_offsets()
    assert np.allclose(offsets, points)
    colours = fig.axes[0].collections[0].get_facecolors()
    assert np.allclose(colours[1], colours[2]) and not np.allclose(colours[0], colours[1])


def test_wall_time_labels_stay_clear_of_the_reference_lines():
    # the book's numbers: software a little below the diagonal, hardware just under it
    def rows(points):                    # (threshold, steps saved, time saved), as fractions
        return [TimedRow(th, 1.0 - t, 1.0, s) for th, s, t in points]

    software = rows(((0.3, 0.698, 0.631), (0.5, 0.435, 0.370), (0.8, 0.093, 0.051)))
    hardware = rows(((0.3, 0.705, 0.674), (0.5, 0.486, 0.468), (0.8, 0.154, 0.134)))
    fig = plots.plot_wall_time({"software": software, "hardware": hardware})
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    diagonal, dotted = ax.lines[0], ax.lines[1]
    for text in ax.texts:
        box = text.get_window_extent(renderer).expanded(1.02, 1.05)
        for line in (diagonal, dotted):
            xs = np.linspace(0, 100, 2001)
            ys = np.interp(xs, line.get_xdata(), line.get_ydata())
            points = ax.transData.transform(np.column_stack([xs, ys]))
            assert not any(box.contains(x, y) for x, y in points), (text.get_text(), line.get_linestyle())
