"""The noise chapter's decisions and tables on a hand-made sweep whose drops and spreads are known."""

import math

import numpy as np
import pytest

from primekit.experiments.noise_anatomy import LayerNoise, Margins
from primekit.experiments.noise_explanations import (
    anatomy_summary,
    anatomy_table,
    curve_texts,
    flip_text,
    margin_summary,
    noise_ratio_summary,
)
from primekit.experiments.noise_sweep import NoiseSweep, NoiseSweepConfig
from primekit.experiments.noise_verdicts import (
    compare_with_baseline,
    drops_in_points,
    early_stop_summary,
    gap_text,
    mean_accuracy,
    noise_equivalents,
    paper_verdict,
    results_table,
    robustness_verdicts,
    sweep_facts,
)
from primekit.experiments.range_filling import (
    RangeFilling,
    mapping_summary,
    mapping_table,
    scales_table,
    summary_claim,
)

METHODS = ("weight-tuning", "software-pruning", "memristor-pruning")
CONFIG = NoiseSweepConfig(levels=(0.0, 0.1, 0.2), chips=2, thresholds=(0.5, 0.8))   # kinds: programming, read
#: per method and kind: accuracy per chip at the levels 0, 10 %, 20 %
ACCURACY = {
    ("weight-tuning", "read"): [(0.9, 0.9), (0.85, 0.85), (0.7, 0.7)],
    ("software-pruning", "read"): [(0.9, 0.9), (0.88, 0.88), (0.85, 0.85)],          # loses less
    ("memristor-pruning", "read"): [(0.9, 0.9), (0.86, 0.84), (0.69, 0.71)],         # about as much
    ("weight-tuning", "programming"): [(0.9, 0.9), (0.85, 0.85), (0.8, 0.8)],
    ("software-pruning", "programming"): [(0.9, 0.9), (0.8, 0.8), (0.6, 0.6)],        # loses more
    ("memristor-pruning", "programming"): [(0.9, 0.9), (0.88, 0.88), (0.85, 0.85)],  # loses less
}


def make_sweep(samples=4):
    accuracy = np.zeros((3, 2, 3, 2))
    for (method, kind), values in ACCURACY.items():
        accuracy[METHODS.index(method), CONFIG.kinds.index(kind)] = values
    early = np.repeat(accuracy[..., None], 2, axis=-1) - 0.01
    early[2, 1, 2, 0, 1] = accuracy[2, 1, 2, 0] - 0.03          # memristor pruning, read, 20 %, chip 0, θ = 0.8
    mean_exit = np.zeros_like(early)
    mean_exit[..., 0] = np.array([3.0, 4.0, 5.0])[None, None, :, None]        # θ = 0.5
    mean_exit[..., 1] = np.array([6.0, 7.0, 8.0])[None, None, :, None]        # θ = 0.8
    logits = np.zeros((3, 2, 3, 2, samples, 10), dtype=np.float32)
    return NoiseSweep(CONFIG, METHODS, accuracy, early, mean_exit, logits, np.zeros(samples, dtype=np.int64), 10, 120.0)


SWEEP = make_sweep()


def test_facts_and_equivalents():
    assert sweep_facts(SWEEP) == {"n_runs": 3 * 2 * (1 + 2 * 2), "sweep_minutes": 2.0, "n_chips": 2,
                                  "levels_text": "0, 10, 20 %"}
    e = noise_equivalents(4.0)
    assert (e["level_a"], e["equiv_a"], e["equiv_c"]) == (0.02, 0.08, 0.8)
    with pytest.raises(ValueError, match="factor=0"):
        noise_equivalents(0)


def test_results_table_and_drops():
    table = results_table(SWEEP, METHODS)                          # one row per point, one column per method
    assert table.header == ("noise", "Weight Tuning", "Software Pruning", "Memristor Pruning")
    assert table.column("noise") == ("no noise", "10 % read", "20 % read", "10 % programming", "20 % programming")
    assert table.column("Weight Tuning") == ("90.0 % ± 0.0", "85.0 % ± 0.0", "70.0 % ± 0.0", "85.0 % ± 0.0",
                                             "80.0 % ± 0.0")
    assert table.rows[1][3] == "85.0 % ± 1.4"                       # std of (0.86, 0.84), ddof 1
    assert table.rows[3][3] == "88.0 % ± 0.0"
    drops = drops_in_points(SWEEP, METHODS)
    assert drops["drop_weight_tuning_read_20"] == pytest.approx(20.0)
    assert drops["drop_software_pruning_programming_20"] == pytest.approx(30.0)


