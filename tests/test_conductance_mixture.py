"""Gaussian mixtures chosen by BIC: hand-made samples of known components, and the device model's cells.

Tolerances are four standard errors of the sample: sigma / sqrt(n) for a mean, sigma / sqrt(2 n) for a
standard deviation, sqrt(p (1 - p) / n) for a component's weight.
"""

import math

import numpy as np
import pytest
import torch

from primekit.chip import memristor
from primekit.chip.memristor import MemristorConfig, Pairs
from primekit.experiments import conductance_mixture as cm


def sample(*components, seed=0):
    """Concatenated normal samples, one ``(n, mean, std)`` per component."""
    generator = np.random.default_rng(seed)
    return np.concatenate([generator.normal(mean, std, n) for n, mean, std in components])


def test_two_separated_gaussians_give_two_components_and_their_means():
    n1, n2 = 1500, 500
    fit = cm.fit_mixture(sample((n1, 5.0, 1.0), (n2, 25.0, 2.0), seed=1))
    assert fit.components == 2 and fit.n_values == n1 + n2
    assert fit.bic[1] == min(fit.bic) and len(fit.bic) == 4
    assert fit.means[0] == pytest.approx(5.0, abs=4 * 1.0 / math.sqrt(n1))
    assert fit.means[1] == pytest.approx(25.0, abs=4 * 2.0 / math.sqrt(n2))
    assert fit.stds[0] == pytest.approx(1.0, abs=4 * 1.0 / math.sqrt(2 * n1))
    assert fit.stds[1] == pytest.approx(2.0, abs=4 * 2.0 / math.sqrt(2 * n2))
    p = n1 / (n1 + n2)
    assert fit.weights[0] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / (n1 + n2)))
    assert sum(fit.weights) == pytest.approx(1.0)


def test_one_gaussian_gives_one_component():
    n = 2000
    fit = cm.fit_mixture(torch.as_tensor(sample((n, 20.0, 4.5), seed=2)))   # a tensor works as well
    assert fit.components == 1 and fit.weights == (1.0,)
    assert fit.means[0] == pytest.approx(20.0, abs=4 * 4.5 / math.sqrt(n))
    assert fit.stds[0] == pytest.approx(4.5, abs=4 * 4.5 / math.sqrt(2 * n))


def test_the_same_seed_gives_the_same_fit():
    values = sample((300, 0.0, 1.0), (300, 6.0, 1.0), seed=3)
    assert cm.fit_mixture(values, 3, seed=5) == cm.fit_mixture(values, 3, seed=5)


