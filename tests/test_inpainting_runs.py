"""The inpainting chapter's experiments by value: replayed thresholds equal direct runs, the noise sweep's level 0
is the noiseless chip, the hybrid energy splits by layer, and the summaries' cells."""

import numpy as np
import pytest
import torch

from primekit.data.inpainting import make_split
from primekit.energy.prices import EnergyConfig, energy
from primekit.experiments import inpainting_runs as runs
from primekit.experiments import inpainting_summaries as summaries
from primekit.experiments.inpainting_training import VAE_MEMRISTOR, deploy_vae
from primekit.experiments.noise_sweep import NoiseSweepConfig
from primekit.inference.consistency import ConsistencyStop, RerunVAE
from primekit.inference.early_stop import replay
from primekit.inference.evaluate import run_split
from primekit.inference.inception import DigitClassifier, digit_quality
from primekit.inference.inpainting_metrics import mean_losses
from tests.test_inpainting_inference import constant_images
from tests.test_inpainting_model import calibrated_vae


@pytest.fixture(scope="module")
def split():
    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    return make_split(images, np.arange(6) % 3, np.arange(6), timesteps=5)


@pytest.fixture(scope="module")
def vae():
    return calibrated_vae(seed=1, steps=5)


@pytest.fixture(scope="module")
def classifier():
    torch.manual_seed(0)
    return DigitClassifier().eval()


def test_quality_at_replays_the_streaming_run_and_measures_the_images(split, vae, classifier):
    outputs = runs.record_reconstructions(vae, split)
    assert outputs.shape == (5, 6, 1, 32, 32)
    eps = 1e9  # any digit whose change shrank twice stops: the exits spread over the steps
    streaming = run_split(vae, split, policy=ConsistencyStop(eps))
    q = runs.quality_at(outputs, split.targets(), split.labels, classifier, eps)
    assert q.mean_exit == pytest.approx(streaming.early.exit_step.float().mean().item())
    expected = mean_losses(streaming.early.prediction, split.targets())
    assert q.whole == pytest.approx(expected["whole"]) and q.damaged == pytest.approx(expected["damaged"])
    full = runs.quality_at(outputs, split.targets(), split.labels, classifier, None)
    assert full.mean_exit == 5.0
    assert full.mnist_is == pytest.approx(digit_quality(classifier, outputs[-1], split.labels)["mnist_is"])


def test_quality_at_exits_on_a_hand_sequence(classifier):
    outputs = constant_images([[0.5, 0.75, 0.875, 0.9375, 0.96875, 1.0]] * 2)   # d = .5, .25, .125, ...
    outputs = torch.nn.functional.pad(outputs, (11, 11, 11, 11), value=-1.0)     # to 32 x 32
    q = runs.quality_at(outputs, torch.full((2, 1, 32, 32), -1.0), [0, 1], classifier, 0.2)
    assert q.mean_exit == 3.0  # the first t >= 3 with two decreases and d_t = 0.125 < 0.2


def test_threshold_study_rows_and_examples(split, vae, classifier):
    study = runs.threshold_study({"a": vae}, split, classifier, (0.5, 1e9), n_examples=2)
    rows = study.rows["a"]
    assert [r.eps for r in rows] == [0.5, 1e9, None]
    assert rows[-1].mean_exit == 5.0
    outputs = runs.record_reconstructions(vae, split)
    assert rows[1] == runs.quality_at(outputs, split.targets(), split.labels, classifier, 1e9)
    assert torch.equal(study.examples["a"][1e9], replay(outputs, ConsistencyStop(1e9)).prediction[:2])
    assert study.examples["a"][None].shape == (2, 1, 32, 32)
    with pytest.raises(ValueError, match="epsilons"):
        runs.threshold_study({"a": vae}, split, classifier, (0.0,))


