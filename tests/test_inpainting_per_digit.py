"""The inpainting chapter's per-digit results and paired intervals, and the ledger values its summaries compute:
the per-digit means are the threshold study's, the intervals are exact where the answer is known, and the
largest changes and increases are found by hand."""

import numpy as np
import pytest
import torch

from primekit.data.inpainting import make_split
from primekit.experiments import inpainting_per_digit as per_digit
from primekit.experiments import inpainting_runs as runs
from primekit.experiments import inpainting_summaries as summaries
from primekit.experiments.inpainting_runs import InpaintingNoiseSweep, Quality, VAEEnergyRow
from primekit.experiments.noise_sweep import NoiseSweepConfig
from primekit.inference.inception import DigitClassifier, inception_score
from tests.test_inpainting_model import calibrated_vae


def test_per_digit_results_average_to_the_threshold_study():
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    split = make_split(images, np.arange(5) % 3, np.arange(5), timesteps=5)
    torch.manual_seed(0)
    models, classifier = {"a": calibrated_vae(seed=1, steps=5)}, DigitClassifier().eval()
    epsilons, index = (0.5, 1e9), [0, 2, 4]
    study = runs.threshold_study(models, split, classifier, epsilons, index=index, read_seed=3)
    digits = per_digit.digit_results(models, split, classifier, epsilons, index=index, read_seed=3)
    for row in study.rows["a"]:
        assert digits.at("exits", "a", row.eps).mean() == pytest.approx(row.mean_exit)
        assert digits.at("damaged", "a", row.eps).mean() == pytest.approx(row.damaged, rel=1e-6)
        assert inception_score(torch.from_numpy(digits.at("probabilities", "a", row.eps))) == pytest.approx(
            row.mnist_is, rel=1e-6)
    assert digits.at("exits", "a", None).tolist() == [5, 5, 5]
    again = per_digit.digit_results(models, split, classifier, epsilons, index=index, read_seed=3)   # cached
    assert np.array_equal(again.damaged["a"], digits.damaged["a"]) and again.epsilons == epsilons
    with pytest.raises(ValueError, match="eps=0.7 is not among"):
        digits.at("damaged", "a", 0.7)
    with pytest.raises(ValueError, match="name='b'"):
        digits.at("damaged", "b", None)
    with pytest.raises(ValueError, match="epsilons=0.0"):
        per_digit.digit_results(models, split, classifier, (0.0,))


def test_intervals_are_exact_where_every_resample_agrees():
    none_saved = per_digit.load_saved_interval([4, 4, 4], 4)
    assert (none_saved.estimate, none_saved.low, none_saved.high, none_saved.n) == pytest.approx((0, 0, 0, 3))
    all_same = per_digit.load_saved_interval([7] * 12, 16)     # 1/12 weights round: the interval still holds it
    assert all_same.low <= all_same.estimate <= all_same.high and all_same.estimate == pytest.approx(9 / 16)
    b = np.array([0.1, 0.4, 0.2, 0.3])
    doubled = per_digit.relative_change_interval(2 * b, b)
    assert (doubled.estimate, doubled.low, doubled.high) == pytest.approx((1.0, 1.0, 1.0))
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    same = per_digit.relative_is_interval(p, p)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0) and per_digit.half_width(same) == 0.0


def test_estimates_are_the_sample_values_and_the_interval_holds_them():
    exits = np.array([1, 1, 4, 4, 2, 3])
    saved = per_digit.load_saved_interval(exits, 4, seed=1)
    assert saved.estimate == pytest.approx(1 - exits.mean() / 4) and saved.low < saved.estimate < saved.high
    assert per_digit.load_saved_interval(exits, 4, seed=1) == saved                    # seeded
    a, b = np.array([[0.9, 0.1], [0.6, 0.4], [0.1, 0.9]]), np.array([[0.5, 0.5], [0.7, 0.3], [0.3, 0.7]])
    score = per_digit.relative_is_interval(a, b).estimate
    assert score == pytest.approx(inception_score(torch.tensor(a)) / inception_score(torch.tensor(b)) - 1)


def test_a_bootstrap_interval_of_a_mean_has_the_textbook_width():
    values = np.random.default_rng(2).normal(size=400)
    interval = per_digit.bootstrap_interval(lambda w: w @ values, len(values))
    assert per_digit.half_width(interval) == pytest.approx(1.96 * values.std() / 20, rel=0.1)


