"""Noise models as a seam (cell-relative, weight-relative, state-independent), programming noise per method,
and the chip transfer: checked by value against hand computations and explicit Monte Carlo."""

from __future__ import annotations

import math

import pytest
import torch

import primekit
from primekit.chip import memristor
from primekit.chip.deploy import ChipWeights, deploy, on_fresh_chip, written_pairs
from primekit.chip.memristor import NOISE_MODELS, MemristorConfig, Pairs
from primekit.snn import draws
from primekit.snn.subnet import SubnetLinear
from primekit.snn.weight_sources import GaussianWeights, LayerMap, TrainableWeights

KAPPA = MemristorConfig().weight_scale


def _pairs(shape, seed):
    """Pairs well inside the device range (10-25 uS): no draw below clips at the levels used."""
    generator = primekit.make_generator(seed)
    return Pairs(10 + 15 * torch.rand(shape, generator=generator, dtype=torch.float64),
                 10 + 15 * torch.rand(shape, generator=generator, dtype=torch.float64))


def test_weight_relative_noise_is_w_plus_sigma_w_eps_on_a_hand_sized_layer():
    pairs, level = _pairs((2, 3), seed=1), 0.2
    config = MemristorConfig(noise_model="weight-relative")
    noisy = memristor.perturb(pairs, level, primekit.make_generator(9), config)
    eps = torch.randn((2, 3), generator=primekit.make_generator(9)).double()  # drawn in float32
    w = pairs.weights(config)
    assert torch.allclose(noisy.weights(config), w + level * w * eps, rtol=0, atol=1e-12)
    # the two cells move by equal and opposite amounts: their sum (the common mode) is unchanged
    assert torch.allclose(noisy.g_plus + noisy.g_minus, pairs.g_plus + pairs.g_minus, atol=1e-12)
    # the same through a chip layer reading once per step (the batch-shared read) in a linear map
    source = ChipWeights(pairs, MemristorConfig(noise_model="weight-relative", read_noise=level,
                                                read_mode="per-step"), read_seed=4)
    x = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)
    with draws.keyed(torch.arange(1), step=3, seed=5):
        out = source.apply(x, LayerMap("linear"))
    eps_read = torch.randn((2, 3), generator=draws.shared_generator(4, 3, 5)).double()
    assert torch.allclose(out, x @ (w + level * w * eps_read).T, atol=1e-12)


def test_state_independent_noise_has_a_fixed_std_in_microsiemens():
    config = MemristorConfig(noise_model="state-independent")
    g = torch.tensor([0.5, 10.0, 30.0])
    assert torch.equal(memristor.cell_noise_std(g, 0.05, config), torch.full((3,), 0.05 * config.g_mean_us))
    assert torch.equal(memristor.cell_noise_std(g, 0.05, MemristorConfig()), 0.05 * g)  # cell-relative
    with pytest.raises(ValueError, match="noise_model='weight-relative' acts on weights"):
        memristor.cell_noise_std(g, 0.05, MemristorConfig(noise_model="weight-relative"))
    pairs = _pairs((3, 4), seed=2)
    variance = memristor.weight_noise_variance(pairs, 0.05, config)
    assert torch.allclose(variance, torch.full((3, 4), 2 * (KAPPA * 0.05 * config.g_mean_us) ** 2, dtype=torch.float64))


@pytest.mark.parametrize("noise_model", NOISE_MODELS)
def test_perturbation_has_the_model_variance(noise_model):
    """Many draws of one array: the empirical variance of every weight matches weight_noise_variance."""
    config, level, n = MemristorConfig(noise_model=noise_model), 0.1, 4000
    pairs = _pairs((2, 3), seed=3)
    generator = primekit.make_generator(11)
    weights = torch.stack([memristor.perturb(pairs, level, generator, config).weights(config) for _ in range(n)])
    expected = memristor.weight_noise_variance(pairs, level, config)
    assert ((weights.mean(0) - pairs.weights(config)).abs() < 5 * (expected / n).sqrt()).all()
    assert ((weights.var(0) - expected).abs() < 5 * math.sqrt(2 / (n - 1)) * expected).all()