def test_noise_sweep_level_zero_is_the_noiseless_chip_for_every_kind(split, vae, classifier):
    config = NoiseSweepConfig(levels=(0.0, 0.2), chips=2, thresholds=(), memristor=VAE_MEMRISTOR, seed=3)
    sweep = runs.inpainting_noise_sweep({"m": vae}, split, classifier, config, (0.5,), show_progress=False)
    assert not np.isnan(sweep.values).any()
    programming, read = (sweep.stats("m", kind, "whole")[0] for kind in ("programming", "read"))
    assert programming[0] == read[0]
    programming_seed, read_seed = config.chip_seeds(0)  # the read seed also keys the latent choices
    chip = deploy_vae(vae, seed=programming_seed)
    expected = mean_losses(runs.record_reconstructions(chip, split, read_seed=read_seed)[-1], split.targets())["whole"]
    assert sweep.values[0, 0, 0, 0, -1, runs.QUANTITIES.index("whole")] == pytest.approx(expected, rel=1e-6)
    # the spread is the sample std over the two chips, |a - b| / sqrt(2) at each level
    chips = sweep.values[0, config.kinds.index("read"), :, :, -1, runs.QUANTITIES.index("whole")]
    assert (chips[:, 0] != chips[:, 1]).all()
    assert sweep.stats("m", "read", "whole")[1] == pytest.approx(np.abs(chips[:, 0] - chips[:, 1]) / np.sqrt(2))
    with pytest.raises(ValueError, match="quantity"):
        sweep.stats("m", "read", "loss")


def test_hybrid_energy_is_the_crossbar_price_of_the_analogue_layers_plus_the_digital_price_of_the_rest(split, vae):
    counts = runs.record_vae_counts(vae, split)
    layers = counts.counts.layers
    analogue = list(vae.pruned_layers())
    assert set(analogue) < set(layers)  # the posterior's layers are counted too
    table = counts.counts.per_image(None)
    config = EnergyConfig()
    all_analogue, ours = (runs.vae_energy_rows(counts, chosen, (1e9,))[-1] for chosen in (layers, analogue))
    assert all_analogue.hybrid_pj == pytest.approx(energy(table, config, "hybrid").total_pj)
    digital_rest = energy(runs.layer_rows(table, [n for n in layers if n not in analogue]), config, "digital").total_pj
    assert ours.hybrid_pj == pytest.approx(energy(runs.layer_rows(table, analogue), config, "hybrid").total_pj + digital_rest)
    none_analogue = runs.vae_energy_rows(counts, [], (1e9,))[-1]
    assert none_analogue.ratio == pytest.approx(1.0)
    early = runs.vae_energy_rows(counts, analogue, (1e9,))[0]
    assert early.mean_exit <= 5.0 and early.digital_pj <= ours.digital_pj
    with pytest.raises(ValueError, match="analogue_layers"):
        runs.vae_energy_rows(counts, ["nope"], (1.0,))


def test_summaries_format_and_choose_by_value():
    Row = runs.Quality
    rows = [Row(0.1, 0.2, 0.30, 5.0, 0.9, 12.0), Row(1.0, 0.2, 0.305, 5.0, 0.9, 8.0),
            Row(10.0, 0.3, 0.50, 4.0, 0.8, 4.0), Row(None, 0.2, 0.30, 5.0, 0.9, 16.0)]
    assert summaries.largest_saving_within(rows, 16) == (1.0, 0.5)  # eps 10 saves more but loses 0.2
    table = summaries.quality_table({"net": rows}, 16, (1.0, None))
    assert table.rows[0] == ("net", "1", "50.0 %", "0.305", "5.00", "90.0 %")
    assert table.rows[1][1] == "full T" and table.rows[1][2] == "0.0 %"
    values = summaries.study_values(rows, 1.0, 16, "x")
    assert values["x_saved"] == 0.5 and values["x_damaged_full"] == 0.30
    with pytest.raises(ValueError, match="eps=2.0"):
        summaries.row_at(rows, 2.0)


def test_words_follow_the_numbers():
    assert [summaries.stop_words(s) for s in (0.0, 0.19, 0.2, 0.49, 0.5)] == [
        "rarely", "rarely", "sometimes", "sometimes", "often"]
    assert summaries.ratio_words(2.46) == "2.5x less" and summaries.ratio_words(0.5) == "2.0x more"
    assert [summaries.order_words(r, 62.5) for r in (21.0, 187.5, 20.0, 200.0)] == [
        "the order of", "the order of", "well below", "well above"]
    assert summaries.compare_words(4.312, 4.309) == "identical to the printed precision"
    assert summaries.compare_words(4.20, 4.32) == "0.12 lower" and summaries.compare_words(4.5, 4.32) == "0.18 higher"
    assert summaries.fill_words(0.3, 0.9).startswith("fills in") and summaries.fill_words(0.9, 0.9).startswith("does not")


