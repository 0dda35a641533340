"""Early-stop summaries on hand-made sweeps, timings, exits and features whose answers are known."""

import math

import numpy as np
import pytest
import torch

from primekit.inference.intervals import paired_difference
from primekit.inference.summaries import (
    PAPER_LOAD_SAVED_NMNIST,
    accuracy_intervals,
    as_percent,
    class_difficulty,
    describe_cost,
    describe_difficulty,
    describe_gap,
    difference_cell,
    early_late_accuracy,
    interval_cell,
    interval_values,
    neighbour_agreement,
    realised_sentence,
    stratified_subsample,
    summary_table,
    sweep_bands,
    sweep_rows_table,
    sweep_summary,
    sweep_table,
    sweep_wide_table,
    timing_summary,
    timing_table,
    timing_thresholds,
    tsne_perplexity,
    within_one_point,
    within_point_sentence,
    worst_confusion,
)
from primekit.inference.sweeps import SweepRow, TimedRow

ROWS = [SweepRow(0.3, 0.90, 3.0, 0.7), SweepRow(0.5, 0.955, 5.0, 0.5), SweepRow(0.6, 0.955, 5.0, 0.5),
        SweepRow(0.8, 0.96, 8.0, 0.2), SweepRow(1.0, 0.962, 10.0, 0.0)]


def test_within_one_point_takes_the_largest_saving_inside_the_tolerance():
    assert within_one_point(ROWS).threshold == 0.5          # 95.5 % >= 96.2 % - 1; ties go to the lower θ
    assert within_one_point(ROWS, tolerance=0.1).threshold == 0.3
    assert within_one_point(ROWS, tolerance=0.0).threshold == 1.0
    with pytest.raises(ValueError, match="must end with threshold 1.0"):
        within_one_point(ROWS[:-1])
    with pytest.raises(ValueError, match="tolerance=-0.1"):
        within_one_point(ROWS, tolerance=-0.1)


def test_sweep_summary_and_table():
    s = sweep_summary(ROWS, 0.8)
    assert s == {"acc_full": 0.962, "acc_theta": 0.96, "exit_theta": 8.0, "saved_theta": 0.2, "theta_1pt": 0.5,
                 "acc_1pt": 0.955, "saved_1pt": 0.5}
    with pytest.raises(ValueError, match="threshold=0.7 is not in the sweep"):
        sweep_summary(ROWS, 0.7)
    table = sweep_table({"software": s}, 0.8)
    assert table.rows[0] == ("software", "96.2 %", "96.0 %", "8.00", "20.0 %", "0.5", "95.5 %", "50.0 %")
    assert table.rows[1][0].startswith("paper") and table.rows[1][4] == "77.0 % (max)"
    assert PAPER_LOAD_SAVED_NMNIST == 0.770
    assert sweep_rows_table({"a": ROWS[:1]}).rows == (("a", "0.3", "90.0 %", "3.00", "70.0 %"),)


def test_timing_thresholds_are_sorted_unique_and_never_one():
    assert timing_thresholds(0.8, (0.5, 1.0, 0.7)) == (0.3, 0.5, 0.7, 0.8)


def test_timing_summary_reads_the_rows_and_checks_the_replay():
    rows = [TimedRow(0.5, 6.0, 10.0, 0.5, 0.1), TimedRow(0.8, 9.0, 10.0, 0.2, 0.1)]
    s = timing_summary(rows, 0.8, 0.5)
    assert s["time_saved_theta"] == pytest.approx(0.1) and s["realised_theta"] == pytest.approx(0.5)
    assert s["time_saved_1pt"] == pytest.approx(0.4) and s["realised_1pt"] == pytest.approx(0.8)
    assert s["full_seconds"] == 10.0 and s["full_spread"] == 0.1
    # least-squares slope through the origin: (0.5*0.4 + 0.2*0.1) / (0.25 + 0.04)
    assert s["realised"] == pytest.approx(0.22 / 0.29)
    replayed = [SweepRow(0.5, 0.9, 5.0, 0.5), SweepRow(0.8, 0.9, 8.0, 0.2)]
    assert timing_summary(rows, 0.8, 0.5, replayed) == s
    with pytest.raises(ValueError, match="streamed run saved"):
        timing_summary(rows, 0.8, 0.5, [SweepRow(0.5, 0.9, 5.0, 0.4), SweepRow(0.8, 0.9, 8.0, 0.2)])
    none_saved = [TimedRow(0.8, 10.0, 10.0, 0.0)]
    assert math.isnan(timing_summary(none_saved, 0.8, 0.8)["realised"])
    assert timing_table({"x": rows[:1]}).rows == (("x", "0.5", "50.0 %", "40.0 %", "0.80", "10.00"),)
    assert timing_table({"x": none_saved}).rows == (("x", "0.8", "0.0 %", "0.0 %", "–", "10.00"),)