@pytest.mark.parametrize("noise_model", NOISE_MODELS)
@pytest.mark.parametrize("read_mode", ["per-sample", "per-step"])
def test_zero_noise_is_exactly_noiseless_under_every_model(noise_model, read_mode):
    layer = SubnetLinear(GaussianWeights((6, 8), seed=2), keep_ratio=0.5, score_seed=1)
    x = torch.rand(4, 3, 8)
    reference, _ = deploy(layer, MemristorConfig(), seed=0)
    config = MemristorConfig(noise_model=noise_model, read_mode=read_mode)
    chip, _ = deploy(layer, config, seed=0)
    assert torch.equal(chip.weight_source.g_plus, reference.weight_source.g_plus)
    assert torch.equal(chip(x), reference(x))
    pairs = _pairs((3, 3), seed=4)
    assert memristor.program(pairs, config, seed=1) is pairs
    assert memristor.read(pairs, config, primekit.make_generator(0)) is pairs


@pytest.mark.parametrize("noise_model", ["weight-relative", "state-independent"])
def test_per_sample_read_matches_a_monte_carlo_of_reads(noise_model):
    """The mean + Gaussian current of the per-sample read against n explicit reads of the array."""
    level, n = 0.1, 20000
    pairs = _pairs((4, 6), seed=5)
    mask = torch.tensor([[1, 1, 0, 1, 1, 1]] * 4, dtype=torch.float64)
    config = MemristorConfig(read_noise=level, noise_model=noise_model)
    source = ChipWeights(Pairs(pairs.g_plus.float(), pairs.g_minus.float()), config, read_seed=5)
    x = torch.tensor([0.5, -1.0, 2.0, 1.5, 0.0, 3.0])
    with draws.keyed(torch.arange(n), step=2, seed=7):
        keyed = source.apply(x.expand(n, 6), LayerMap("linear"), mask.float()).double()
    generator = primekit.make_generator(3)
    explicit = torch.stack([memristor.perturb(pairs, level, generator, config).weights(config) for _ in range(n)])
    by_hand = torch.einsum("i,noi->no", x.double(), explicit * mask)
    mean = x.double() @ (pairs.weights(config) * mask).T
    variance = (x.double() ** 2) @ (memristor.weight_noise_variance(pairs, level, config) * mask).T
    for sample in (keyed, by_hand):
        assert ((sample.mean(0) - mean).abs() < 5 * (variance / n).sqrt()).all()
        assert ((sample.var(0) - variance).abs() < 5 * math.sqrt(2 / (n - 1)) * variance).all()


def _memristor_pruned(seed=3):
    """A memristor-pruned layer: formed conductances, scores choosing half of them."""
    return SubnetLinear(ChipWeights(memristor.form((20, 30), MemristorConfig(), seed=seed)), 0.5, score_seed=2)


@pytest.mark.parametrize("noise_model", NOISE_MODELS)
def test_programming_noise_moves_only_the_reset_pairs_of_memristor_pruning(noise_model):
    layer = _memristor_pruned()
    keep = layer.keep_mask()
    deployed = [deploy(layer, MemristorConfig(programming_noise=level, noise_model=noise_model), seed=4)[0]
                for level in (0.0, 0.1, 0.2)]
    cells = [(d.weight_source.g_plus, d.weight_source.g_minus) for d in deployed]
    formed = layer.weight_source
    for g_plus, g_minus in cells:  # kept cells bit-identical to the formed ones at every level
        assert torch.equal(g_plus[keep], formed.g_plus[keep]) and torch.equal(g_minus[keep], formed.g_minus[keep])
    # the RESET pairs are written: their residual moves with the level, twice as far at twice the level
    # (weight-relative: relative to the tiny RESET weight)
    moved = [(g - cells[0][0])[~keep] for g, _ in cells[1:]]
    assert (moved[0] != 0).all()
    if noise_model != "state-independent":  # 2 uS of noise on 0.5 uS RESET cells clips at 0 uS
        assert torch.allclose(moved[1], 2 * moved[0], atol=1e-5)


