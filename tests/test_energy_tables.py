"""The energy chapter's tables and summaries on hand-made counts, rows and breakdowns."""

import re

import numpy as np
import pytest

from primekit.energy import prices
from primekit.energy.count_records import KINDS, CountTable
from primekit.energy.prices import COMPONENTS, EnergyBreakdown, EnergyConfig, EnergyRow, Lever, SensitivityRow
from primekit.energy.tables import (
    constants_table,
    count_table,
    energy_shares,
    energy_sweep_summary,
    energy_sweep_table,
    headline_constants,
    number,
    operation_energies,
    scenario_ratios,
    scenario_table,
    scenarios,
    sensitivity_summary,
    sensitivity_table,
    unit_price_table,
    work_stages,
)


def test_headline_constants_by_hand():
    c = headline_constants(EnergyConfig())
    assert c["e_mac"] == pytest.approx(4.6) and c["e_sram8"] == 5.0 and c["e_sram1m"] == 50.0
    assert c["cell_fj"] == pytest.approx(0.2 ** 2 * 20 * 10)        # V^2 G t = 8 fJ
    assert c["pair_fj"] == pytest.approx(16.0)
    assert c["mac_over_pair"] == pytest.approx(4.6 / 0.016)
    assert c["e_lif"] == pytest.approx(3.7 + 2 * 0.9)
    ops = operation_energies(EnergyConfig())
    assert ops["memristor pair, one pulse (V²Gt, 2 cells)"] == pytest.approx(0.016)
    assert ops["DRAM read, 32 bit"] == 640.0 and ops["int8 add (digital)"] == 0.03


def test_count_table_formats_integers_and_fractions():
    assert number(1234.0) == "1,234" and number(2.5) == "2.50"
    table = count_table({"conv0": {"a": 1234.0, "b": 2.5}, "linear": {"a": 1.0, "b": 0.0}})
    assert table.header == ("count", "`conv0`", "`linear`")
    assert table.rows == (("a", "1,234", "1"), ("b", "2.50", "0"))
    with pytest.raises(ValueError, match="layer 'linear' has kinds"):
        count_table({"conv0": {"a": 1}, "linear": {"b": 1}})


def test_constants_cite_no_internal_codes_and_unit_prices_are_the_configs():
    sources = constants_table().column("source and meaning")
    assert len(sources) == len(prices.constant_table())
    assert not [s for s in sources if re.search(r"\[[A-Z]\d|ENERGY\.md|PAPER\.md", s)]
    table = unit_price_table(EnergyConfig())
    row = dict((r[0], r[1:]) for r in table.rows)
    assert row["`spike_ops`"] == ("0.9", "0") and row["`conversions`"] == ("0", "1.67")
    assert "`crossbar_reads`" not in row     # free on both systems


ROWS = [EnergyRow(0.8, 0.90, 4.0, 4e6, 1e6), EnergyRow(1.0, 0.92, 10.0, 10e6, 2e6)]


def test_energy_sweep_summary_by_hand():
    s = energy_sweep_summary(ROWS, 0.8, timesteps=10)
    assert s["ratio_theta"] == 4.0 and s["ratio_full"] == 5.0
    assert (s["digital_uj_theta"], s["hybrid_uj_theta"], s["digital_uj_full"], s["hybrid_uj_full"]) == (4, 1, 10, 2)
    assert s["energy_saved_theta"] == pytest.approx(0.5) and s["load_saved_theta"] == pytest.approx(0.6)
    assert (s["ratio_min"], s["ratio_max"], s["exit_theta"], s["acc_theta"], s["acc_full"]) == (4, 5, 4, 0.9, 0.92)
    with pytest.raises(ValueError, match="timesteps=8"):
        energy_sweep_summary(ROWS, 0.8, timesteps=8)
    with pytest.raises(ValueError, match="theta=0.5"):
        energy_sweep_summary(ROWS, 0.5, timesteps=10)
    assert energy_sweep_table(ROWS).rows[0] == ("0.8", "90.0%", "4.00", "4.000", "1.000", "4.00")