def test_comparisons_with_weight_tuning():
    read = {c.method: c for c in compare_with_baseline(SWEEP, "read", 0.2)}
    assert read["software-pruning"].gap == pytest.approx(0.15) and read["software-pruning"].word == "less than"
    assert read["memristor-pruning"].resolution == pytest.approx(2 * np.std([0.69, 0.71], ddof=1))
    assert read["memristor-pruning"].word == "about as much as"
    programming = {c.method: c.word for c in compare_with_baseline(SWEEP, "programming", 0.2)}
    assert programming == {"software-pruning": "more than", "memristor-pruning": "less than"}
    v = robustness_verdicts(SWEEP)
    assert (v["n_less"], v["n_compared"]) == (2, 4)
    assert v["verdict_read"].startswith("At 20 % read noise, Software Pruning loses 5.0 points, less than Weight "
                                        "Tuning's 20.0 (difference 15.0, resolution 0.0)")
    assert "reproduced only in part" in v["paper_verdict"]


def test_paper_verdict_branches():
    assert "does not reproduce" in paper_verdict(0, 4)
    assert paper_verdict(4, 4).startswith("all 4 comparisons")
    with pytest.raises(ValueError, match="n_less=5"):
        paper_verdict(5, 4)
    assert mean_accuracy(SWEEP, "read", 0.1, METHODS) == pytest.approx((0.85 + 0.88 + 0.85) / 3)


def test_early_stop_summary():
    s = early_stop_summary(SWEEP, "memristor-pruning", 0.8)
    assert (s["es_exit_read_0"], s["es_exit_read_20"], s["es_exit_programming_20"]) == (6.0, 8.0, 8.0)
    assert s["es_saved_read_0"] == pytest.approx(0.4) and s["es_saved_read_20"] == pytest.approx(0.2)
    assert (s["theta_low"], s["low_exit_0"], s["low_exit_20"], s["thresholds_text"]) == (0.5, 3.0, 5.0, "0.5, 0.8")
    assert s["es_max_gap"] == pytest.approx(0.03, abs=1e-6) and s["es_gap_low"] == pytest.approx(0.01, abs=1e-6)
    assert s["es_gap_text"] == "the two are within 3.0 points of each other at θ = 0.8 and within 1.0 points of each other at θ = 0.5"


def test_gap_text_says_a_zero_gap_as_identical():
    assert gap_text(0.0, 0.9, 0.02, 0.5) == "the two are identical at θ = 0.9 and within 2.0 points of each other at θ = 0.5"
    assert gap_text(0.0, 0.9, 0.0, 0.9) == "the two are identical at θ = 0.9"


def _layers(wn, cn, reset=0.0, std=2.0):
    return [LayerNoise(name, 100, reset, std, 20.0, w, c) for name, w, c in zip(("conv0", "conv1", "linear"), wn, cn)]


def test_anatomy_summary_by_hand():
    anatomy = {"weight-tuning": _layers((3.0, 9.0, 12.0), (1.0, 4.0, 2.0)),
               "memristor-pruning": _layers((4.0, 5.0, 6.0), (2.0, 6.0, 1.0), reset=0.5)}
    s = anatomy_summary(anatomy)
    assert (s["wt_conv1_wn"], s["wt_linear_cn"], s["mp_conv0_std"], s["mp_reset"]) == (9.0, 2.0, 2.0, 0.5)
    assert s["mean_wn_wt"] == pytest.approx(8.0) and s["mean_cn_mp"] == pytest.approx(3.0)
    assert s["conv0_text"] == "it is the other way round"                         # 3 < 4
    assert (s["n_smaller"], s["n_layers"]) == (5, 6)
    assert s["smaller_text"] == "in 5 of the 6 layers of the 2 networks"
    table = anatomy_table(anatomy)
    assert table.rows[0] == ("Weight Tuning", "`conv0`", "0.00", "2.00", "20.00", "3.00", "1.00")
    assert table.column("network") == ("Weight Tuning", "", "", "Memristor Pruning", "", "")   # named once
    assert table.header[3:5] == ("kept weights, std (µS)", "cell RMS (µS)")


