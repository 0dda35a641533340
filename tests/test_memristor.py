"""Device model: statistics with tolerances from the sample size, exact identities, and bad input."""

from __future__ import annotations

import math

import pytest
import torch

from primekit.chip import memristor
from primekit.chip.memristor import MemristorConfig, Pairs
from primekit.seeding import make_generator

CONFIG = MemristorConfig()
N = 200_000  # cells per statistic: standard errors below 1 % of the spread


def within(value, expected, standard_error, k=5.0):
    """|value - expected| < k standard errors (k = 5: a false alarm about once in 2 million runs)."""
    return abs(value - expected) < k * standard_error


def test_formed_cells_are_quasi_normal_with_the_configured_spread():
    pairs = memristor.form((N,), CONFIG, seed=0)
    sigma = CONFIG.g_formed_spread_us
    for g in (pairs.g_plus, pairs.g_minus):
        assert within(g.mean().item(), CONFIG.g_mean_us, sigma / math.sqrt(N))
        assert within(g.std().item(), sigma, sigma / math.sqrt(2 * N))
        assert g.min() >= CONFIG.g_min_us and g.max() <= CONFIG.g_max_us
    weights = pairs.weights(CONFIG)
    weight_sigma = CONFIG.weight_scale * math.sqrt(2) * sigma  # ~ 0.0636, the authors' 0.01 * 6.352
    assert within(weights.std().item(), weight_sigma, weight_sigma / math.sqrt(2 * N))
    assert abs(weight_sigma / CONFIG.weight_scale - 6.352) < 0.02


def test_same_seed_same_chip_other_seed_other_chip():
    a, b, c = (memristor.form((64, 32), CONFIG, seed=s) for s in (5, 5, 6))
    assert torch.equal(a.g_plus, b.g_plus) and torch.equal(a.g_minus, b.g_minus)
    assert not torch.equal(a.g_plus, c.g_plus)


def test_reprogramming_cycles_separate_device_and_cycle_spread():
    cells, cycles = 2000, 400
    g = memristor.reprogram_cycles(cells, cycles, CONFIG, seed=1)
    assert g.shape == (cycles, cells)
    per_cell_mean, per_cell_std = g.mean(dim=0), g.std(dim=0)
    # across cells, the means spread by the device part (plus a little cycle noise: c / sqrt(cycles))
    expected_mean_spread = math.hypot(CONFIG.g_device_spread_us, CONFIG.g_cycle_spread_us / math.sqrt(cycles))
    assert within(per_cell_mean.std().item(), expected_mean_spread, expected_mean_spread / math.sqrt(2 * cells))
    # within a cell, the std over cycles is the cycle part
    assert within(per_cell_std.mean().item(), CONFIG.g_cycle_spread_us,
                  CONFIG.g_cycle_spread_us / math.sqrt(2 * cycles) / math.sqrt(cells))


def test_reset_pairs_hold_a_small_nonzero_residual_and_kept_pairs_are_untouched():
    pairs = memristor.form((N,), CONFIG, seed=2)
    keep = torch.arange(N) % 2 == 0
    after = memristor.reset_pruned(pairs, keep, CONFIG, seed=3)
    assert torch.equal(after.g_plus[keep], pairs.g_plus[keep])
    assert torch.equal(after.g_minus[keep], pairs.g_minus[keep])
    assert torch.equal(after.reset, ~keep)
    residual = after.weights(CONFIG)[~keep]
    residual_sigma = CONFIG.weight_scale * math.sqrt(2) * CONFIG.g_reset_spread_us
    # stated bound: 6 standard deviations of the residual, far below the formed weights' spread
    assert residual.abs().max() < 6 * residual_sigma < 0.1 * after.weights(CONFIG)[keep].std()
    assert within(residual.std().item(), residual_sigma, residual_sigma / math.sqrt(N))
    assert (residual != 0).float().mean() > 0.99  # a residual, not exact zeros
    reset_cells = torch.cat([after.g_plus[~keep], after.g_minus[~keep]])
    assert within(reset_cells.mean().item(), CONFIG.g_reset_us, CONFIG.g_reset_spread_us / math.sqrt(N))


def test_zero_noise_is_the_identity():
    pairs = memristor.form((50, 20), CONFIG, seed=4)
    programmed = memristor.program(pairs, CONFIG, seed=9)
    read = memristor.read(pairs, CONFIG, make_generator(0))
    for other in (programmed, read):
        assert torch.equal(other.g_plus, pairs.g_plus) and torch.equal(other.g_minus, pairs.g_minus)


