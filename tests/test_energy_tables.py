"""The energy chapter's tables and summaries on hand-made counts, rows and breakdowns."""

import functools
import re

import numpy as np
import pytest

from primekit.energy import authors_rule, prices, references
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
    sensitivity_range,
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
    assert energy_sweep_table(ROWS).header[3:5] == ("digital (µJ)", "hybrid (µJ)")
    assert energy_sweep_table(ROWS).rows[0] == ("0.8", "90.0 %", "4.00", "4.000", "1.000", "4.00")


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
    assert s["top2_low"] == "5.00x (lo)" and s["top2_high"] == "12.0x (hi)"
    assert s["n_digital_top"] == 2 and s["top_side_text"].startswith("2 of the 3 are about the digital side")
    assert s["n_levers"] == 4 and s["n_minor"] == 1 and s["minor_swing"] == pytest.approx(0.2)
    ends = ("lo\u00a0→\u00a010.0x", "hi\u00a0→\u00a0100x")          # no break between a value and its arrow
    assert sensitivity_table(rows[:1]).rows == (("digital dataflow", *ends, "x10.00", "-"),)
    with pytest.raises(ValueError, match="minor_swing=1"):
        sensitivity_summary(rows, minor_swing=1)


def test_sensitivity_range_spans_every_end_of_every_lever():
    rows = [_row("digital dataflow", 10, 100), _row("ADC energy per conversion", 12, 5), _row("read voltage", 9, 11)]
    assert sensitivity_range(rows) == (5, 100)       # the low end of a lever can give the larger ratio
    with pytest.raises(ValueError, match="rows is empty"):
        sensitivity_range([])


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


# --- the grid of digital references, the bracket of a target ratio, the two readings, the authors' rule ---

def _grid_counts():
    """Per layer: 10 and 20 dense MACs; 2 + 0 spike ops and 1 + 3 graded ops (6 synaptic ops, as many weight
    reads); crossbar and periphery counts only on layer a."""
    return _table(dense_macs=(10, 20), spike_ops=(2, 0), graded_ops=(1, 3), synaptic_ops=(3, 3),
                  weight_reads=(3, 3), kept_pulses=(100, 0), row_activations=(10, 0), conversions=(20, 0),
                  neuron_updates=(4, 0), state_accesses=(8, 0))


def test_reference_grid_by_hand():
    counts = _grid_counts()
    cells = references.reference_grid(counts, EnergyConfig(), counts.scaled(2.0))
    assert [(c.dataflow, c.precision, c.memory) for c in cells][:3] == [
        ("event", "fp32", "compute only"), ("event", "fp32", "8 KB SRAM"), ("event", "int8", "compute only")]
    assert len(cells) == 8
    cell = functools.partial(references.find_cell, cells)
    lif32, lif8 = 3.7 + 2 * 0.9, 0.2 + 2 * 0.03
    # dense fp32, compute only: every MAC at add + multiply, plus the LIF updates
    assert cell("dense", "fp32", "compute only").digital_pj == pytest.approx(30 * 4.6 + 4 * lif32)
    # event-driven int8: accumulates for spikes, int8 MACs for graded inputs
    assert cell("event", "int8", "compute only").digital_pj == pytest.approx(2 * 0.03 + 4 * 0.23 + 4 * lif8)
    # memory: one access per weight fetch (dense: per MAC) and per membrane access, 5 pJ per 32-bit word
    event32 = 2 * 0.9 + 4 * 4.6 + 4 * lif32
    assert cell("event", "fp32", "8 KB SRAM").digital_pj == pytest.approx(event32 + 6 * 5 + 8 * 5)
    dense8 = 30 * 0.23 + 4 * lif8                # an 8-bit word costs a quarter of 5 pJ
    assert cell("dense", "int8", "8 KB SRAM").digital_pj == pytest.approx(dense8 + (30 + 8) * 1.25)
    hybrid32 = 100 * 0.016 + 10 * 0.33 + 20 * 1.67 + 4 * lif32
    assert cell("dense", "fp32", "compute only").hybrid_pj == pytest.approx(hybrid32)
    assert cell("event", "fp32", "8 KB SRAM").hybrid_pj == pytest.approx(hybrid32 + 8 * 5)
    assert cell("event", "int8", "compute only").hybrid_pj == pytest.approx(hybrid32 - 4 * lif32 + 4 * lif8)
    for c in cells:
        assert c.ratio == pytest.approx(c.digital_pj / c.hybrid_pj)
        assert c.ratio_full_digital == pytest.approx(2 * c.ratio)       # the digital counts doubled
    default = cell("event", "fp32", "compute only")
    assert default.digital_pj == pytest.approx(prices.energy(counts, EnergyConfig(), "digital").total_pj)
    assert default.label == "event-driven, fp32, compute only"


