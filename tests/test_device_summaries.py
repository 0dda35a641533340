"""The Memristor noise chapter's measurements on hand-made arrays with known values."""

import math

import pytest
import torch

from primekit.chip import memristor
from primekit.chip.memristor import MemristorConfig, Pairs
from primekit.experiments import device_summaries as ds

CONFIG = MemristorConfig()


def test_device_parameters():
    s = ds.device_parameters(CONFIG)
    assert s["g_mean"] == CONFIG.g_mean_us and s["g_formed_spread"] == CONFIG.g_formed_spread_us
    assert s["pair_spread_us"] == pytest.approx(math.sqrt(2) * CONFIG.g_formed_spread_us)
    assert s["authors_std"] == 6.352 and s["default_noise"] == 0


def test_amplification():
    config = MemristorConfig(g_mean_us=30.0)
    s = config.g_formed_spread_us
    assert ds.amplification(config) == pytest.approx(math.sqrt(30.0**2 + s**2) / s)


def test_formed_array_summary_by_hand():
    # cells 1, 2, 3, 4 (mean 2.5, sample std 1.29): the cells 2 and 3 lie within one std
    pairs = Pairs(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 4.0]))
    s = ds.formed_array_summary(pairs, MemristorConfig(g_mean_us=2.0, g_reset_us=1.0, g_min_us=1.0, g_max_us=10.0))
    assert s["cells"] == 4 and s["mean"] == pytest.approx(2.5) and s["std"] == pytest.approx(math.sqrt(5 / 3))
    assert s["clipped"] == 1 and s["clipped_text"] == "1 cell hits the device range"   # the cell at g_min
    inside = ds.formed_array_summary(pairs, MemristorConfig(g_mean_us=2.0, g_reset_us=0.5, g_min_us=0.5))
    assert inside["clipped"] == 0 and inside["clipped_text"] == "no cell hits the device range"
    both = ds.formed_array_summary(pairs, MemristorConfig(g_mean_us=2.0, g_reset_us=1.0, g_min_us=1.0, g_max_us=4.0))
    assert both["clipped_text"] == "2 cells hit the device range"
    assert s["pair_std"] == pytest.approx(0.0)            # both differences are -1
    assert s["within_1sd"] == 0.5 and s["normal_within_1sd"] == pytest.approx(0.6827, abs=1e-4)


def test_pruning_summary():
    before = memristor.form((20, 20), CONFIG, seed=1)
    keep = torch.arange(400).reshape(20, 20) % 4 != 0     # a quarter pruned
    after = memristor.reset_pruned(before, keep, CONFIG, seed=2)
    s = ds.pruning_summary(before, after, keep, CONFIG)
    assert s["pairs"] == 400 and s["reset_count"] == 100 and s["kept_unchanged"] is True
    assert s["reset_cell_mean"] == pytest.approx(CONFIG.g_reset_us, abs=3 * CONFIG.g_reset_spread_us)
    w = after.weights(CONFIG)
    assert s["reset_weight_max"] == pytest.approx(w[~keep].abs().max().item())
    assert s["kept_weight_std"] == pytest.approx(w[keep].std().item())
    changed = Pairs(after.g_plus + keep * 0.5, after.g_minus)
    assert ds.pruning_summary(before, changed, keep, CONFIG)["kept_unchanged"] is False
    with pytest.raises(ValueError, match="keep has shape"):
        ds.pruning_summary(before, after, keep[:5], CONFIG)


def test_cycle_summary_by_hand():
    # cell 0 alternates 1, 3 (mean 2, std 1.155); cell 1 alternates 10, 14 (mean 12, std 2.309)
    cycles = torch.tensor([[1.0, 10.0], [3.0, 14.0], [1.0, 10.0], [3.0, 14.0]])
    s = ds.cycle_summary(cycles)
    assert s["mean_spread"] == pytest.approx(torch.tensor([2.0, 12.0]).std().item())
    std = torch.tensor([1.0, 3.0, 1.0, 3.0]).std().item()
    assert s["std_mean"] == pytest.approx(1.5 * std) and s["std_range"] == pytest.approx(std)
    assert s["corr"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="cycles has shape"):
        ds.cycle_summary(torch.zeros(1, 3))


def test_spread_cells_and_read_trace_summary():
    pool = torch.tensor([5.0, 1.0, 9.0, 4.9, 7.0])
    assert ds.spread_cells(pool, 3).tolist() == [1.0, 5.0, 9.0]       # nearest to 1, 5 and 9
    with pytest.raises(ValueError, match="n=1"):
        ds.spread_cells(pool, 1)
    cells = torch.tensor([10.0, 20.0])
    traces = torch.tensor([[9.0, 22.0], [11.0, 18.0]])                 # +-10 % of each cell
    s = ds.read_trace_summary(cells, traces)
    assert s["relative_std"] == pytest.approx(torch.tensor([-0.1, 0.1, 0.1, -0.1]).std().item())
    assert (s["low_cell"], s["high_cell"]) == (10.0, 20.0)
    assert s["low_cell_std"] == pytest.approx(math.sqrt(2)) and s["high_cell_std"] == pytest.approx(2 * math.sqrt(2))
    with pytest.raises(ValueError, match="traces has shape"):
        ds.read_trace_summary(cells, traces[:, :1])


