"""The noise chapter's number-dependent sentences: each branch chosen by hand-made numbers whose answer is known."""

import numpy as np
import pytest

from primekit.experiments.noise_anatomy import LayerNoise, Margins
from primekit.experiments.noise_explanations import anatomy_summary, flip_explanation, level_effects
from primekit.experiments.noise_sweep import NoiseSweep, NoiseSweepConfig
from primekit.experiments.noise_verdicts import exit_change_words, gap_text, model_readings

METHODS = ("weight-tuning", "software-pruning", "memristor-pruning")
CONFIG = NoiseSweepConfig(levels=(0.0, 0.05, 0.2), chips=2, thresholds=(0.8,))      # kinds: programming, read


def sweep_with(drops_5, drops_20):
    """A sweep whose every method starts at 0.9 and loses ``drops_5[m]`` at 5 % and ``drops_20[m]`` at 20 % of both
    noises (the same on both chips)."""
    accuracy = np.zeros((3, 2, 3, 2))
    for i, method in enumerate(METHODS):
        accuracy[i, :, :, :] = np.array([0.9, 0.9 - drops_5[method], 0.9 - drops_20[method]])[None, :, None]
    early = accuracy[..., None].copy()
    return NoiseSweep(CONFIG, METHODS, accuracy, early, np.full_like(early, 8.0),
                      np.zeros((3, 2, 3, 2, 1, 10), np.float32), np.zeros(1, np.int64), 10, 1.0)


def test_level_effects_say_small_and_steep_drops_as_measured():
    quiet = level_effects(sweep_with(dict.fromkeys(METHODS, 0.01), {**dict.fromkeys(METHODS, 0.05),
                                                                   "software-pruning": 0.30}))
    assert (quiet["first_level"], quiet["top_level"]) == (0.05, 0.2)
    assert quiet["first_drop"] == pytest.approx(0.01) and quiet["top_drop"] == pytest.approx(0.30)
    assert quiet["small_noise_text"] == "at 5 % of noise per cell no network loses more than 1.0 points"
    assert quiet["top_noise_text"] == "at 20 % the accuracy falls steeply, by up to 30.0 points"
    early = level_effects(sweep_with({**dict.fromkeys(METHODS, 0.0), "memristor-pruning": 0.04},
                                     dict.fromkeys(METHODS, 0.05)))
    assert early["small_noise_text"] == "at 5 % of noise per cell a network already loses up to 4.0 points"
    assert early["top_noise_text"] == "at 20 % no network loses more than 5.0 points"
    gains = level_effects(sweep_with(dict.fromkeys(METHODS, -0.01), dict.fromkeys(METHODS, -0.01)))
    assert gains["small_noise_text"].endswith("no network loses more than 0.0 points")        # never "-1.0"
    no_noise = NoiseSweep(NoiseSweepConfig(levels=(0.0,), chips=1), METHODS, *[np.zeros(1)] * 4, np.zeros(1), 10, 1.0)
    with pytest.raises(ValueError, match="no noise level above 0"):
        level_effects(no_noise)


def test_exit_change_words_compare_with_the_other_model():
    assert exit_change_words(0.2, 1.4) == "almost no change"                  # a seventh of the other model's
    assert exit_change_words(0.01, 0.0) == "almost no change"                 # both negligible
    assert exit_change_words(0.8, 1.4) == "a change of +0.80 steps, smaller than under the other model"
    assert exit_change_words(-1.5, 1.4) == "a change of -1.50 steps, at least as large as under the other model"


def test_gap_text_reads_float_rounding_as_identical():
    # equal counts of correct answers differ by float32 rounding only (the book's 2.9e-08)
    assert gap_text(2.86e-08, 0.8, 0.003, 0.5) == ("the two are identical at θ = 0.8 and within 0.3 points of each "
                                                   "other at θ = 0.5")
    assert gap_text(0.0006, 0.8, 0.0006, 0.8) == "the two are within 0.1 points of each other at θ = 0.8"


def test_model_readings_name_the_networks_compared():
    win = sweep_with({"weight-tuning": 0.0, "software-pruning": 0.0, "memristor-pruning": 0.0},
                     {"weight-tuning": 0.3, "software-pruning": 0.1, "memristor-pruning": 0.1})
    text = model_readings({"cell": win})
    assert text == ("Under the cell-relative (physical) model, under programming noise Software Pruning loses less "
                    "than Weight Tuning, the paper's pattern; under read noise Software Pruning and Memristor Pruning "
                    "lose less than Weight Tuning, the paper's pattern.")
    half = sweep_with(dict.fromkeys(METHODS, 0.0), {"weight-tuning": 0.3, "software-pruning": 0.3,
                                                     "memristor-pruning": 0.1})
    assert model_readings({"cell": half}) == (
        "Under the cell-relative (physical) model, under programming noise Software Pruning does not lose less than "
        "Weight Tuning; under read noise the paper's pattern holds for Memristor Pruning only.")
    lose = sweep_with(dict.fromkeys(METHODS, 0.0), {"weight-tuning": 0.1, "software-pruning": 0.3,
                                                     "memristor-pruning": 0.3})
    assert model_readings({"cell": lose}).endswith("under read noise neither pruned network loses less than Weight "
                                                   "Tuning.")