def test_margin_summary_by_hand():
    n = 50
    low = Margins(np.full(n, 0.2), np.ones(n), np.ones(n, bool), np.ones(n, bool))         # ratio 0.2, all flip
    high = Margins(np.full(n, 5.0), np.ones(n), np.ones(n, bool), np.zeros(n, bool))       # ratio 5, none flip
    both = Margins(*[np.concatenate([a, b]) for a, b in zip(low, high)])
    s = margin_summary({"weight-tuning": both, "memristor-pruning": high})
    assert (s["flip_below_half"], s["flip_above_4"]) == (1.0, 0.0)
    assert s["ratio_half"] == pytest.approx(0.1 * 10 ** (0.05 * 33.5))     # centre of the bin holding ratio 5
    assert s["wt_flipped"] == 0.5 and s["mp_median_margin"] == 5.0 and s["wt_median_ratio"] == pytest.approx(2.6)
    assert s["margin_text"].startswith("the margins measured in noise units differ")
    assert s["flip_text"] == ("a decision whose margin is below half its output noise changes in 100 % of the cases, "
                              "one whose margin exceeds four times its noise never changes, and half of the decisions "
                              "survive from a ratio of about 4.7 on (a margin has to absorb the changes of two "
                              "outputs, and the largest change among nine competitors, so the crossover lies above 1)")
    # both networks have 50 pairs at ratio 5, none flipped: one curve; only one has pairs at ratio 0.2
    assert s["curve_gap"] == 0.0 and s["curve_text"].startswith("The top panel is nearly one curve for the 2 networks")


def test_flip_text_says_an_empty_bin_as_such():
    text = flip_text(math.nan, math.nan, math.nan)
    assert text == ("no decision has a margin below half its output noise, none has a margin above four times its "
                    "noise, and no bin with enough pairs keeps half of its decisions")
    assert "nan" not in flip_text(0.5, math.nan, 0.8) and "crossover" not in flip_text(0.5, 0.1, 0.8)


def test_curve_texts_tell_one_curve_from_two():
    n = 40
    flips = Margins(np.full(n, 5.0), np.ones(n), np.ones(n, bool), np.ones(n, bool))     # ratio 5, all flip
    holds = Margins(np.full(n, 5.0), np.ones(n), np.ones(n, bool), np.zeros(n, bool))    # ratio 5, none flip
    two = curve_texts({"weight-tuning": flips, "memristor-pruning": holds})
    assert two["curve_gap"] == 1.0 and "differ by up to 100 points" in two["curve_text"]
    few = curve_texts({"weight-tuning": flips, "memristor-pruning": holds}, min_count=41)
    assert math.isnan(few["curve_gap"]) and few["curve_text"].startswith("No ratio bin holds 41 pairs")


def test_noise_ratio_summary_reads_the_sweeps_logits():
    sweep = make_sweep(samples=2)
    k_read, k_prog = CONFIG.kinds.index("read"), CONFIG.kinds.index("programming")
    sweep.logits[:, k_read, 1] = 1.0             # every output moves by 1 under 10 % read noise
    sweep.logits[:, k_prog, 1] = 3.0             # and by 3 under 10 % programming noise
    s, table = noise_ratio_summary(sweep, METHODS, 0.1)
    assert (s["noise_ratio_min"], s["noise_ratio_max"]) == pytest.approx((3.0, 3.0))
    assert s["sqrt_T"] == pytest.approx(math.sqrt(10))
    assert table.rows[0] == ("Weight Tuning", "1.000", "3.000", "3.00")
    assert table.header == ("network", "output noise, 10 % read", "10 % programming", "ratio")


FILLED = RangeFilling(0.2, {("weight-tuning", "read"): np.array([0.8, 0.82]),
                            ("weight-tuning", "programming"): np.array([0.9, 0.9]),
                            ("software-pruning", "read"): np.array([0.7, 0.7]),
                            ("software-pruning", "programming"): np.array([0.7, 0.7])},
                      {"weight-tuning": {"conv0": 0.01, "conv1": 0.002, "linear": 0.003},
                       "software-pruning": {"conv0": 0.02, "conv1": 0.02, "linear": 0.02}})


