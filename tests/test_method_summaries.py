"""The Subnet scoring chapter's summaries on hand-made cases with known answers."""

import numpy as np
import pytest
import torch

from primekit.chip.memristor import Pairs
from primekit.experiments import method_summaries as ms
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
    loss = lambda w: (w.sum() - 1.0) ** 2                  # noqa: E731
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
    assert ms.method_table(acc, sec).rows == (("Weight Tuning", "90.0%", "120.0"), ("Random Software", "10.0%", "1.5"))
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
    assert "70.0% with equal-time frames and 65.0% with equal-count" in c["official_text"]
    assert c["official_short"] == "it scores 70.0% on our emulated test split"
    above = ms.released_comparison(0.9, 0.9, 0.8, 0.8, "real N-MNIST", emulated=False)
    assert "above" in above["official_text"] and above["official_short"] == "it scores 90.0% on our test split"