@pytest.mark.parametrize("level", [0.02, 0.1, 0.2])
def test_programming_noise_is_relative_per_cell_and_fixed_per_chip(level):
    pairs = memristor.form((N,), CONFIG, seed=5)
    config = CONFIG.with_noise(programming=level)
    a = memristor.program(pairs, config, seed=7)
    b = memristor.program(pairs, config, seed=7)
    assert torch.equal(a.g_plus, b.g_plus)  # the same chip seed: the same deviations
    positive = (pairs.g_plus > 0) & (pairs.g_minus > 0)  # a cell clipped to 0 uS has no relative error
    relative = (a.g_plus / pairs.g_plus - 1)[positive]
    assert within(relative.std().item(), level, level / math.sqrt(2 * N))
    assert within(relative.mean().item(), 0.0, level / math.sqrt(N))
    # G+ and G- get independent deviations
    corr = torch.corrcoef(torch.stack([relative, (a.g_minus / pairs.g_minus - 1)[positive]]))[0, 1].item()
    assert within(corr, 0.0, 1 / math.sqrt(N))


def test_read_noise_changes_every_read_with_the_configured_level():
    pairs = memristor.form((N,), CONFIG, seed=6)
    config = CONFIG.with_noise(read=0.05)
    generator = make_generator(11)
    first, second = (memristor.read(pairs, config, generator) for _ in range(2))
    assert not torch.equal(first.g_plus, second.g_plus)
    positive = pairs.g_plus > 0
    relative = (first.g_plus / pairs.g_plus - 1)[positive]
    assert within(relative.std().item(), 0.05, 0.05 / math.sqrt(2 * N))


def test_crossbar_product_by_hand():
    # 3 rows (inputs) x 2 columns (outputs); currents in uA = V x uS
    pairs = Pairs(torch.tensor([[10.0, 20.0], [30.0, 5.0], [0.5, 40.0]]),
                  torch.tensor([[20.0, 10.0], [10.0, 5.0], [0.5, 0.0]]))
    v = torch.tensor([0.2, 0.1, 0.3])
    # column 0: 0.2*(10-20) + 0.1*(30-10) + 0.3*(0.5-0.5) = -2 + 2 + 0 = 0
    # column 1: 0.2*(20-10) + 0.1*(5-5) + 0.3*(40-0) = 2 + 0 + 12 = 14
    assert torch.allclose(memristor.crossbar_currents(v, pairs), torch.tensor([0.0, 14.0]), atol=1e-6)
    batch = torch.stack([v, 2 * v])
    assert torch.allclose(memristor.crossbar_currents(batch, pairs), torch.tensor([[0.0, 14.0], [0.0, 28.0]]),
                          atol=1e-5)


def test_ideal_crossbar_equals_the_matrix_product_of_its_weights():
    # in float64 the two paths agree to rounding (float32 would lose digits subtracting two ~640 uA sums)
    formed = memristor.form((64, 10), CONFIG, seed=8)
    pairs = Pairs(formed.g_plus.double(), formed.g_minus.double())
    v = torch.rand(5, 64, generator=make_generator(1), dtype=torch.float64)
    currents = memristor.crossbar_currents(v, pairs)
    assert torch.allclose(CONFIG.weight_scale * currents, v @ pairs.weights(CONFIG), rtol=1e-12, atol=1e-12)


def test_weights_map_to_pairs_and_back_and_clipping_is_counted():
    w = torch.linspace(-0.3, 0.3, 101)
    pairs, clipped = memristor.weights_to_pairs(w, CONFIG)
    assert clipped == 0
    assert torch.allclose(pairs.weights(CONFIG), w, atol=1e-6)
    assert torch.allclose(pairs.g_plus + pairs.g_minus, torch.full_like(w, 2 * CONFIG.g_mid_us))
    too_big = torch.tensor([0.0, 0.5, -0.5])  # needs +/- 25 uS around 20: beyond [0, 40]
    pairs, clipped = memristor.weights_to_pairs(too_big, CONFIG)
    assert clipped == 4
    assert pairs.g_plus.max() == CONFIG.g_max_us and pairs.g_minus.min() == CONFIG.g_min_us


