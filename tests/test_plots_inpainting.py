"""Inpainting figures draw the numbers they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from primekit import plots
from primekit.experiments.inpainting_runs import Quality, VAEEnergyRow

# the book's style (its constrained layout keeps legends beside the axes inside the figure), for these tests only
pytestmark = pytest.mark.usefixtures("book_style")


ROWS = [Quality(0.5, 0.2, 0.6, 5.0, 0.9, 12.0), Quality(2.0, 0.25, 0.7, 4.5, 0.85, 6.0),
        Quality(None, 0.19, 0.55, 5.2, 0.92, 16.0)]


def test_consistency_scores_marks_the_exit_and_the_threshold():
    scores = np.array([[1.0, 2.0], [0.5, 1.5], [0.1, 1.0], [0.05, 0.9]])
    fig = plots.plot_consistency_scores(scores, 0.2, exits=[3, 4])
    ax = fig.axes[0]
    assert np.array_equal(ax.lines[0].get_ydata(), [1.0, 0.5, 0.1, 0.05])
    assert ax.lines[1].get_xdata()[0] == 3 and ax.lines[1].get_ydata()[0] == 0.1   # the exit of digit 1
    assert ax.lines[-1].get_ydata()[0] == 0.2                                       # no marker for exit = T
    assert len(ax.lines) == 4
    with pytest.raises(ValueError, match=r"\[T, N\]"):
        plots.plot_consistency_scores(np.zeros(3), 0.2)


def test_digit_grid_fits_the_text_column_with_readable_labels():
    from primekit.pages import COLUMN_PX, MIN_FONT_PT

    images = np.zeros((2, 8, 32, 32))
    images[1, 3] = 0.5
    fig = plots.plot_digit_grid(images, row_labels=["clean", "damaged"], titles=[f"digit {d}" for d in range(8)])
    _, size = plots.figure_png(fig)
    assert size["width"] <= COLUMN_PX and plots.smallest_font_pt(fig) >= MIN_FONT_PT
    panels = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    assert len(panels) == 16 and np.allclose(panels[11].images[0].get_array(), 0.5)   # row 1, column 3
    assert panels[0].get_title() == "digit 0" and panels[8].get_ylabel() == "damaged"
    with pytest.raises(ValueError, match="row labels"):
        plots.plot_digit_grid(images, row_labels=["clean"])


def test_chapter_figures_fit_the_column_with_fonts_of_at_least_9_pt():
    from primekit.pages import COLUMN_PX, MIN_FONT_PT

    methods = {name: ROWS for name in ("Weight Tuning", "Software Pruning", "Memristor Pruning", "hardware PRIME")}
    energy_rows = [VAEEnergyRow(1.0, 8.0, 2000.0, 100.0), VAEEnergyRow(None, 16.0, 4000.0, 200.0)]
    for fig in (plots.plot_eps_sweep({"software baseline": ROWS, "hardware PRIME": ROWS}, 16),
                plots.plot_method_losses(methods, 2.0), plots.plot_quality_vs_eps(methods, reference=9.0),
                plots.plot_vae_energy({"posterior digital (ours)": energy_rows, "every layer analogue": energy_rows},
                                      paper_ratio=62.5),
                plots.plot_consistency_scores(np.ones((16, 5)), 0.3, labels=[f"digit {d}" for d in range(5)])):
        _, size = plots.figure_png(fig)
        assert size["width"] <= COLUMN_PX and plots.smallest_font_pt(fig) >= MIN_FONT_PT


def test_eps_axis_labels_thresholds_plainly_and_skips_crowded_ones():
    rows = [Quality(e, 0.2, 0.6, 5.0, 0.9, 12.0) for e in (0.2, 0.25, 0.3, 0.5, 2.0)] + [ROWS[-1]]
    fig = plots.plot_eps_sweep({"net": rows}, 16)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["0.2", "", "0.3", "0.5", "2"]


def test_eps_sweep_draws_the_damaged_loss_and_the_exits():
    fig = plots.plot_eps_sweep({"net": ROWS}, 16)
    ax_loss, ax_exit = fig.axes[:2]
    assert np.allclose(ax_loss.lines[0].get_ydata(), [0.6, 0.7])
    assert np.allclose(ax_loss.lines[1].get_ydata(), [0.55, 0.55])      # full T, dotted
    assert np.allclose(ax_exit.lines[0].get_ydata(), [12.0, 6.0])
    with pytest.raises(ValueError, match="full-T row"):
        plots.plot_eps_sweep({"net": ROWS[:2]}, 16)


def test_method_losses_put_early_stop_beside_full_t():
    fig = plots.plot_method_losses({"a": ROWS, "b": ROWS}, 2.0)
    whole = [p.get_height() for p in fig.axes[0].patches]
    assert np.allclose(whole, [0.25, 0.25, 0.19, 0.19])


def test_quality_vs_eps_scales_accuracy_to_percent():
    fig = plots.plot_quality_vs_eps({"a": ROWS}, "accuracy", reference=0.97)
    ax = fig.axes[0]
    assert np.allclose(ax.lines[0].get_ydata(), [90.0, 85.0])
    assert np.allclose(ax.lines[-1].get_ydata(), [97.0, 97.0])
    with pytest.raises(ValueError, match="quantity"):
        plots.plot_quality_vs_eps({"a": ROWS}, "loss")


def test_vae_energy_plots_nanojoules_against_eps_and_the_full_t_ratio():
    rows = [VAEEnergyRow(1.0, 8.0, 2000.0, 100.0), VAEEnergyRow(None, 16.0, 4000.0, 200.0)]
    fig = plots.plot_vae_energy({"ours": rows}, paper_ratio=62.5)
    ax = fig.axes[0]
    assert np.allclose(ax.lines[0].get_xdata(), [1.0]) and np.allclose(ax.lines[0].get_ydata(), [2.0])
    assert np.allclose(ax.lines[1].get_ydata(), [4.0, 4.0])                  # digital at full T
    assert np.allclose(ax.lines[2].get_ydata(), [0.1]) and np.allclose(ax.lines[3].get_ydata(), [0.2, 0.2])
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[1] == "hybrid, ours\n(20.0x less at full T)" and "62.50x" in ax.get_title()


def test_noise_quality_draws_mean_and_spread_over_chips():
    from primekit.experiments.inpainting_runs import QUANTITIES, InpaintingNoiseSweep
    from primekit.experiments.noise_sweep import NoiseSweepConfig

    config = NoiseSweepConfig(levels=(0.0, 0.1), chips=2, thresholds=())
    values = np.zeros((1, 2, 2, 2, 2, len(QUANTITIES)))
    damaged = QUANTITIES.index("damaged")
    values[0, :, 1, :, 1, damaged] = [[0.4, 0.6], [0.5, 0.5]]           # level 10 %, no early stop (last eps)
    sweep = InpaintingNoiseSweep(config, ("m",), (1.0,), values, 10, 1.0)
    fig = plots.plot_noise_quality(sweep, "m", "damaged", epsilons=(None,))
    programming = fig.axes[0].lines[0]
    assert np.allclose(programming.get_xdata(), [0.0, 10.0]) and np.allclose(programming.get_ydata(), [0.0, 0.5])
    assert sweep.stats("m", "programming", "damaged")[1][1] == pytest.approx(np.std([0.4, 0.6], ddof=1))


def test_vae_energy_says_a_costlier_hybrid_as_more_and_writes_plain_ticks():
    rows = [VAEEnergyRow(1.0, 8.0, 2000.0, 4000.0), VAEEnergyRow(None, 16.0, 4000.0, 8000.0)]
    fig = plots.plot_vae_energy({"ours": rows})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()][1] == "hybrid, ours\n(2.0x more at full T)"
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all("$" not in label and "10^" not in label for label in labels)   # 2, 5, 10, not 10^0