@pytest.mark.parametrize("kwargs,message", [
    ({"values": [1.0] * 39 + [float("nan")]}, "values contains 1 non-finite"),
    ({"values": list(range(39))}, "values has 39 entries; max_components=4 needs at least 40"),
    ({"values": [3.0] * 50}, "all equal"),
    ({"values": list(range(50)), "max_components": 0}, "max_components=0 must be an integer from 1 to 10"),
    ({"values": list(range(50)), "max_components": True}, "max_components=True"),
    ({"values": list(range(50)), "max_components": 2.0}, "max_components=2.0"),
    ({"values": list(range(50)), "n_init": 0}, "n_init=0 must be an integer >= 1"),
    ({"values": list(range(50)), "seed": 0.5}, "seed=0.5 must be an integer"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cm.fit_mixture(**kwargs)


def test_expected_counts_by_hand():
    # 1000 values, 40 % in N(0, 1) and 60 % in N(10, 2): the bins [-1, 0) and [0, 1) hold 0.3413 of N(0, 1)
    # each, and of N(10, 2) the bin [0, 1) holds Phi(-4.5) - Phi(-5)
    fit = cm.MixtureFit(means=(0.0, 10.0), stds=(1.0, 2.0), weights=(0.4, 0.6), bic=(5.0, 1.0), n_values=1000)
    counts = fit.expected_counts([-1.0, 0.0, 1.0])

    def phi(z):
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    assert counts.shape == (2, 2)
    assert np.allclose(counts[0], 400 * (phi(1) - 0.5))
    assert counts[1, 1] == pytest.approx(600 * (phi(-4.5) - phi(-5.0)))
    assert fit.expected_counts([-1e9, 1e9]).sum() == pytest.approx(1000)
    with pytest.raises(ValueError, match="edges must be increasing"):
        fit.expected_counts([1.0, 0.0])


def test_mixture_summary_names_components_from_the_lowest_mean():
    fit = cm.MixtureFit(means=(0.5, 20.0), stds=(0.05, 4.5), weights=(0.3, 0.7), bic=(90.0, 10.0, 14.0),
                        n_values=200)
    s = cm.mixture_summary(fit)
    assert s["components"] == 2 and s["values"] == 200
    assert (s["mean_1"], s["std_2"], s["weight_2"]) == (0.5, 4.5, 0.7)
    assert s["bic_3"] == 14.0 and s["bic_margin"] == 4.0                # runner-up 14 against 10
    assert s["bic_penalty"] == pytest.approx(3 * math.log(200))
    assert cm.mixture_summary(cm.MixtureFit((1.0,), (1.0,), (1.0,), (7.0,), 20))["bic_margin"] == 0.0


def test_joint_summary_and_first_pairs_by_hand():
    g_plus, g_minus = torch.tensor([1.0, 2.0, 3.0, 0.5]), torch.tensor([2.0, 4.0, 6.0, 0.6])
    pairs = Pairs(g_plus, g_minus, reset=torch.tensor([False, False, False, True]))
    s = cm.joint_summary(pairs)
    assert (s["pairs"], s["reset"], s["kept"]) == (4, 1, 3)
    assert s["corr"] == pytest.approx(1.0) and s["reset_max_us"] == pytest.approx(0.6)
    assert s["corr_se"] == pytest.approx(1 / math.sqrt(2))
    assert math.isnan(cm.joint_summary(Pairs(g_plus, -g_plus))["reset_max_us"])
    with pytest.raises(ValueError, match="1 pairs that are not RESET"):
        cm.joint_summary(Pairs(g_plus, g_minus, reset=torch.tensor([True, True, False, True])))
    first = cm.first_pairs(Pairs(torch.arange(6.0).reshape(2, 3), torch.zeros(2, 3)), 4)
    assert first.g_plus.tolist() == [0.0, 1.0, 2.0, 3.0] and first.reset is None
    with pytest.raises(ValueError, match="n=7 must be an integer from 1 to the array's 6 pairs"):
        cm.first_pairs(Pairs(torch.zeros(2, 3), torch.zeros(2, 3)), 7)
    assert torch.equal(cm.pair_cells(pairs), torch.cat([g_plus, g_minus]))


def test_the_default_device_is_one_gaussian_before_pruning_and_two_after():
    """The chapter's reading of its device: a single Gaussian, and RESET adds the second component."""
    config = MemristorConfig()
    before = memristor.form((48, 48), config, seed=4)
    keep = torch.rand(48, 48, generator=torch.Generator().manual_seed(5)) < 0.5
    after = memristor.reset_pruned(before, keep, config, seed=6)
    n = 2 * before.g_plus.numel()
    fit_before = cm.fit_mixture(cm.pair_cells(before), seed=7)
    assert fit_before.components == 1
    assert fit_before.means[0] == pytest.approx(config.g_mean_us, abs=4 * config.g_formed_spread_us / math.sqrt(n))
    fit_after = cm.fit_mixture(cm.pair_cells(after), seed=7)
    n_kept = 2 * int(keep.sum())
    assert fit_after.components == 2
    assert fit_after.means[0] == pytest.approx(config.g_reset_us, abs=4 * config.g_reset_spread_us / math.sqrt(n - n_kept))
    assert fit_after.means[1] == pytest.approx(config.g_mean_us, abs=4 * config.g_formed_spread_us / math.sqrt(n_kept))
    assert fit_after.weights[1] == pytest.approx(n_kept / n, abs=1e-3)   # the RESET cells are cleanly separated