def test_equivalent_weight_noise_matches_monte_carlo():
    pairs = memristor.form((N,), CONFIG, seed=9)
    level = 0.05
    predicted = memristor.equivalent_weight_noise(pairs, level, CONFIG)
    noisy = memristor.program(pairs, CONFIG.with_noise(programming=level), seed=10)
    measured = ((noisy.weights(CONFIG) - pairs.weights(CONFIG)).std() / pairs.weights(CONFIG).std()).item()
    assert within(measured, predicted, predicted / math.sqrt(2 * N))
    # about level * sqrt(mean^2 + s^2) / s: 5 % of each cell is ~ 23 % of the weights' spread
    s = CONFIG.g_formed_spread_us
    assert abs(predicted - level * math.hypot(CONFIG.g_mean_us, s) / s) < 0.01


@pytest.mark.parametrize("field, value, message", [
    ("read_noise", -0.1, r"read_noise=-0\.1 must be a finite number >= 0"),
    ("programming_noise", -1.0, r"programming_noise=-1\.0 must be a finite number >= 0"),
    ("g_cycle_spread_us", -2.0, r"g_cycle_spread_us=-2\.0 must be a finite number >= 0"),
    ("g_mean_us", 50.0, r"g_mean_us=50\.0 must lie in the device range \[0\.0, 40\.0\] uS"),
    ("g_reset_us", -0.5, r"g_reset_us=-0\.5 must lie in the device range"),
    ("g_max_us", 0.0, r"g_max_us=0\.0 must be > g_min_us=0\.0"),
    ("weight_scale", 0.0, r"weight_scale=0\.0 must be a finite number > 0"),
    ("read_noise", True, r"read_noise=True must be a finite number >= 0"),
])
def test_bad_device_parameters_raise(field, value, message):
    with pytest.raises(ValueError, match=message):
        MemristorConfig(**{field: value})


def test_bad_shapes_and_levels_raise():
    pairs = memristor.form((4, 3), CONFIG)
    with pytest.raises(ValueError, match=r"keep has shape \(3, 4\) but the pairs have \(4, 3\)"):
        memristor.reset_pruned(pairs, torch.ones(3, 4, dtype=torch.bool), CONFIG)
    with pytest.raises(ValueError, match=r"voltages have 5 rows but the crossbar has 4"):
        memristor.crossbar_currents(torch.ones(5), pairs)
    with pytest.raises(ValueError, match=r"level=-0\.2 must be a finite number >= 0"):
        memristor.equivalent_weight_noise(pairs, -0.2)
    with pytest.raises(ValueError, match=r"g_plus has shape"):
        Pairs(torch.ones(2, 2), torch.ones(3))


# --- crossbar output error under read noise -------------------------------------------------------------

def spike_voltages(batch, rows, probability, seed):
    """Binary input spikes applied as read voltages (V): 0 or read_voltage_v per row."""
    spikes = torch.rand(batch, rows, generator=make_generator(seed)) < probability
    return CONFIG.read_voltage_v * spikes.double()


def test_relative_output_error_by_hand():
    ideal = torch.tensor([[3.0, -4.0]])           # RMS = sqrt((9 + 16) / 2)
    noisy = torch.tensor([[3.0, -4.0]]) + torch.tensor([[0.5, -0.5]])   # error RMS = 0.5
    assert memristor.relative_output_error(ideal, noisy) == pytest.approx(0.5 / math.sqrt(12.5), rel=1e-12)
    assert memristor.relative_output_error(ideal, ideal) == 0.0


def test_crossbar_error_is_exactly_zero_without_read_noise():
    pairs = memristor.form((32, 16), CONFIG, seed=12)
    sweep = memristor.crossbar_error_vs_read_noise(pairs, spike_voltages(8, 32, 0.3, 0), [0.0], repeats=3,
                                                   config=CONFIG, seed=1)
    assert torch.equal(sweep.errors, torch.zeros(1, 3, dtype=torch.float64))
    assert torch.equal(sweep.spread, torch.zeros(1, dtype=torch.float64))