def test_measures_words_name_the_methods_the_numbers_rank_first():
    Row = runs.Quality

    def rows(damaged, score):
        return [Row(None, 0.1, damaged, score, 0.9, 16.0)]

    disagree = {"a": rows(0.5, 6.0), "b": rows(0.3, 5.0)}
    assert summaries.measures_words(disagree).startswith("The two measures disagree on a:")
    agree = {"a": rows(0.2, 6.0), "b": rows(0.3, 5.0)}
    assert summaries.measures_words(agree).startswith("Here the two measures agree: a scores")
    ranked = {"a": rows(0.3, 6.0), "b": rows(0.2, 5.0), "c": rows(0.4, 4.0)}
    assert "b has the lowest" in summaries.measures_words(ranked)
    assert summaries.measures_words({"a": rows(0.3, 1.0), "b": rows(0.2, 1.001)}).startswith("All methods score the same")


def test_scenarios_and_components_add_up(split, vae):
    from primekit.energy.tables import scenarios

    counts = runs.record_vae_counts(vae, split)
    analogue = list(vae.pruned_layers())
    table, values = summaries.scenario_table(counts, analogue, None, scenarios())
    default = runs.vae_energy_rows(counts, analogue, ())[0]
    assert values["ratio_default_ours"] == pytest.approx(default.ratio)
    assert table.rows[0][1] == f"{default.ratio:.1f}x" and len(table.rows) == len(scenarios())
    assert values["ratio_dense_all"] > values["ratio_default_all"]  # a dense digital reference costs more
    parts = summaries.hybrid_components(counts, analogue, None, EnergyConfig())
    assert sum(parts.values()) == pytest.approx(default.hybrid_pj) and parts["neurons"] > 0


def test_noise_table_has_a_row_per_kind_and_level_and_a_column_per_method():
    from primekit.experiments.inpainting_runs import QUANTITIES, InpaintingNoiseSweep

    config = NoiseSweepConfig(levels=(0.0, 0.1), chips=2, thresholds=())
    values = np.zeros((2, 2, 2, 2, 1, len(QUANTITIES)))
    values[1, 1, 1, :, 0, QUANTITIES.index("damaged")] = [0.4, 0.6]   # method b, read noise, 10 %, no early stop
    table = summaries.noise_table(InpaintingNoiseSweep(config, ("a", "b"), (), values, 5, 1.0), (0.1,), None)
    assert table.header == ("noise", "a", "b")
    named = summaries.noise_table(InpaintingNoiseSweep(config, ("memristor-pruning", "b"), (), values, 5, 1.0),
                                  (0.1,), None)
    assert named.header == ("noise", "Memristor Pruning", "b")
    assert table.rows == (("programming 10 %", "0.000 ± 0.000", "0.000 ± 0.000"),
                          ("read 10 %", "0.000 ± 0.000", "0.500 ± 0.141"))


def test_semantics_comparison_counts_the_rerun_steps_and_is_cached(split, vae):
    rows, measured, machine = runs.compare_semantics(vae, split, (1e9,))
    streaming, rerun = rows
    assert (streaming.semantics, rerun.semantics) == ("streaming", "re-run (authors)")
    assert streaming.steps_per_digit == pytest.approx(streaming.mean_exit)
    exits = run_split(RerunVAE(vae, 5), split, policy=ConsistencyStop(1e9)).early.exit_step
    assert rerun.mean_exit == pytest.approx(exits.float().mean().item())
    assert rerun.steps_per_digit == pytest.approx((exits * (exits + 1) / 2).float().mean().item())  # 1 + ... + t
    again = runs.compare_semantics(vae, split, (1e9,))
    assert again[0] == rows and again[1] == measured and "cores" in machine
    table = summaries.semantics_table(rows)
    assert table.rows[0][0] == "streaming" and table.rows[1][3] == f"{rerun.steps_per_digit:.1f}"