def _margins(ratios, flipped, correct=True):
    ratios = np.asarray(ratios, float)
    return Margins(ratios, np.ones_like(ratios), np.full(len(ratios), correct), np.asarray(flipped, bool))


def test_flip_explanation_tells_where_decisions_lie_from_how_they_flip():
    n = 50
    # the same ratios (half at 0.2, half at 5) and the same flips: the pooled curve predicts both exactly
    same = _margins([0.2] * n + [5.0] * n, [True] * n + [False] * n)
    both = flip_explanation({"weight-tuning": same, "memristor-pruning": same},
                            {"weight-tuning": 0.5, "memristor-pruning": 0.5})
    assert both["wt_expected"] == pytest.approx(0.5) and both["mp_expected"] == pytest.approx(0.5)
    assert both["explained_text"] == ("The margins in noise units account for these shares: applied to each "
                                      "network's ratios, the pooled curve of the top panel predicts 50.0 % and 50.0 %.")
    assert both["predictor_text"].startswith("The predictor of robustness is the decision margin")
    assert both["flips_text"] == ("are close to the accuracy drops of the table: a decision that changes was almost "
                                  "always right (100 % and 100 % of them were)")
    # same ratios, but Weight Tuning's decisions at ratio 5 flip too: the pooled curve says 0.25 there
    fragile = _margins([0.2] * n + [5.0] * n, [True] * (2 * n))
    split = flip_explanation({"weight-tuning": fragile, "memristor-pruning": same},
                             {"weight-tuning": 1.0, "memristor-pruning": 0.5})
    assert split["wt_expected"] == pytest.approx(0.75)
    assert split["explained_text"] == (
        "Where the decisions lie does not explain these shares: applied to each network's ratios, the pooled curve "
        "of the top panel predicts 75.0 % and 75.0 %, and Weight Tuning's decisions change more often than that "
        "(100.0 % against 75.0 %), so the margin in noise units is not all that decides whether a decision flips.")
    assert split["predictor_text"].endswith("at the same ratio, Weight Tuning's decisions change more often.")
    assert "Weight Tuning's decisions change more often" in split["summary_margin_text"]
    # changed decisions that were wrong before: the drops are not the flips
    wrong = _margins([0.2] * n, [True] * n, correct=False)
    assert flip_explanation({"weight-tuning": wrong}, {"weight-tuning": 0.0})["flips_text"] == (
        "are not the accuracy drops of the table: 0 % of the changed decisions were right")


def _layers(wn, cn, std=(2.0, 2.0, 2.0)):
    names = ("conv0", "conv1", "linear")
    return [LayerNoise(name, 100, 0.0, s, 20.0, w, c) for name, w, c, s in zip(names, wn, cn, std)]


def test_anatomy_sentences_follow_the_factors():
    coherent = {"weight-tuning": _layers((4.0, 8.0, 12.0), (2.0, 3.0, 3.0), std=(9.0, 3.0, 2.0)),
                "memristor-pruning": _layers((4.0, 4.0, 4.0), (3.0, 3.0, 2.0), std=(7.0, 7.0, 7.0))}
    s = anatomy_summary(coherent)
    assert s["conv0_std_words"] == "larger"                                   # 9 µS against 7 µS
    # largest weight-noise / current-noise ratio: Weight Tuning's linear layer, 12 / 3
    assert s["coherence_text"] == ("This coherence is strongest where training shaped the weights to the inputs: "
                                   "Weight Tuning's output layer has a weight-noise factor of 12.0 but a "
                                   "current-noise factor of 3.0")
    # weight noise 8 against 4 (+100 %), current noise 2.67 against 2.67 (+0 %): largely undone
    assert s["undone_text"].startswith("is real, but it is largely undone at the level of the currents")
    kept = {"weight-tuning": _layers((4.0, 8.0, 12.0), (4.0, 7.0, 10.0), std=(1.0, 3.0, 2.0)),
            "memristor-pruning": _layers((4.0, 4.0, 4.0), (1.0, 3.0, 3.0))}
    s = anatomy_summary(kept)
    assert s["conv0_std_words"] == "smaller"                                  # 1 µS against 2 µS
    assert s["coherence_text"] == ("The drop is largest in Memristor Pruning's conv0, with a weight-noise factor of "
                                   "4.0 but a current-noise factor of 1.0")
    assert s["undone_text"].startswith("is real, and only partly undone")     # +100 % weight, +200 % current
    flat = {"weight-tuning": _layers((3.0, 3.0, 3.0), (2.0, 2.0, 2.0)),
            "memristor-pruning": _layers((4.0, 4.0, 4.0), (2.0, 2.0, 2.0))}
    assert anatomy_summary(flat)["undone_text"] == "does not hold on average for these networks"
    assert anatomy_summary(flat)["conv0_std_words"] == "as large"


