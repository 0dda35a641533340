"""The top-k mask against the authors' percentile rule, its straight-through gradient, frozen weights."""

from __future__ import annotations

import pytest
import torch

import primekit
from primekit.snn.subnet import (
    SubnetConv2d,
    SubnetLinear,
    init_scores,
    keep_count,
    kept_fractions,
    topk_mask,
)
from primekit.snn.weight_sources import GaussianWeights, TrainableWeights


def authors_mask(scores: torch.Tensor, sparsity: float) -> torch.Tensor:
    """The authors' GetSubnet: keep |S| >= the k-th smallest, k = 1 + round(sparsity * (n - 1))."""
    magnitudes = scores.abs().reshape(-1)
    k = 1 + round(sparsity * (magnitudes.numel() - 1))
    threshold = magnitudes.kthvalue(k).values.item()
    return (scores.abs() >= threshold).float()


def test_keep_count_is_the_authors_count_with_round_half_even():
    assert keep_count(10, 0.5) == 6  # round(0.5 * 9) = round(4.5) = 4 (half to even): 10 - 4
    assert keep_count(12, 0.5) == 6  # round(5.5) = 6
    assert keep_count(7, 1.0) == 7 and keep_count(7, 1e-9) == 1
    assert keep_count(1, 0.5) == 1


@pytest.mark.parametrize("shape", [(10,), (12, 2, 5, 5), (10, 2304), (3, 7)])
@pytest.mark.parametrize("keep_ratio", [0.5, 0.3, 0.9, 0.05])
def test_mask_equals_the_authors_rule_on_distinct_scores(shape, keep_ratio):
    scores = torch.randn(shape, generator=primekit.make_generator(1))
    ours = topk_mask(scores, keep_ratio)
    assert torch.equal(ours, authors_mask(scores, 1.0 - keep_ratio))
    assert int(ours.sum()) == keep_count(scores.numel(), keep_ratio)


def test_ties_at_the_threshold_are_broken_by_index():
    scores = torch.tensor([0.5, -1.0, 1.0, 1.0, 1.0, 2.0])
    # keep 6 - round(0.5 * 5) = 6 - 2 = 4: prune 0.5 and the first of the tied |S| = 1.0 (index 1)
    assert topk_mask(scores, 0.5).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    # the authors' rule keeps every tie (5 weights) here; ours keeps exactly the count
    assert authors_mask(scores, 0.5).sum().item() == 5


def test_score_gradient_is_sign_times_weight_times_upstream_gradient():
    weights = GaussianWeights((4, 6), seed=2)
    layer = SubnetLinear(weights, keep_ratio=0.5, score_seed=3)
    x = torch.randn(5, 6, generator=primekit.make_generator(4))
    target = torch.randn(5, 4, generator=primekit.make_generator(5))

    w_eff = layer.effective_weight()
    w_eff.retain_grad()
    loss = ((torch.nn.functional.linear(x, w_eff) - target) ** 2).sum()
    loss.backward()
    expected = torch.sign(layer.scores.detach()) * weights.read() * w_eff.grad
    assert torch.allclose(layer.scores.grad, expected, atol=1e-7)
    # and the explicit formula by hand: dL/dW_eff = 2 (x W_eff^T - target)^T x
    by_hand = 2 * (x @ w_eff.detach().T - target).T @ x
    assert torch.allclose(w_eff.grad, by_hand, atol=1e-5)


def test_scores_are_kaiming_uniform():
    scores = init_scores((64, 12, 5, 5), seed=0)
    bound = 1 / (12 * 25) ** 0.5
    assert scores.abs().max() <= bound and scores.abs().max() > 0.99 * bound
    reference = torch.empty(64, 12, 5, 5)
    torch.nn.init.kaiming_uniform_(reference, a=5 ** 0.5)
    assert abs(scores.std().item() - reference.std().item()) < 0.03 * reference.std().item()


def test_frozen_weights_stay_bit_identical_while_scores_train():
    layer = SubnetConv2d(GaussianWeights((8, 2, 3, 3), seed=6), keep_ratio=0.5, score_seed=7, padding=1)
    before_w, before_s = layer.weight_source.read().clone(), layer.scores.detach().clone()
    optimizer = torch.optim.Adam([p for p in layer.parameters() if p.requires_grad], lr=1e-2, weight_decay=5e-4)
    x = torch.randn(4, 2, 6, 6, generator=primekit.make_generator(8))
    for _ in range(5):
        optimizer.zero_grad()
        layer(x).pow(2).mean().backward()
        optimizer.step()
    assert torch.equal(layer.weight_source.read(), before_w)
    assert not torch.equal(layer.scores.detach(), before_s)
    assert [n for n, p in layer.named_parameters() if p.requires_grad] == ["scores"]


def test_keep_ratio_one_is_plain_weight_tuning():
    layer = SubnetLinear(TrainableWeights(torch.ones(3, 2)), keep_ratio=1.0)
    assert layer.scores is None and layer.keep_mask() is None and layer.kept_fraction() == 1.0
    assert torch.equal(layer.effective_weight(), torch.ones(3, 2))


def test_kept_fraction_report():
    model = torch.nn.Sequential(SubnetLinear(GaussianWeights((10, 10)), 0.5),
                                SubnetLinear(GaussianWeights((3, 10)), 0.2))
    fractions = kept_fractions(model)
    assert fractions == {"0": keep_count(100, 0.5) / 100, "1": keep_count(30, 0.2) / 30}


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5, True, "half"])
def test_bad_keep_ratio_raises(bad):
    with pytest.raises(ValueError, match=r"keep_ratio=.* must be in \(0, 1\]"):
        SubnetLinear(GaussianWeights((2, 2)), bad)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match=r"a conv2d weight is \[out, in, k, k\]"):
        SubnetConv2d(GaussianWeights((3, 3)))
    with pytest.raises(ValueError, match=r"a linear weight is \[out, in\]"):
        SubnetLinear(GaussianWeights((3, 3, 1, 1)))


def _fresh_output(layer, x):
    """The layer's output with a mask computed now from its scores (no cache)."""
    return torch.nn.functional.linear(x, layer.weight_source.read() * layer.keep_mask().float())


@pytest.mark.parametrize("how", ["in place", "data assignment", "vector_to_parameters", "indexing", "load_state_dict",
                                 "optimizer step"])
def test_the_mask_follows_the_scores_however_they_change(how):
    from primekit.snn.weight_sources import GaussianWeights

    layer = SubnetLinear(GaussianWeights((6, 8), seed=1), keep_ratio=0.5, score_seed=2)
    x = torch.rand(3, 8, generator=primekit.make_generator(3))
    with torch.no_grad():
        before = layer(x)                                   # fills the cache
    new = torch.randn(6, 8, generator=primekit.make_generator(4))
    if how == "in place":
        layer.scores.data.copy_(new)
    elif how == "data assignment":
        layer.scores.data = new
    elif how == "vector_to_parameters":
        torch.nn.utils.vector_to_parameters(new.flatten(), [layer.scores])
    elif how == "indexing":
        with torch.no_grad():
            layer.scores[:] = new
    elif how == "load_state_dict":
        layer.load_state_dict({**layer.state_dict(), "scores": new})
    else:
        optimizer = torch.optim.SGD([layer.scores], lr=100.0)
        layer(x).sum().backward()
        optimizer.step()
    with torch.no_grad():
        after = layer(x)
    assert not torch.equal(after, before)                  # the new scores choose another subnet
    assert torch.equal(after, _fresh_output(layer, x))
    assert torch.equal(layer.mask().bool(), layer.keep_mask())