def test_class_difficulty_ranks_mean_exits_and_ignores_absent_classes():
    s = class_difficulty(torch.tensor([1, 1, 5, 5, 3]), np.array([0, 0, 1, 1, 2]), n_classes=4)
    assert s == {"easiest_digit": 0, "easiest_exit": 1.0, "hardest_digit": 1, "hardest_exit": 5.0}


def test_early_late_accuracy_and_its_sentence():
    s = early_late_accuracy(torch.tensor([1, 2, 3, 4]), torch.tensor([0, 1, 9, 9]), torch.tensor([0, 1, 2, 3]), 4)
    assert s == {"median_exit": 2.0, "acc_early": 1.0, "acc_late": 0.0, "frac_T": 0.25, "late_worse": 1.0,
                 "n_early": 2, "n_late": 2, "correct_early": 2, "correct_late": 0}
    # two samples per group: Wilson intervals 34.2-100 % and 0-65.8 % overlap, so no claim of "go together"
    assert describe_difficulty(s).startswith("Late exits are less accurate here, but not clearly so")
    assert "100.0 % (95 % CI 34.2 to 100.0)" in describe_difficulty(s)
    many = dict(s, n_early=500, n_late=500, correct_early=500, correct_late=440, acc_late=0.88)
    assert describe_difficulty(many).startswith("Difficulty and correctness go together: the 500 samples")
    legacy = {k: s[k] for k in ("median_exit", "acc_early", "acc_late", "frac_T", "late_worse")}
    assert describe_difficulty(legacy) == ("Difficulty and correctness go together: samples that exit by the median "
                                           "step (2) are 100.0 % correct, later ones 0.0 %. The confidence is low "
                                           "where the network is often wrong, which is what a stopping rule needs.")
    s = early_late_accuracy(torch.tensor([1, 2, 3, 4]), torch.tensor([9, 9, 2, 3]), torch.tensor([0, 1, 2, 3]), 10)
    assert (s["acc_early"], s["acc_late"], s["frac_T"], s["late_worse"]) == (0.0, 1.0, 0.0, 0.0)
    assert describe_difficulty(s).startswith("Here late exits are not less accurate")
    s = early_late_accuracy(torch.tensor([3, 3]), torch.tensor([0, 1]), torch.tensor([0, 1]), 3)
    assert math.isnan(s["acc_late"]) and math.isnan(s["late_worse"]) and s["frac_T"] == 1.0
    assert describe_difficulty(s).startswith("Every sample exits by the median step")
    with pytest.raises(ValueError, match="same shape"):
        early_late_accuracy(torch.tensor([1, 2]), torch.tensor([0]), torch.tensor([0]), 2)


def test_worst_confusion_counts_by_hand():
    labels = [0, 0, 0, 1, 1, 2]
    s = worst_confusion(labels, [1, 1, 0, 1, 0, 2], [1, 0, 0, 1, 1, 2], n_classes=3)
    assert s == {"worst_true": 0, "worst_pred": 1, "worst_count_low": 2, "worst_count_full": 1, "errors_low": 3,
                 "errors_full": 1}


def test_stratified_subsample_draws_per_class_without_replacement():
    labels = np.array([0] * 5 + [1] * 2 + [2] * 4)
    index = stratified_subsample(labels, 3, seed=7, n_classes=3)
    assert np.all(np.diff(index) > 0)
    assert np.bincount(labels[index]).tolist() == [3, 2, 3]
    assert np.array_equal(index, stratified_subsample(labels, 3, seed=7, n_classes=3))
    with pytest.raises(ValueError, match="per_class=0"):
        stratified_subsample(labels, 0, seed=7)


def test_perplexity_and_neighbour_agreement():
    assert tsne_perplexity(600) == 30.0 and tsne_perplexity(10) == 3.0
    with pytest.raises(ValueError, match="n_samples=1"):
        tsne_perplexity(1)
    clusters = torch.tensor([[0.0, 0.0], [0.0, 0.1], [5.0, 5.0], [5.0, 5.1]])
    assert neighbour_agreement(clusters, torch.tensor([0, 0, 1, 1])) == 1.0
    assert neighbour_agreement(clusters, torch.tensor([0, 1, 0, 1])) == 0.0
    assert neighbour_agreement(clusters, torch.tensor([0, 0, 0, 1])) == 0.5


