"""Training figures: they draw the numbers they are given (values, not just "a figure came back")."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from primekit import plots
from primekit.experiments.training import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_mask_training_draws_loss_scores_threshold_and_sorted_mask():
    losses = np.array([3.0, 2.0, 0.5])
    magnitudes = np.array([[0.1, 0.4, 0.3, 0.2], [0.1, 0.5, 0.2, 0.3], [0.0, 0.6, 0.1, 0.4]])
    masks = np.array([[0, 1, 1, 0], [0, 1, 0, 1], [0, 1, 0, 1]], dtype=bool)
    reference = np.array([False, True, False, True])
    fig = plots.plot_mask_training(losses, magnitudes, masks, reference=reference)
    ax_loss, ax_scores, ax_mask = fig.axes
    assert np.array_equal(ax_loss.lines[0].get_ydata(), losses)
    assert np.array_equal(ax_loss.lines[0].get_xdata(), [0, 1, 2])
    # one line per weight, coloured by the reference, then the threshold between kept and pruned |S|
    assert np.array_equal(ax_scores.lines[1].get_ydata(), magnitudes[:, 1])
    assert [line.get_color() for line in ax_scores.lines[:4]] == ["C1", "C0", "C1", "C0"]
    assert np.allclose(ax_scores.lines[4].get_ydata(), [0.25, 0.25, 0.25])
    # rows sorted by the reference: weights 1 and 3 (in it) first, then 0 and 2
    image = np.asarray(ax_mask.images[0].get_array())
    assert np.array_equal(image, masks[:, [1, 3, 0, 2]].T)
    with pytest.raises(ValueError, match="reference has 3 entries"):
        plots.plot_mask_training(losses, magnitudes, masks, reference=[True, False, True])
    with pytest.raises(ValueError, match="need losses"):
        plots.plot_mask_training(losses[:2], magnitudes, masks)


def test_training_curves_draw_each_epoch_and_untrained_baselines_as_lines():
    trained = History(loss=[2.0, 1.0], train_accuracy=[0.3, 0.6], test_accuracy=[0.4, 0.75], seconds=[1.0, 1.0])
    untrained = History(test_accuracy=[0.12])
    fig = plots.plot_training_curves({"tuned": trained, "random": untrained}, chance=0.1)
    ax_loss, ax_acc = fig.axes
    assert np.array_equal(ax_loss.lines[0].get_xdata(), [1, 2])
    assert np.array_equal(ax_loss.lines[0].get_ydata(), [2.0, 1.0])
    assert np.allclose(ax_acc.lines[0].get_ydata(), [40.0, 75.0])
    assert np.allclose(ax_acc.lines[1].get_ydata(), [12.0, 12.0])
    assert np.array_equal(ax_acc.lines[1].get_xdata(), [0.5, 2.5])      # across the whole epoch axis
    assert np.allclose(ax_acc.lines[2].get_ydata(), [10.0, 10.0])
    assert [t.get_text() for t in ax_acc.get_legend().get_texts()] == ["tuned", "random (untrained)", "chance"]


def test_kept_fractions_are_grouped_bars_in_percent():
    fig = plots.plot_kept_fractions({"a": {"conv0": 1.0, "linear": 1.0}, "b": {"conv0": 0.5, "linear": 0.25}})
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [100.0, 100.0, 50.0, 25.0]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["conv0", "linear"]
    with pytest.raises(ValueError, match="empty"):
        plots.plot_kept_fractions({})


def test_kept_by_magnitude_counts_kept_weights_per_magnitude_bin():
    weights = {"layer": torch.tensor([-4.0, 1.0, -2.0, 3.0, 0.5, -0.1, 5.0, 6.0])}
    masks = {"layer": torch.abs(weights["layer"]) > 2.5}  # keeps exactly the four largest |w|
    fig = plots.plot_kept_by_magnitude(weights, masks, bins=4)
    line = fig.axes[0].lines[0]
    assert np.allclose(line.get_xdata(), [12.5, 37.5, 62.5, 87.5])
    assert np.allclose(line.get_ydata(), [0.0, 0.0, 100.0, 100.0])
    with pytest.raises(ValueError, match="same layers"):
        plots.plot_kept_by_magnitude(weights, {"other": masks["layer"]})


def test_method_accuracies_draw_bars_values_spread_and_references():
    fig = plots.plot_method_accuracies(
        {"A": 0.9, "B": 0.05}, spread={"A": (0.88, 0.93)}, noiseless={"A": 0.91},
        references={"paper": 0.976}, chance=0.1)
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == pytest.approx([90.0, 5.0])
    assert [t.get_text() for t in ax.texts] == ["90.0 %", "5.0 %"]
    # the error bar spans the lowest to the highest repeat
    segments = ax.collections[0].get_segments()
    assert np.allclose(segments[0][:, 1], [88.0, 93.0])
    diamond = next(line for line in ax.lines if line.get_marker() == "D")
    assert np.allclose(diamond.get_ydata(), [91.0])
    horizontal = sorted(float(line.get_ydata()[0]) for line in ax.lines if line.get_marker() != "D"
                        and len(set(np.asarray(line.get_ydata(), dtype=float))) == 1 and len(line.get_ydata()) == 2)
    assert horizontal == pytest.approx([10.0, 97.6])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["same model without read noise", "paper", "chance"]


def test_method_accuracies_draw_repeats_as_dots_beside_the_bar():
    fig = plots.plot_method_accuracies({"A": 0.9, "B": 0.5}, spread={"A": (0.88, 0.92)}, repeats={"B": [0.48, 0.52]})
    ax = fig.axes[0]
    dots = next(line for line in ax.lines if line.get_marker() == "o")
    assert np.allclose(dots.get_ydata(), [48.0, 52.0]) and np.allclose(dots.get_xdata(), [1.42, 1.42])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["repeated read-noise sequences"]