def test_mapping_summary_and_table():
    s = mapping_summary(SWEEP, FILLED, n_less=2)
    assert s["wt_rf_read"] == pytest.approx(0.81) and s["mp_read_20"] == pytest.approx(0.70)
    assert s["mp_programming_20"] == pytest.approx(0.85) and s["wt_wins"]
    assert s["mapping_text"].startswith("Weight Tuning is more robust than Memristor Pruning under both noises")
    read_only = mapping_summary(SWEEP, FILLED, n_less=2, decide_on=("read",))
    assert read_only["mapping_text"].startswith("Weight Tuning is more robust than Memristor Pruning under read noise")
    with pytest.raises(ValueError, match="decide_on=\\('drift',\\) must name noises"):
        mapping_summary(SWEEP, FILLED, n_less=2, decide_on=("drift",))
    assert "depends on the mapping" in s["summary_claim"]
    table = mapping_table(SWEEP, FILLED, formed_scale=0.05)
    assert table.header == ("network", "noise", "shared κ", "range-filling κ")
    assert table.rows[:2] == (("Weight Tuning", "20 % read", "70.0 % ± 0.0", "81.0 % ± 1.4"),
                              ("", "20 % programming", "80.0 % ± 0.0", "90.0 % ± 0.0"))
    assert table.rows[-2] == ("Memristor Pruning", "20 % read", "70.0 % ± 1.4", "(no choice)")
    scales = scales_table(FILLED, formed_scale=0.05)
    assert scales.header == ("κ (weight per µS)", "`conv0`", "`conv1`", "`linear`")
    assert scales.rows[0] == ("Weight Tuning", "0.0100", "0.0020", "0.0030")
    assert scales.rows[-1] == ("shared (the sweep; Memristor Pruning)", "0.0500", "0.0500", "0.0500")
    with pytest.raises(ValueError, match="was not run"):
        FILLED.at("memristor-pruning", "read")


def test_summary_claim_branches():
    assert "not supported" in summary_claim(0, True)
    assert "not reproduced" in summary_claim(0, False)
    assert "in line with the paper" in summary_claim(3, False)
    with pytest.raises(ValueError, match="n_less=-1"):
        summary_claim(-1, True)


def test_range_filling_sweep_runs_the_sweeps_chips():
    from test_robustness import ToyClassifier, spike_task

    from primekit.chip.deploy import deploy_range_filling
    from primekit.experiments.noise_sweep import recording_accuracy
    from primekit.experiments.range_filling import range_filling_sweep
    from primekit.inference.evaluate import record_outputs

    split, weight = spike_task(n_per_class=10)
    model = ToyClassifier(weight)
    config = NoiseSweepConfig(levels=(0.0, 0.2), chips=2, batch_size=50)
    filled = range_filling_sweep({"toy": model}, split, config, 0.2, kinds=("read",))
    for chip in range(2):
        programming_seed, read_seed = config.chip_seeds(chip)
        by_hand, _ = deploy_range_filling(model, config.point_memristor("read", 0.2), programming_seed)
        run = record_outputs(by_hand, split, batch_size=50, read_seed=read_seed, show_progress=False)
        assert filled.accuracy["toy", "read"][chip] == recording_accuracy(run)
    assert set(filled.scales["toy"]) == {"layer"}


def test_method_range_filling_is_computed_once_per_key(monkeypatch):
    from test_robustness import ToyClassifier, spike_task

    import primekit
    from primekit.data.datasets import Splits
    from primekit.experiments import range_filling, training

    split, weight = spike_task(n_per_class=10)
    model, calls = ToyClassifier(weight), []

    def fake_train(method, profile=None, splits=None, train_config=None):  # no training in unit tests
        calls.append(method)
        return training.TrainedMethod(method, model, training.History(), 0.0, 0.0)

    monkeypatch.setattr(range_filling, "train_method", fake_train)
    monkeypatch.setattr(range_filling, "frames_fingerprint", lambda *splits: "toy-data")
    config, profile = NoiseSweepConfig(levels=(0.0, 0.2), chips=2, batch_size=50), primekit.get_profile("tiny")
    first = range_filling.method_range_filling(profile, Splits(split, split), config, 0.2, methods=("weight-tuning",))
    again = range_filling.method_range_filling(profile, Splits(split, split), config, 0.2, methods=("weight-tuning",))
    assert calls == ["weight-tuning"]                       # the second call loaded the cached result
    direct = range_filling.range_filling_sweep({"weight-tuning": model}, split, config, 0.2)
    for key, values in direct.accuracy.items():
        assert np.array_equal(first.accuracy[key], values) and np.array_equal(again.accuracy[key], values)


def test_model_comparison_table_and_verdicts_by_hand():
    from primekit.experiments.noise_verdicts import model_comparison_table, model_verdicts

    table = model_comparison_table({"cell": SWEEP}, METHODS)
    assert table.header == ("model, noise at 20 %", "Weight Tuning", "Software Pruning", "Memristor Pruning")
    read = table.rows[[r[0] for r in table.rows].index("cell-relative, read")]
    # drops at 20 % read: WT 20 points (no spread), SP 5, MP 20 with spread 1.41 (values 0.69, 0.71 vs 0.9)
    assert read == ("cell-relative, read", "20.0 ± 0.0", "5.0 ± 0.0 (less)", "20.0 ± 1.4 (alike)")
    programming = table.rows[[r[0] for r in table.rows].index("cell-relative, programming")]
    assert programming[2:] == ("30.0 ± 0.0 (more)", "5.0 ± 0.0 (less)")
    verdicts = model_verdicts({"cell": SWEEP})
    assert (verdicts["n_less_cell_read"], verdicts["n_more_cell_read"]) == (1, 0)
    assert (verdicts["n_less_cell_programming"], verdicts["n_more_cell_programming"]) == (1, 1)
    assert verdicts["verdict_cell_read"].startswith("At 20 % read noise, Software Pruning loses 5.0 points, less than")


