"""The Subnet scoring chapter's summaries on hand-made cases with known answers."""

import numpy as np
import pytest
import torch

from primekit.chip.memristor import Pairs
from primekit.experiments import method_summaries as ms
from primekit.inference.intervals import accuracy_interval, binomial_interval, paired_difference
from primekit.snn.subnet import keep_count


def test_toy_summary_found_and_not_found():
    planted = torch.tensor([True, False, True, False])
    masks = torch.tensor([[False, True, True, False], [True, False, True, False], [True, False, True, False]])
    s = ms.toy_summary([1.0, 0.5, 0.0], masks, planted)
    assert (s["wrong0"], s["wrong_end"], s["found_at"], s["flips"]) == (2, 0, 1, 2)
    assert s["found_text"] == "from step 1 on the mask is the planted subnet and the loss is 0"
    never = ms.toy_summary([1.0, 0.9], masks[:1].repeat(2, 1), planted)
    assert never["found_at"] == -1 and never["found_text"].startswith("after 1 steps 2 weights are still")
    with pytest.raises(ValueError, match="masks has shape"):
        ms.toy_summary([1.0], masks, planted)


def test_nudged_loss_change_is_zero_and_guards_the_threshold():
    scores = torch.tensor([0.1, -0.9, 0.5, 0.3])          # keep half: |S| 0.9 and 0.5; gap to 0.3 is 0.2
    weights = torch.tensor([1.0, 2.0, 3.0, 4.0])
    loss = lambda w: (w.sum() - 1.0) ** 2
    assert ms.nudged_loss_change(scores, weights, 0.5, loss, 0.05) == 0.0
    with pytest.raises(ValueError, match="eps=0.1"):
        ms.nudged_loss_change(scores, weights, 0.5, loss, 0.1)


def test_switch_sign_agreement_on_a_linear_loss():
    # L(W_eff) = sum(c * W_eff) is linear: the first-order estimate is exact, so every sign agrees
    c = torch.tensor([1.0, -2.0, 0.5])
    weights, mask = torch.tensor([1.0, 1.0, -1.0]), torch.tensor([1.0, 0.0, 1.0])
    assert ms.switch_sign_agreement(weights, mask, lambda w: (c * w).sum(), c) == 1.0
    # a wrong gradient (its negative) gets every sign wrong
    assert ms.switch_sign_agreement(weights, mask, lambda w: (c * w).sum(), -c) == 0.0


def test_authors_rule_and_keep_count_table():
    assert ms.authors_kept([0.3, -0.1, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], sparsity=0.5) == 6
    for n in (9, 10, 11, 12, 24):
        assert ms.authors_kept(np.random.default_rng(n).normal(size=n), 0.5) == keep_count(n, 0.5)
    table = ms.keep_count_table((9, 10), 0.5)
    assert table.rows == (("9", "4.0", "4", "5"), ("10", "4.5", "4", "6"))
    with pytest.raises(ValueError, match="empty"):
        ms.authors_kept([], 0.5)


def test_layer_keep_counts():
    assert ms.layer_keep_counts({"a": (2, 5), "b": (3, 3)}) == {"size_a": 10, "kept_a": 6, "size_b": 9, "kept_b": 5}


def test_method_table_and_values():
    acc = {"weight-tuning": 0.9, "random-software": 0.1}
    sec = {"weight-tuning": 120.0, "random-software": 1.5}
    assert ms.method_table(acc, sec).rows == (("Weight Tuning", "90.0 %", "120.0"), ("Random Software", "10.0 %", "1.5"))
    intervals = {m: binomial_interval(round(1000 * a), 1000) for m, a in acc.items()}
    table = ms.method_table(acc, sec, intervals)
    assert table.header[2] == "95 % interval (Wilson)"
    assert table.rows[0] == ("Weight Tuning", "90.0 %", (f"{100 * intervals['weight-tuning'].low:.1f} to "
                             f"{100 * intervals['weight-tuning'].high:.1f} %"), "120.0")
    v = ms.method_values(acc, sec, ["weight-tuning"])
    assert v == {"train_minutes_total": 2.0, "acc_weight_tuning": 0.9, "seconds_weight_tuning": 120.0,
                 "acc_random_software": 0.1, "seconds_random_software": 1.5}