def test_written_noise_words_compare_accuracy_and_spread():
    from primekit.experiments.noise_explanations import written_noise_words

    sweep = sweep_with(dict.fromkeys(METHODS, 0.0), dict.fromkeys(METHODS, 0.0))
    k_prog = CONFIG.kinds.index("programming")
    sweep.accuracy[:2, k_prog, 1] = [[0.7, 0.9], [0.6, 0.8]]        # written networks, 5 % programming noise
    words = written_noise_words(sweep, METHODS[:2], 0.05)
    assert words == {"written_costs_words": "costs more than",
                     "written_spread_text": "chips also differ more from each other under programming noise"}
    same = written_noise_words(sweep_with(dict.fromkeys(METHODS, 0.0), dict.fromkeys(METHODS, 0.0)), METHODS[:2], 0.05)
    assert same == {"written_costs_words": "costs no more than",
                    "written_spread_text": "chips do not differ more from each other under programming noise"}


ES = {"es_exit_read_0": 8.44, "es_exit_read_20": 9.85, "low_exit_0": 5.08, "low_exit_20": 8.27,
      "es_max_gap": 2.9e-08, "es_gap_low": 0.003}


def test_early_stop_texts_follow_the_exits_and_the_gaps():
    from primekit.experiments.noise_explanations import early_stop_texts

    book = early_stop_texts(ES)                                        # the book's numbers: later exits, close
    assert book["es_lead_text"] == "Noise costs time before it costs accuracy"
    assert book["es_trend_text"].endswith("the load saved by early stop shrinks as the noise grows")
    assert book["es_follow_text"] == "The accuracy with early stop follows the accuracy without it closely"
    assert book["es_notice_text"] == ("With early stop, noise costs time: the network becomes confident later, so the "
                                      "load saved shrinks; the accuracy stays close to that of the full run")
    assert book["es_adapt_text"].startswith("Early stop thus adapts")
    # the tiny profile's numbers: no later exit at θ, an earlier one at the lowest threshold, and a large gap
    tiny = early_stop_texts({**ES, "es_exit_read_0": 10.0, "es_exit_read_20": 10.0, "low_exit_0": 9.98,
                             "low_exit_20": 9.81, "es_gap_low": 0.05})
    assert tiny["es_lead_text"] == "Noise does not delay the exits at every threshold" and tiny["es_adapt_text"] == ""
    assert tiny["es_summary_text"] == "With early stop, noise did not delay the exits at every threshold in this build."
    assert tiny["es_follow_text"] == "The accuracy with early stop departs from the accuracy without it"
    assert tiny["es_notice_text"].endswith("; the accuracy departs from that of the full run")


def test_gap_text_says_two_zero_gaps_once():
    assert gap_text(0.0, 0.8, 1e-9, 0.5) == "the two are identical at θ = 0.8 and at θ = 0.5"


def test_margin_text_calls_medians_close_only_when_they_are():
    from primekit.experiments.noise_explanations import margin_summary

    n = 40
    wide = Margins(np.full(n, 4.0), np.full(n, 2.0), np.ones(n, bool), np.zeros(n, bool))     # ratio 2
    narrow = Margins(np.full(n, 1.0), np.full(n, 1.0), np.ones(n, bool), np.ones(n, bool))    # ratio 1
    close = Margins(np.full(n, 1.9), np.full(n, 1.0), np.ones(n, bool), np.zeros(n, bool))    # ratio 1.9
    assert margin_summary({"weight-tuning": wide, "memristor-pruning": narrow})["margin_text"] == (
        "the network with the widest margins, Weight Tuning, also has the largest output noise, yet the margins "
        "measured in noise units still differ")
    assert margin_summary({"weight-tuning": wide, "memristor-pruning": close})["margin_text"].endswith(
        "also has the largest output noise, so the margins measured in noise units are close")


def test_flip_text_never_prints_a_rate_as_zero():
    from primekit.experiments.noise_explanations import flip_text

    assert "exceeds four times its noise never changes" in flip_text(0.6, 0.0, 1.5)
    assert "exceeds four times its noise in fewer than 0.1 %" in flip_text(0.6, 0.0003, 1.5)   # the book's 1 in 2,767
    assert "exceeds four times its noise in 1.2 %" in flip_text(0.6, 0.012, 1.5)