def test_weight_noise_monte_carlo_follows_the_prediction():
    pairs = memristor.form((128, 128), CONFIG, seed=3)
    mc = ds.weight_noise_monte_carlo(pairs, (0.0, 0.05), CONFIG, seed=4)
    assert mc[0.0] == 0.0
    assert mc[0.05] == pytest.approx(memristor.equivalent_weight_noise(pairs, 0.05, CONFIG), rel=0.03)


def test_read_noise_table_and_summary():
    table = ds.read_noise_table((0.02, 0.1), {0.02: 0.05, 0.1: 0.25}, {0.02: 0.051, 0.1: 0.249}, {0.02: 0.049, 0.1: 0.26})
    assert table.header == ("cell noise", "predicted", "Monte Carlo, weights", "Monte Carlo, crossbar")
    assert table.rows == (("2 %", "5.0 %", "5.1 %", "4.9 %"), ("10 %", "25.0 %", "24.9 %", "26.0 %"))
    levels = torch.tensor([0.0, 0.02, 0.1])
    s = ds.read_noise_summary(levels, torch.tensor([0.0, 0.05, 0.25]), torch.tensor([0.0, 0.055, 0.24]), CONFIG,
                              shown=(0.02, 0.1))
    assert s["level_2"] == 0.02 and s["equiv_10"] == pytest.approx(0.25) and s["sim_2"] == pytest.approx(0.055)
    assert s["max_gap"] == pytest.approx(0.1)                          # 0.055 / 0.05 - 1
    assert s["envelope_2"] == pytest.approx(0.02 * ds.amplification(CONFIG))
    assert s["pair_noise_2_us"] == pytest.approx(0.02 * CONFIG.g_mean_us * math.sqrt(2))
    with pytest.raises(ValueError, match="shown level 0.05"):
        ds.read_noise_summary(levels, levels, levels, CONFIG, shown=(0.05,))


def test_chip_noise_summary_by_hand():
    ideal = torch.tensor([1.0, -1.0])                                  # typical size 1
    exact = torch.tensor([[1.01, -1.0], [1.01, -1.0]])
    chip_a = torch.tensor([[1.1, -0.9], [1.3, -0.7]])                  # time-mean off by 0.2 and 0.2
    chip_b = torch.tensor([[0.9, -1.0], [0.9, -1.0]])                  # off by 0.1 and 0
    s = ds.chip_noise_summary(ideal, exact, chip_a, chip_b)
    assert s["exact_gap"] == pytest.approx(0.01) and s["exact_gap_rel"] == pytest.approx(0.01)
    assert s["chip_a_offset"] == pytest.approx(0.2) and s["chip_b_offset"] == pytest.approx(0.05)
    assert s["chip_a_jitter"] == pytest.approx(torch.tensor([1.1, 1.3]).std().item())
    with pytest.raises(ValueError, match="all zeros"):
        ds.chip_noise_summary(torch.zeros(2), exact, chip_a, chip_b)


def test_shown_output_summary_follows_the_drawn_output():
    ideal = torch.tensor([2.0, -1.0])                                  # typical output 1.5
    chip_a = torch.tensor([[1.8, -1.0], [1.5, -1.0]])                  # output 0: time-mean 1.65, 0.35 below
    chip_b = torch.tensor([[2.3, -1.0], [2.3, -1.0]])                  # 0.3 above
    s = ds.shown_output_summary(ideal, chip_a, chip_b, 0)
    assert s["shown"] == 1 and s["shown_a"] == pytest.approx(-0.35 / 1.5) and s["shown_b"] == pytest.approx(0.2)
    assert s["shown_text"] == ("chip A's time-mean lies below the noise-free value by 23 % of the typical output "
                               "and chip B's above it by 20 %")
    s = ds.shown_output_summary(ideal, chip_a, torch.tensor([[2.0, -0.4], [2.0, -0.4]]), 1)   # 0.6 above
    assert s["shown_text"] == ("chip A's time-mean lies on the noise-free value and chip B's above the noise-free "
                               "value by 40 % of the typical output")
    s = ds.shown_output_summary(ideal, chip_a, chip_a, 1)
    assert s["shown_text"] == "both chips' time-means lie on the noise-free value (to 1 % of the typical output)"
    with pytest.raises(ValueError, match="shown=2"):
        ds.shown_output_summary(ideal, chip_a, chip_b, 2)