def test_every_cell_programming_moves_the_kept_formed_cells_too():
    layer = _memristor_pruned()
    keep = layer.keep_mask()
    config = MemristorConfig(programming_noise=0.1, programming_targets="every-cell")
    chip, _ = deploy(layer, config, seed=4)
    assert not torch.equal(chip.weight_source.g_plus[keep], layer.weight_source.g_plus[keep])
    assert written_pairs(layer.weight_source, keep, config) is None
    assert torch.equal(written_pairs(layer.weight_source, keep, MemristorConfig()), ~keep)


def test_mapped_weights_are_written_everywhere():
    layer = SubnetLinear(TrainableWeights(0.05 * torch.randn(10, 12, generator=primekit.make_generator(1))), 1.0)
    quiet, _ = deploy(layer, MemristorConfig(), seed=4)
    noisy, _ = deploy(layer, MemristorConfig(programming_noise=0.1), seed=4)
    assert (noisy.weight_source.g_plus != quiet.weight_source.g_plus).all()
    assert written_pairs(layer.weight_source, None, MemristorConfig()) is None


def test_a_fresh_chip_keeps_the_topology_and_replaces_the_conductances():
    layer = _memristor_pruned()
    fresh = on_fresh_chip(layer, seed=8)
    assert torch.equal(fresh.keep_mask(), layer.keep_mask())
    assert not torch.equal(fresh.weight_source.g_plus, layer.weight_source.g_plus)
    again = on_fresh_chip(layer, seed=8)
    assert torch.equal(fresh.weight_source.g_plus, again.weight_source.g_plus)
    expected = memristor.form((20, 30), MemristorConfig(), primekit.derive_seed(8, "chip", ""))
    assert torch.equal(fresh.weight_source.g_plus, expected.g_plus)
    # the same device: the fresh weights have the formed spread (std of G+ - G- is sqrt(2) 4.5 uS)
    spread = fresh.weight_source.read().std().item() / KAPPA
    assert abs(spread - math.sqrt(2) * MemristorConfig().g_formed_spread_us) < 5 * 6.4 / math.sqrt(2 * 600)
    with pytest.raises(ValueError, match="already deployed"):
        on_fresh_chip(deploy(layer, MemristorConfig(), seed=0)[0], seed=1)
    with pytest.raises(ValueError, match="no as-formed chip layer"):
        on_fresh_chip(SubnetLinear(GaussianWeights((3, 4)), 0.5), seed=1)


@pytest.mark.parametrize("field, value, message", [
    ("noise_model", "relative", r"noise_model='relative' must be one of \('cell-relative'"),
    ("programming_targets", "kept", r"programming_targets='kept' must be one of \('written', 'every-cell'\)"),
    ("read_noise", math.inf, r"read_noise=inf must be a finite number >= 0"),
    ("programming_noise", math.nan, r"programming_noise=nan must be"),
])
def test_bad_noise_settings_are_refused_by_name(field, value, message):
    with pytest.raises(ValueError, match=message):
        MemristorConfig(**{field: value})


def test_per_sample_read_with_gradients_gives_the_values_of_the_fast_pass():
    source = ChipWeights(memristor.form((5, 7), MemristorConfig(), seed=1), MemristorConfig(read_noise=0.1),
                         read_seed=3)
    x = torch.rand(4, 7, generator=primekit.make_generator(2))
    with draws.keyed(torch.tensor([8, 1, 5, 0]), step=2, seed=4):
        with torch.no_grad():
            fast = source.apply(x, LayerMap("linear"))
        slow = source.apply(x.clone().requires_grad_(), LayerMap("linear"))
    assert slow.requires_grad and torch.allclose(slow.detach(), fast, rtol=0, atol=1e-6)
    assert not torch.equal(fast, source.apply(x, LayerMap("linear")))  # other keys (outside the block): other reads