def test_reference_grid_is_monotone_in_memory_and_arithmetic():
    counts = _table(**{kind: (3.0, 5.0) for kind in KINDS if kind != "dense_macs"}, dense_macs=(300.0, 500.0))
    cells = references.reference_grid(counts)
    for c in cells:
        if c.memory == "compute only":    # memory never lowers the digital energy
            assert references.find_cell(cells, c.dataflow, c.precision, "8 KB SRAM").digital_pj > c.digital_pj
        if c.precision == "int8":         # int8 is cheaper than fp32
            assert c.digital_pj < references.find_cell(cells, c.dataflow, "fp32", c.memory).digital_pj
        if c.dataflow == "event":         # a dense layer does more MACs than the spikes trigger
            assert c.digital_pj < references.find_cell(cells, "dense", c.precision, c.memory).digital_pj


def test_reference_grid_checks_its_arguments():
    counts = _grid_counts()
    with pytest.raises(ValueError, match="dataflow='sparse' must be one of"):
        references.reference_config(EnergyConfig(), "sparse", "fp32", None)
    with pytest.raises(ValueError, match="precision='int4' must be one of"):
        references.reference_config(EnergyConfig(), "event", "int4", None)
    with pytest.raises(ValueError, match="memory_pj=0 must be > 0"):
        references.reference_config(EnergyConfig(), "event", "fp32", 0)
    with pytest.raises(ValueError, match="precisions is empty"):
        references.reference_grid(counts, precisions=())
    cells = references.reference_grid(counts)
    with pytest.raises(ValueError, match="no full-T digital energy"):
        _ = cells[0].ratio_full_digital
    with pytest.raises(ValueError, match="is not in the grid"):
        references.find_cell(cells, "dense", "fp16", "compute only")
    with pytest.raises(ValueError, match="cells is empty"):
        references.grid_table([], 0.8)


def test_grid_table_shows_both_readings():
    cells = [references.GridCell("dense", "fp32", "compute only", 8e6, 1e5, 2e7)]
    table = references.grid_table(cells, 0.8)
    assert table.header[-2:] == ("ratio, both stop (θ = 0.8)", "ratio, digital runs all T")
    assert table.rows == (("dense", "fp32", "compute only", "8", "0.1", "80.0x", "200x"),)
    assert len(references.grid_table([references.GridCell("event", "int8", "x", 1.0, 1.0)], 0.8).header) == 6


def test_bracket_finds_the_neighbours_of_the_target():
    ratios = {"a": 5.0, "b": 20.0, "c": 50.0, "d": 80.0}
    result = references.bracket(ratios, 37.83)
    assert result.below == ("b", 20.0) and result.above == ("c", 50.0)
    text = references.bracket_text(result)
    assert text == "37.83x lies between 20.0x (b) and 50.0x (c)."
    assert references.bracket(ratios, 50.0).above == ("c", 50.0)
    low = references.bracket({"a": 5.0}, 37.83)
    assert low.above is None
    assert references.bracket_text(low).startswith("Every reference gives less than 37.83x")
    high = references.bracket({"a": 50.0}, 37.83)
    assert high.below is None and "than 37.83x; the closest gives 50.0x (a)." in references.bracket_text(high)
    with pytest.raises(ValueError, match="target=0 must be a ratio > 0"):
        references.bracket(ratios, 0)
    with pytest.raises(ValueError, match="ratios is empty"):
        references.bracket({}, 37.83)
    with pytest.raises(ValueError, match="ratios must be finite numbers > 0"):
        references.bracket({"a": -1.0}, 37.83)


def test_ratio_readings_by_hand():
    readings = references.ratio_readings(ROWS, digital_full_pj=10e6)
    assert [(r.threshold, r.mean_exit) for r in readings] == [(0.8, 4.0), (1.0, 10.0)]
    assert [r.same_stop for r in readings] == [4.0, 5.0]
    assert [r.full_digital for r in readings] == [10.0, 5.0]     # at θ = 1 both readings agree
    with pytest.raises(ValueError, match="digital_full_pj=5000000.0 is below the digital energy"):
        references.ratio_readings(ROWS, digital_full_pj=5e6)
    with pytest.raises(ValueError, match="digital_full_pj=0 must be > 0"):
        references.ratio_readings(ROWS, digital_full_pj=0)
    with pytest.raises(ValueError, match="rows is empty"):
        references.ratio_readings([], digital_full_pj=1.0)
    s = references.readings_summary(readings, 0.8)
    assert (s["same"], s["full"], s["same_min"], s["same_max"]) == (4.0, 10.0, 4.0, 5.0)
    assert (s["full_max"], s["full_max_theta"], s["full_max_exit"]) == (10.0, 0.8, 4.0)
    with pytest.raises(ValueError, match="theta=0.5 is not among the thresholds"):
        references.readings_summary(readings, 0.5)