def test_kept_bins_and_mask_changes():
    w = torch.tensor([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8, 0.9, -1.0])
    keep = torch.tensor([False, False, True, True, True, True, True, True, True, False])
    assert ms.kept_in_top_bin(w, keep, 5) == 0.5                 # |w| 0.9 kept, 1.0 not
    assert ms.kept_in_top_bin(w, keep, 5, smallest=True) == 0.0   # |w| 0.1 and 0.2 pruned
    with pytest.raises(ValueError, match="bins=20"):
        ms.kept_in_top_bin(w, keep, 20)
    initial = torch.ones(10, dtype=torch.bool)
    s = ms.mask_change_summary({"l": w}, {"l": keep}, {"l": initial}, 5)
    assert s == {"changed_l": pytest.approx(0.3), "topdecile_l": 0.5, "bottombin_l": 0.0}


class _Layer(torch.nn.Module):
    def __init__(self, source):
        super().__init__()
        self.weight_source = source


class _Source(torch.nn.Module):
    def __init__(self, g_plus, g_minus, reset=None):
        super().__init__()
        self.g_plus, self.g_minus, self.reset = g_plus, g_minus, reset


def test_pooled_pairs():
    model = torch.nn.Module()
    model.a = _Layer(_Source(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])))
    model.b = _Layer(_Source(torch.tensor([5.0]), torch.tensor([6.0]), torch.tensor([True])))
    both = ms.pooled_pairs(model, ["a", "b"])
    assert isinstance(both, Pairs)
    assert both.g_plus.tolist() == [1.0, 2.0, 5.0] and both.g_minus.tolist() == [3.0, 4.0, 6.0]
    assert both.reset.tolist() == [False, False, True]
    assert ms.pooled_pairs(model, ["a"]).reset is None


def test_chip_summary():
    acc = {"weight-tuning": 0.9, "software-pruning": 0.85}
    s = ms.chip_summary([0.8, 0.84, 0.82], 0.83, 4, acc)
    assert s["chip_acc"] == pytest.approx(0.82) and (s["chip_acc_min"], s["chip_acc_max"]) == (0.8, 0.84)
    assert s["gap_pp"] == pytest.approx(8.0) and s["gap_software_pp"] == pytest.approx(5.0)
    assert (s["quiet_acc"], s["quiet_changed"]) == (0.83, 4)
    with pytest.raises(ValueError, match="empty"):
        ms.chip_summary([], 0.8, 0, acc)


def test_released_comparison():
    c = ms.released_comparison(0.70, 0.65, 0.80, 0.78, "emulated N-MNIST", emulated=True)
    assert c["official_gap_pp"] == pytest.approx(-10.0)
    assert c["official_text"].endswith("released model is 10.0 percentage points below our network.")
    assert "70.0 % with equal-time frames and 65.0 % with equal-count" in c["official_text"]
    assert c["official_short"] == "it scores 70.0 % on our emulated test split"
    a, b = np.array([True] * 70 + [False] * 30), np.array([True] * 80 + [False] * 20)
    paired = ms.released_comparison(0.70, 0.65, 0.80, 0.78, "emulated N-MNIST", True, paired_difference(a, b))
    assert paired["official_text"].endswith(f"(paired on the same samples: {paired_difference(a, b)}).")
    above = ms.released_comparison(0.9, 0.9, 0.8, 0.8, "real N-MNIST", emulated=False)
    assert "above" in above["official_text"] and above["official_short"] == "it scores 90.0 % on our test split"