def test_accuracy_intervals_pair_early_stop_with_the_full_run():
    labels = np.array([0, 1, 2, 3] * 250)
    full = labels.copy()
    early = labels.copy()
    early[:20] = 9                                                # 20 answers lost, none gained
    out = accuracy_intervals(torch.as_tensor(labels), {"full": full, "theta": torch.as_tensor(early)})
    assert set(out) == {"acc_full", "acc_theta", "cost_theta"}
    assert out["acc_theta"].estimate == pytest.approx(0.98) and out["acc_theta"].n == 1000
    cost = out["cost_theta"]
    assert cost.difference == pytest.approx(-0.02) and (cost.only_a, cost.only_b) == (0, 20)
    assert cost.high < 0 and cost.p_value < 1e-5
    assert interval_cell(out["acc_theta"]) == "98.0 % (96.9 to 98.7)"
    assert difference_cell(cost).startswith("-2.0 (-2.")
    values = interval_values(out)
    assert values["acc_full_ci"] == "100.0 % (95 % CI 99.6 to 100.0)"
    assert values["cost_theta_ci"].startswith("-2.0 points (95 % CI -2.")
    with pytest.raises(ValueError, match="no 'full' entry"):
        accuracy_intervals(labels, {"theta": early})
    with pytest.raises(ValueError, match="shape"):
        accuracy_intervals(labels, {"full": full, "theta": early[:10]})


def test_costs_and_gaps_in_words():
    same = paired_difference([True, False, True], [True, False, True])
    assert describe_cost(same) == "no change (all 3 test samples get the same answer as at full T)"
    assert difference_cell(same) == "0 (same answers)"
    a = np.array([True] * 900 + [False] * 100)
    b = a.copy()
    b[:30] = False                                                # A right on 30 more samples
    clear = paired_difference(a, b)
    assert describe_gap(clear, "A", "B").endswith("a difference this test set resolves, although one trained "
                                                  "network per method says nothing about how much it varies "
                                                  "between training seeds.")
    c = a.copy()
    c[:2] = False
    unclear = paired_difference(a, c)
    assert describe_gap(unclear, "A", "B").endswith("a difference this test set cannot tell from zero.")
    assert describe_gap(same, "A", "B") == "At full T, A and B give the same answer on every test sample."
    assert within_point_sentence({"net": unclear}).startswith("The paired intervals of these costs stay within 1")
    assert "beyond 1 point for the net" in within_point_sentence({"net": paired_difference(b, a)})


def test_tables_and_helpers_for_the_chapter_text():
    rows = ROWS
    assert sweep_bands(rows[:1], 100)[0] == pytest.approx((0.8256, 0.9448), abs=1e-4)
    wide = sweep_wide_table({"a": rows, "b": rows})
    assert wide.header == ("θ", "a: accuracy", "saved", "b: accuracy", "saved")
    assert wide.rows[0] == ("0.3", "90.0 %", "70.0 %", "90.0 %", "70.0 %")
    with pytest.raises(ValueError, match="other thresholds"):
        sweep_wide_table({"a": rows, "b": rows[1:]})
    labels = np.arange(10) % 2
    intervals = accuracy_intervals(labels, {"full": labels, "theta": labels, "1pt": 1 - labels})
    table = summary_table({"net": sweep_summary(rows, 0.8)}, {"net": intervals}, 0.8)
    assert table.header == ("", "net")
    assert table.column("net")[:5] == ("100.0 % (72.2 to 100.0)", "100.0 % (72.2 to 100.0)", "0 (same answers)",
                                      "8.00", "20.0 %")
    with pytest.raises(ValueError, match="no entry for"):
        summary_table({"net": sweep_summary(rows, 0.8)}, {}, 0.8)
    assert as_percent({"a": 0.5, "b": 3.0}, "a") == {"a": 50.0, "b": 3.0}
    with pytest.raises(ValueError, match="not in values"):
        as_percent({"a": 0.5}, "c")
    assert realised_sentence({"x": 0.9, "y": 0.6}) == "The saving is real."
    assert "for the y" in realised_sentence({"x": 0.9, "y": float("nan")})