def test_crossbar_error_is_proportional_to_the_read_noise_level():
    # a device range wide enough that no read is clipped: then G (1 + level eps) makes the error linear
    wide = MemristorConfig(g_max_us=1000.0)
    pairs = memristor.form((64, 32), wide, seed=13)
    levels = [0.01, 0.02, 0.05, 0.1, 0.2]
    sweep = memristor.crossbar_error_vs_read_noise(pairs, spike_voltages(16, 64, 0.3, 1), levels, repeats=4,
                                                   config=wide, seed=2)
    per_unit = sweep.errors / sweep.levels[:, None]          # error per unit of level, every repeat
    # (to float32 rounding: the noise factor 1 + level * eps is drawn in float32)
    assert torch.allclose(per_unit, per_unit[0].expand_as(per_unit), rtol=1e-5, atol=0)
    assert torch.allclose(sweep.spread / sweep.levels, (sweep.spread / sweep.levels)[0].expand(5), rtol=1e-5)
    # with the default 40 uS ceiling, clipping bends the line by well under 1 %
    clipped = memristor.crossbar_error_vs_read_noise(pairs, spike_voltages(16, 64, 0.3, 1), [0.02, 0.2],
                                                     repeats=4, config=CONFIG, seed=2)
    assert torch.allclose(clipped.mean[1], 10 * clipped.mean[0], rtol=0.01)


def test_crossbar_error_for_one_hot_inputs_is_the_equivalent_weight_noise():
    # one row active per input vector: the outputs are the weights themselves, so the relative output
    # error is the relative weight error, whose expectation equivalent_weight_noise gives
    rows, cols, repeats, level = 256, 256, 20, 0.05
    pairs = memristor.form((rows, cols), CONFIG, seed=14)
    one_hot = CONFIG.read_voltage_v * torch.eye(rows, dtype=torch.float64)
    sweep = memristor.crossbar_error_vs_read_noise(pairs, one_hot, [level], repeats=repeats, config=CONFIG, seed=3)
    predicted = memristor.equivalent_weight_noise(pairs, level, CONFIG)
    standard_error = sweep.spread[0].item() / math.sqrt(repeats)
    # 5 standard errors, plus 0.1 % for the difference between the weights' RMS and their std
    assert abs(sweep.mean[0].item() - predicted) < 5 * standard_error + 1e-3 * predicted
    assert 0.2 < predicted < 0.25  # 5 % of each ~20 uS cell is ~ 23 % of the 6.4 uS weight spread


def test_crossbar_error_for_spike_inputs_is_close_to_the_equivalent_weight_noise():
    # random binary inputs: the output's power matches the weights' up to the column sums' fluctuation,
    # about probability * sqrt(2 / columns) = 3 % in power, 1.5 % in RMS; 6 % is four of those
    pairs = memristor.form((256, 128), CONFIG, seed=15)
    sweep = memristor.crossbar_error_vs_read_noise(pairs, spike_voltages(64, 256, 0.3, 4), [0.1], repeats=10,
                                                   config=CONFIG, seed=5)
    predicted = memristor.equivalent_weight_noise(pairs, 0.1, CONFIG)
    assert sweep.mean[0].item() == pytest.approx(predicted, rel=0.06)


def test_crossbar_sweep_is_reproducible_per_seed():
    pairs = memristor.form((16, 8), CONFIG, seed=16)
    v = spike_voltages(4, 16, 0.5, 6)
    a, b, c = (memristor.crossbar_error_vs_read_noise(pairs, v, [0.05], repeats=2, config=CONFIG, seed=s)
               for s in (7, 7, 8))
    assert torch.equal(a.errors, b.errors) and not torch.equal(a.errors, c.errors)


def test_crossbar_sweep_rejects_bad_input():
    pairs = memristor.form((4, 3), CONFIG)
    v = torch.ones(2, 4)
    with pytest.raises(ValueError, match=r"level=-0\.1 must be a finite number >= 0"):
        memristor.crossbar_error_vs_read_noise(pairs, v, [0.0, -0.1])
    with pytest.raises(ValueError, match=r"repeats=0 must be a positive integer"):
        memristor.crossbar_error_vs_read_noise(pairs, v, [0.1], repeats=0)
    with pytest.raises(ValueError, match=r"levels is empty"):
        memristor.crossbar_error_vs_read_noise(pairs, v, [])
    with pytest.raises(ValueError, match=r"voltages have 5 rows but the crossbar has 4"):
        memristor.crossbar_error_vs_read_noise(pairs, torch.ones(2, 5), [0.1])
    with pytest.raises(ValueError, match=r"noise-free output is zero everywhere"):
        memristor.crossbar_error_vs_read_noise(pairs, torch.zeros(2, 4), [0.1])
    with pytest.raises(ValueError, match=r"ideal has shape \(2,\) but noisy has \(3,\)"):
        memristor.relative_output_error(torch.ones(2), torch.ones(3))