def test_training_time_text_follows_the_measured_times():
    text = ms.training_time_text({"weight-tuning": 285.0, "software-pruning": 391.0, "memristor-pruning": 290.0})
    assert text == ("All trained methods take the same number of steps; per step, relative to Weight Tuning, Software "
                    "Pruning took 1.4 times as long and Memristor Pruning took about as long")
    faster = ms.training_time_text({"weight-tuning": 100.0, "software-pruning": 70.0, "memristor-pruning": 100.0})
    assert "Software Pruning took 30 % less time and" in faster
    with pytest.raises(ValueError, match="positive"):
        ms.training_time_text({"weight-tuning": 0.0, "software-pruning": 1.0, "memristor-pruning": 1.0})


def test_untrained_summary_and_text_tell_below_chance_from_chance():
    labels = np.repeat(np.arange(10), 10)                      # balanced: 10 of each class
    constant = np.full(100, 6)                                  # always class 6: exactly chance
    s = ms.untrained_summary(constant, labels, 10)
    assert s["top_class"] == 6 and s["top_share"] == 1.0 and s["independent"] == pytest.approx(0.1)
    text = ms.untrained_text("R", s, binomial_interval(10, 100))
    assert text.startswith("R predicts class 6 for 100 % of the test samples") and text.endswith("learned nothing")
    # class 6 mostly, but never for the samples of class 6 itself: below chance
    wrong = np.where(labels == 6, 1, 6)
    s = ms.untrained_summary(wrong, labels, 10)
    assert s["top_recall"] == 0.0 and s["top_others"] == 1.0
    assert s["independent"] == pytest.approx(0.1)               # still 10 %: blind predictions would score it
    interval = accuracy_interval(wrong == labels)               # 0 of 100
    assert "below that" in ms.untrained_text("R", s, interval)
    assert ms.untrained_text("R", s, interval).endswith(
        "Its favourite answer, class 6, goes less often to the samples of class 6 (0 %) than to the others (100 %), "
        "which is how it falls below chance")


def test_difference_text_and_comparison_table():
    a = np.array([True] * 90 + [False] * 10)
    b = np.array([True] * 70 + [False] * 30)
    ahead = paired_difference(a, b)
    assert ms.difference_text("A", "B", ahead).startswith("A is ahead of B: +20.0 points")
    assert ms.difference_text("B", "A", paired_difference(b, a)).startswith("B is behind A")
    close = a.copy()
    close[0], close[-1] = False, True                            # one sample each way: no resolved difference
    assert ms.difference_text("A", "A'", paired_difference(a, close)).startswith("this test set cannot tell A from A'")
    table = ms.comparison_table({("A", "B"): ahead})
    assert table.rows == (("A − B", "+20.0", f"{100 * ahead.low:+.1f} to {100 * ahead.high:+.1f}",
                           f"{ahead.p_value:.2g}", "20 / 0"),)


def test_chance_verdict():
    assert ms.chance_verdict(binomial_interval(50, 1000), 0.1) == "below"
    assert ms.chance_verdict(binomial_interval(100, 1000), 0.1) == "at"
    assert ms.chance_verdict(binomial_interval(150, 1000), 0.1) == "above"


def test_agreement_text_says_exactly_only_at_zero():
    assert ms.agreement_text(0.0) == "agree exactly (their largest difference is 0)"
    assert ms.agreement_text(3.2e-8) == "agree to 3.2e-08 (float rounding)"
    with pytest.raises(ValueError, match="error"):
        ms.agreement_text(-1.0)


def test_difference_text_says_identical_answers_instead_of_zero_points():
    a = np.array([True] * 90 + [False] * 10)
    text = ms.difference_text("A", "B", paired_difference(a, a.copy()))
    assert text == "A and B give the same answer on every one of the 100 test samples"
    assert "0.0 points" not in text