def _table(**per_kind):
    values = np.zeros((2, len(KINDS)))
    for kind, pair in per_kind.items():
        values[:, KINDS.index(kind)] = pair
    return CountTable(values, ("a", "b"))


def test_work_stages_and_shares_by_hand():
    full = _table(dense_macs=(100, 300), synaptic_ops=(20, 40))
    theta = _table(synaptic_ops=(5, 5), graded_ops=(1, 4))
    stages = work_stages(full, theta, {"a": 0.5, "b": 0.5}, 0.8)
    assert list(stages.values()) == [400, 200, 60, 10]
    with pytest.raises(ValueError, match="kept lacks the layers"):
        work_stages(full, theta, {"a": 0.5}, 0.8)
    digital = EnergyBreakdown("digital", np.array([[30.0, 10, 0, 8, 2, 0]]), ("x",), COMPONENTS["digital"])
    hybrid = EnergyBreakdown("hybrid", np.array([[1.0, 2, 5, 0, 2, 8, 2, 0]]), ("x",), COMPONENTS["hybrid"])
    s = energy_shares(stages, theta, digital, hybrid)
    assert s["spike_saving"] == pytest.approx(0.3) and s["work_saving_total"] == pytest.approx(40)
    assert s["periphery_share_hybrid"] == pytest.approx(0.5) and s["periphery_share_digital"] == pytest.approx(0.2)
    assert (s["adc_share_hybrid"], s["cells_share_hybrid"], s["rows_share_hybrid"]) == pytest.approx((0.25, 0.05, 0.1))
    assert s["mac_share_digital"] == pytest.approx(0.6) and s["graded_share"] == pytest.approx(0.5)
    assert s["synaptic_ratio"] == pytest.approx(40 / 10) and s["amdahl_ceiling"] == pytest.approx(5.0)


def _row(name, low, high, default=10.0):
    return SensitivityRow(Lever(name, {}, {}, "lo", "hi", "-"), low, high, default)


def test_sensitivity_summary_names_the_top_levers():
    rows = [_row("digital dataflow", 10, 100), _row("ADC energy per conversion", 5, 12),
            _row("memory accesses priced", 8, 12), _row("read voltage", 9.5, 10.5)]
    s = sensitivity_summary(rows)
    assert (s["top1_name"], s["top1_span"]) == ("digital dataflow", 10.0)
    assert s["top2_low"] == "5x (lo)" and s["top2_high"] == "12x (hi)"
    assert s["n_digital_top"] == 2 and s["top_side_text"].startswith("2 of the 3 are about the digital side")
    assert s["n_levers"] == 4 and s["n_minor"] == 1 and s["minor_swing"] == pytest.approx(0.2)
    assert sensitivity_table(rows[:1]).rows == (("digital dataflow", "lo", "10x", "hi", "100x", "x10.00"),)
    with pytest.raises(ValueError, match="minor_swing=1"):
        sensitivity_summary(rows, minor_swing=1)


def test_scenarios_price_the_same_counts():
    table = _table(spike_ops=(100, 100), graded_ops=(50, 50), kept_pulses=(100, 100), row_activations=(10, 10),
                   conversions=(20, 20), neuron_updates=(5, 5), weight_reads=(150, 150), dense_macs=(1000, 1000))
    cases = scenarios(EnergyConfig())
    ratios = scenario_ratios(table, cases)
    assert ratios["ratio_default"] == pytest.approx(prices.efficiency_ratio(table, EnergyConfig()))
    assert cases["adc14"][1].adc_pj == 78.0 and cases["dense"][1].digital_dataflow == "dense"
    assert ratios["ratio_dense"] > ratios["ratio_default"] > ratios["ratio_int8"]
    assert ratios["ratio_memory"] > ratios["ratio_default"] > ratios["ratio_adc14"]
    rows = scenario_table(table, table.scaled(2.0), cases, 0.8).rows
    assert rows[0][1] == rows[0][2] == f"{ratios['ratio_default']:.3g}x"    # the ratio does not scale