def test_a_negative_drop_reads_as_a_gain():
    from primekit.experiments.noise_verdicts import Comparison, verdict_text

    text = verdict_text([Comparison("software-pruning", -0.005, 0.03, 0.06)], "programming", 0.2)
    assert "Software Pruning gains 0.5 points, about as much as Weight Tuning's 3.0" in text


def test_premise_table_puts_both_programming_models_side_by_side():
    from primekit.experiments.noise_verdicts import premise_table

    every = make_sweep()
    every.accuracy[2, 0] = [(0.9, 0.9), (0.6, 0.62), (0.3, 0.3)]   # memristor pruning, programming
    table = premise_table(SWEEP, every)
    assert table.header == ("programming noise", "RESET pairs written", "every cell written")
    assert table.column("programming noise") == ("0 %", "10 %", "20 %")
    assert table.rows[1][1:] == ("88.0 % ± 0.0", "61.0 % ± 1.4")
    assert table.rows[2][1:] == ("85.0 % ± 0.0", "30.0 % ± 0.0")
    other = NoiseSweep(NoiseSweepConfig(levels=(0.05,), chips=2), METHODS, *[np.zeros(1)] * 4,
                       np.zeros(1), 10, 1.0)
    with pytest.raises(ValueError, match="share no level"):
        premise_table(SWEEP, other)


def test_paper_claims_keep_the_premise_apart():
    from primekit.experiments.noise_verdicts import paper_claims

    claims = paper_claims({"cell": SWEEP})
    assert claims["claim_read"] == ("At 20 % read noise, under the cell-relative (physical) model, Software Pruning "
                                    "loses less than Weight Tuning, Memristor Pruning loses about as much.")
    assert claims["claim_programming"].startswith(
        "At 20 % programming noise, under the cell-relative (physical) model, Software Pruning loses more than "
        "Weight Tuning. Memristor Pruning changes by up to 5.0 points at 20 % programming noise, through the residual")
    assert "the premise of the model, not a finding" in claims["claim_programming"]
    flat = make_sweep()
    flat.accuracy[2, 0] = [(0.9, 0.9), (0.9, 0.9), (0.895, 0.905)]
    assert "does not move beyond the chip-to-chip resolution" in paper_claims({"cell": flat})["claim_programming"]


def test_model_readings_name_the_pattern_per_model():
    from primekit.experiments.noise_verdicts import model_readings

    quiet = make_sweep()
    quiet.accuracy[:] = 0.9
    quiet.accuracy[2, 0, 2] = 0.5   # memristor pruning's programming noise: the premise, left aside
    text = model_readings({"cell": SWEEP, "weight": quiet})
    assert ("Under the cell-relative (physical) model, under programming noise Software Pruning does not lose less "
            "than Weight Tuning; under read noise the paper's pattern holds for Software Pruning only.") in text
    assert ("Under the weight-relative (the authors' code) model no network loses more than 0.0 points at 20 %") in text


def test_paired_gaps_pair_the_methods_on_one_chips_samples():
    from primekit.experiments.noise_verdicts import paired_gaps
    from primekit.inference.intervals import paired_difference

    sweep = make_sweep(samples=4)
    sweep.labels[:] = [0, 1, 2, 3]
    k = CONFIG.kinds.index("read")
    for m, right in ((0, [1, 1, 0, 0]), (2, [1, 1, 1, 0])):         # weight tuning, memristor pruning at 20 %
        for i, ok in enumerate(right):
            sweep.logits[m, k, 2, 0, i, (i if ok else 9)] = 1.0
    gaps = paired_gaps(sweep, methods=("memristor-pruning",))
    assert gaps["paired_mp_read_20"] == str(paired_difference([1, 1, 1, 0], [1, 1, 0, 0]))
    assert gaps["paired_mp_read_20"].startswith("+25.0 points")
    assert set(gaps) == {"paired_mp_0", "paired_mp_read_20"}
    with pytest.raises(ValueError, match="chip=5"):
        paired_gaps(sweep, chip=5)