def test_intervals_refuse_bad_input():
    with pytest.raises(ValueError, match=r"exits run from 0 to 4; each must be in \[1, timesteps=4\]"):
        per_digit.load_saved_interval([0, 4], 4)
    with pytest.raises(ValueError, match=r"a must hold one entry per digit \(3\)"):
        per_digit.relative_change_interval([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        per_digit.relative_change_interval([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="rows of non-negative numbers summing to 1"):
        per_digit.relative_is_interval([[0.5, 0.6]], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="resamples=10 must be an integer >= 100"):
        per_digit.bootstrap_interval(lambda w: w.sum(1), 3, resamples=10)


def _rows(values_full, values_eps):
    """Study rows at eps 0.3 and full T whose damaged MSE and IS are the given values."""
    return [Quality(0.3, 0.0, values_eps, 2 * values_eps, 1.0, 3.0), Quality(None, 0.0, values_full, 2 * values_full,
                                                                                1.0, 5.0)]


def test_largest_change_and_the_figure_data_by_hand():
    rows = {"a": _rows(0.10, 0.11), "b": _rows(0.20, 0.16)}
    name, change = summaries.largest_change(rows, 0.3)
    assert name == "b" and change == pytest.approx(0.2)
    assert summaries.largest_change(rows, 0.3, "mnist_is") == ("b", pytest.approx(0.2))
    data = summaries.rows_data(rows, ("damaged", "mean_exit"))
    assert data == {"eps": ["0.3", "full T"], "a: damaged": [0.11, 0.10], "a: mean_exit": [3.0, 5.0],
                    "b: damaged": [0.16, 0.20], "b: mean_exit": [3.0, 5.0]}
    energy = summaries.rows_data({"ours": [VAEEnergyRow(0.3, 3.0, 10.0, 2.0), VAEEnergyRow(None, 5.0, 20.0, 4.0)]},
                                 ("hybrid_pj",))
    assert energy == {"eps": ["0.3", "full T"], "ours: hybrid_pj": [2.0, 4.0]}
    with pytest.raises(ValueError, match="rows_by_name is empty"):
        summaries.largest_change({}, 0.3)


def _sweep():
    """Two methods, two kinds, levels 0 and 0.1, two chips, one threshold: damaged MSE chosen by hand."""
    config = NoiseSweepConfig(levels=(0.0, 0.1), chips=2, thresholds=())
    values = np.ones((2, 2, 2, 2, 2, len(runs.QUANTITIES)))
    d = runs.QUANTITIES.index("damaged")
    values[:, :, 0, :, :, d] = 0.2                                # noiseless: 0.2 everywhere
    values[0, 0, 1, :, :, d] = [[0.25, 0.24], [0.27, 0.26]]       # method p, kind 0, 10 %: chips 0.24 and 0.26
    values[1, 0, 1, :, :, d] = [[0.33, 0.30], [0.30, 0.30]]       # method t: 0.30 on both chips, ε moves chip 0
    values[:, 1, 1, :, :, d] = 0.2
    return InpaintingNoiseSweep(config, ("p", "t"), (0.3,), values, 4, 1.0)


def test_largest_sweep_change_and_robust_increase_by_hand():
    sweep = _sweep()
    worst = summaries.largest_sweep_change(sweep, "t")
    assert worst == {"change": pytest.approx(0.1), "eps": 0.3, "kind": sweep.config.kinds[0], "level": 0.1}
    kind = sweep.config.kinds[0]
    increase = summaries.robust_increase(sweep, "p", "t", kind, 0.1)
    assert increase["pruned_increase"] == pytest.approx(0.25) and increase["tuned_increase"] == pytest.approx(0.5)
    spread_p = np.std([0.24, 0.26], ddof=1) / 0.2                 # the spread over chips, as a fraction of 0.2
    assert increase["resolution"] == pytest.approx(2 * spread_p)  # t has no spread
    data = summaries.sweep_data(sweep, ("p", "t"))
    assert data["level"] == [0.0, 0.1] and data[f"p, {kind}, ε full T: mean"] == pytest.approx([0.2, 0.25])
    assert data[f"t, {kind}, ε 0.3: mean"] == pytest.approx([0.2, 0.315]) and len(data) == 1 + 2 * 2 * 2 * 2
    with pytest.raises(ValueError, match="level=0.2"):
        summaries.robust_increase(sweep, "p", "t", kind, 0.2)
    with pytest.raises(ValueError, match="method='x'"):
        summaries.largest_sweep_change(sweep, "x")