def test_magnitude_texts_follow_the_bins():
    layers = ("conv0", "linear")
    prefer = {"bottombin_conv0": 0.12, "topdecile_conv0": 0.63, "bottombin_linear": 0.14, "topdecile_linear": 0.59}
    t = ms.magnitude_texts(prefer, layers)
    assert t["magnitude_text"] == ("In every layer training keeps more of the largest weights than of the smallest: "
                                   "of the weights in the bottom magnitude bin it keeps 12 % and 14 %, of those in "
                                   "the top bin 63 % and 59 % (conv0, linear)")
    assert t["top_dropped_text"] == "training drops 37 % and 41 % of the top bin"
    assert t["magnitude_notice"].startswith("Training keeps large weights preferentially (top bin: 63 % and 59 % kept")
    mixed = {**prefer, "topdecile_linear": 0.10}                  # linear keeps fewer of its largest weights
    m = ms.magnitude_texts(mixed, layers)
    assert m["magnitude_text"].startswith(
        "Training keeps more of the largest weights than of the smallest only in conv0:")
    assert "preferentially" not in m["magnitude_notice"]
    none = ms.magnitude_texts({**mixed, "topdecile_conv0": 0.05}, layers)
    assert none["magnitude_text"].startswith("In no layer does training keep more")
    whole = ms.magnitude_texts({**prefer, "topdecile_conv0": 1.0, "topdecile_linear": 1.0}, layers)
    assert whole["top_dropped_text"] == "here training happens to keep the whole top bin, as magnitude pruning would"
    with pytest.raises(ValueError, match="layers is empty"):
        ms.magnitude_texts(prefer, ())


def test_chip_text_judges_software_against_the_first_read_sequence():
    software = np.array([True] * 95 + [False] * 5)
    same = ms.chip_text([0.95, 0.96], 0.95, paired_difference(software, software.copy()))
    assert same == ("scored 95.0 % with the first read-noise sequence (95.0 % to 96.0 % over 2 read-noise "
                    "sequences), against 95.0 % in software: the same answer on every test sample")
    chip = software.copy()
    chip[:40] = False                                             # the chip loses 40 of 100 samples
    lost = ms.chip_text([0.55], 0.95, paired_difference(software, chip))
    assert lost == ("scored 55.0 % with the first read-noise sequence, against 95.0 % in software: "
                    "a loss this test set resolves")
    assert ms.chip_text([0.95], 0.55, paired_difference(chip, software)).endswith("a gain this test set resolves")
    chip = software.copy()
    chip[0], chip[-1] = False, True                               # one sample each way: unresolved
    assert ms.chip_text([0.95], 0.95, paired_difference(software, chip)).endswith("cannot tell from zero")
    with pytest.raises(ValueError, match="empty"):
        ms.chip_text([], 0.9, paired_difference(software, chip))
    summary = ms.chip_summary([0.97, 0.98], 0.97, 0, {"weight-tuning": 0.98, "software-pruning": 0.96})
    assert summary["chip_acc_first"] == 0.97


def test_deploy_table_lists_every_layer():
    from primekit.chip.deploy import DeployReport

    report = DeployReport(clipped_cells={"conv0": 0, "linear": 3}, reset_pairs={"conv0": 300, "linear": 11520},
                          pairs={"conv0": 600, "linear": 23040})
    table = ms.deploy_table(report)
    assert table.header == ("layer", "weight pairs", "pairs RESET (pruned)", "cells clipped")
    assert table.rows == (("`conv0`", "600", "300", "0"), ("`linear`", "23,040", "11,520", "3"))


def test_magnitude_texts_need_a_clear_margin_and_join_layer_names():
    changes = {"bottombin_a": 0.45, "topdecile_a": 0.50, "bottombin_b": 0.10, "topdecile_b": 0.60,
               "bottombin_c": 0.10, "topdecile_c": 0.70}
    text = ms.magnitude_texts(changes, ("a", "b", "c"))["magnitude_text"]
    assert text.startswith("Training keeps more of the largest weights than of the smallest only in b and c:")
    assert ms.magnitude_texts(changes, ("a", "b", "c"), margin=0.04)["magnitude_text"].startswith("In every layer")