def test_cached_reconstructions_equal_a_fresh_recording(split, vae):
    fresh = runs.record_reconstructions(vae, split, index=[1, 4], read_seed=7)
    assert torch.equal(runs.cached_reconstructions(vae, split, index=[1, 4], read_seed=7), fresh)
    assert torch.equal(runs.cached_reconstructions(vae, split, index=[1, 4], read_seed=7), fresh)


def test_noise_table_shows_the_noiseless_chips_once_first():
    from primekit.experiments.inpainting_runs import QUANTITIES, InpaintingNoiseSweep

    config = NoiseSweepConfig(levels=(0.0, 0.1), chips=2, thresholds=())
    values = np.zeros((1, 2, 2, 2, 1, len(QUANTITIES)))
    values[0, :, 0, :, 0, QUANTITIES.index("damaged")] = [0.3, 0.5]      # level 0: the same chips for both kinds
    values[0, 1, 1, :, 0, QUANTITIES.index("damaged")] = [0.6, 0.6]      # read noise, 10 %
    table = summaries.noise_table(InpaintingNoiseSweep(config, ("a",), (), values, 5, 1.0), (0.1, 0.0), None)
    assert table.rows == (("no noise", "0.400 ± 0.141"), ("programming 10 %", "0.000 ± 0.000"),
                          ("read 10 %", "0.600 ± 0.000"))


def test_premise_words_tell_flat_from_moved():
    from primekit.experiments.inpainting_runs import QUANTITIES, InpaintingNoiseSweep

    config = NoiseSweepConfig(levels=(0.0, 0.2), chips=2, thresholds=())
    values = np.zeros((1, 2, 2, 2, 1, len(QUANTITIES)))
    damaged = QUANTITIES.index("damaged")
    values[0, 0, :, :, 0, damaged] = [[0.43, 0.45], [0.42, 0.44]]        # programming: -0.01, spreads 0.014
    flat = InpaintingNoiseSweep(config, ("memristor-pruning",), (), values.copy(), 5, 1.0)
    assert summaries.premise_words(flat) == "so its programming curve is flat by the model's premise, not as a finding"
    values[0, 0, 1, :, 0, damaged] = [0.60, 0.62]                         # +0.17, far beyond 2 x 0.02
    moved = summaries.premise_words(InpaintingNoiseSweep(config, ("memristor-pruning",), (), values, 5, 1.0))
    assert moved.startswith("so its programming curve moves only through the residual errors of its RESET pairs "
                            "(+0.170 at 20 %)")
    with pytest.raises(ValueError, match="need 0"):
        summaries.premise_words(InpaintingNoiseSweep(NoiseSweepConfig(levels=(0.1,), chips=2, thresholds=()),
                                                     ("memristor-pruning",), (), values[:, :, :1], 5, 1.0))


def test_clipping_words_say_what_clipping_costs():
    assert summaries.clipping_words(0, 100, 0.6, 0.6) == ("Weight Tuning's trained weights fit the conductance range: "
                                                          "no cell is clipped on the chip.")
    costly = summaries.clipping_words(2378, 354816, 0.778, 0.634)
    assert costly == ("Weight Tuning's trained weights do not all fit the conductance range: 2,378 of its 354,816 "
                      "cells are clipped, so even without noise its damaged-square MSE on the chip is 0.778, against "
                      "0.634 in software on the same digits: its column is that of a clipped network, not a measure "
                      "of how weight tuning copes with noise.")
    assert summaries.clipping_words(3, 100, 0.605, 0.600).endswith(
        "3 of its 100 cells are clipped, which moves its noiseless damaged-square MSE little (0.605, 0.600 in "
        "software).")


def test_energy_table_writes_both_energies_alike():
    from primekit.experiments.inpainting_runs import VAEEnergyRow

    table = summaries.energy_table({"ours": [VAEEnergyRow(0.3, 8.0, 19_782_400.0, 15_678_200.0)]}, 16)
    assert table.rows == (("ours", "0.3", "50.0 %", "19,782", "15,678", "1.3x"),)