def test_authors_rule_by_hand():
    counts = _table(dense_macs=(10, 20), synaptic_ops=(3, 6), graded_ops=(1, 2), kept_pulses=(5, 7),
                    pruned_pulses=(4, 8))
    rule = authors_rule.authors_rule(counts, dense_first=("a",))
    assert list(rule["a"].values()) == [3, 1, 10, 10]            # a real-valued first layer: dense MACs
    assert list(rule["b"].values()) == [6, 2, 15, 0]             # spikes: value-weighted, all weights, adds
    s = authors_rule.authors_rule_summary(rule)
    assert (s["our_ops"], s["our_macs"], s["rule_adds"], s["rule_mults"]) == (9, 3, 25, 10)
    assert s["rule_over_ours"] == pytest.approx(35 / 9) and "rule_share" not in s
    assert authors_rule.authors_rule_summary(rule, "a")["rule_share"] == pytest.approx(20 / 35)
    with pytest.raises(ValueError, match="layer='c' is not one of the rule's layers"):
        authors_rule.authors_rule_summary(rule, "c")
    assert authors_rule.authors_rule(counts)["a"]["authors' rule: additions"] == 9
    table = authors_rule.authors_rule_table(rule)
    assert table.rows[-1] == ("total", "9", "3", "25", "10")
    with pytest.raises(ValueError, match=r"dense_first=\['conv0'\] names layers \['conv0'\] not in"):
        authors_rule.authors_rule(counts, dense_first=["conv0"])
    with pytest.raises(ValueError, match="rule is empty"):
        authors_rule.authors_rule_summary({})


def test_percent_texts_put_a_space_before_the_percent_sign():
    from primekit.energy.tables import percent_texts

    assert percent_texts({"share": 0.4213, "other": 2.0}, ["share"]) == {"share_pct": "42 %"}
    assert percent_texts({"share": 0.4213}, ["share"], digits=1) == {"share_pct": "42.1 %"}
    with pytest.raises(ValueError, match="values lacks"):
        percent_texts({"share": 0.4}, ["missing"])


def test_tables_write_micro_units():
    header = references.grid_table([references.GridCell("dense", "fp32", "compute only", 8e6, 1e5)], 0.8).header
    assert "digital (µJ)" in header and "hybrid (µJ)" in header
    units = {name: unit for name, _, unit, _ in prices.constant_table()}
    assert units["g_kept_us"] == units["g_pruned_us"] == "µS"
    labels = [label for lever in prices.LEVERS for label in (lever.low_label, lever.high_label)]
    assert not [label for label in labels if re.search(r"\d\s*u[SJ]\b", label)]


def test_ratio_text_keeps_three_significant_digits():
    from primekit.energy.tables import ratio_text

    assert [ratio_text(r) for r in (0.64, 1.0295, 6.0, 9.999, 80.3, 94.94, 99.96, 271.4)] == [
        "0.64x", "1.03x", "6.00x", "10.0x", "80.3x", "94.9x", "100x", "271x"]
    with pytest.raises(ValueError, match="ratio=0"):
        ratio_text(0)


def test_early_stop_texts_follow_the_savings_and_the_ratio_span():
    from primekit.energy.tables import early_stop_texts

    book = {"digital_saved_theta": 0.174, "energy_saved_theta": 0.155, "ratio_min": 5.949, "ratio_max": 6.36}
    t = early_stop_texts(book, 0.8)
    assert t["ratio_move_text"].startswith("but it barely moves the ratio (from 5.9x to 6.4x across all thresholds)")
    assert t["early_stop_text"] == ("Early stop saves nearly the same share of the energy on both systems "
                                    "(digital 17 %, hybrid 16 % at θ = 0.8)")
    apart = early_stop_texts({**book, "digital_saved_theta": 0.40, "ratio_max": 9.0}, 0.8)
    assert apart["ratio_move_text"].startswith("and the ratio moves from 5.9x to 9.0x")
    assert "different shares" in apart["early_stop_text"]
    none = early_stop_texts({**book, "digital_saved_theta": 0.0, "energy_saved_theta": 0.001}, 0.8)
    assert none["early_stop_text"] == ("Early stop saves almost no energy on either system "
                                       "(digital 0 %, hybrid 0 % at θ = 0.8)")


def test_sensitivity_summary_says_the_crossbar_matters_less_only_when_the_top_levers_are_digital():
    digital = [_row("digital dataflow", 10, 100), _row("digital synaptic arithmetic", 2, 10),
               _row("neuron and pooling arithmetic (both)", 10, 30), _row("read voltage", 9.5, 10.5)]
    assert sensitivity_summary(digital)["top_side_text"].endswith("The crossbar's own constants matter much less:")
    mixed = [_row("digital dataflow", 10, 100), _row("ADC energy per conversion", 5, 12),
             _row("memory accesses priced", 8, 12)]
    text = sensitivity_summary(mixed)["top_side_text"]
    assert "matter much less" not in text and text.endswith("about the crossbar's periphery. Beyond these:")
