"""Binomial and paired intervals against published values, exact tail sums and the normal approximation."""

import math

import numpy as np
import pytest

from primekit.inference.intervals import (
    accuracy_interval,
    binomial_interval,
    mcnemar_p_value,
    mean_interval,
    paired_difference,
)


@pytest.mark.parametrize("k, n, low, high", [
    (8, 10, 0.4902, 0.9433),    # Wilson score interval, 95 % (Newcombe 1998, table I, method 3)
    (0, 10, 0.0, 0.2775),
    (81, 263, 0.2553, 0.3662),
])
def test_wilson_interval_matches_published_values(k, n, low, high):
    interval = binomial_interval(k, n)
    assert interval.estimate == k / n
    assert interval.low == pytest.approx(low, abs=1e-4) and interval.high == pytest.approx(high, abs=1e-4)


def test_accuracy_interval_counts_the_correct_samples_and_prints_in_percent():
    correct = np.r_[np.ones(963, bool), np.zeros(37, bool)]
    interval = accuracy_interval(correct)
    assert interval == binomial_interval(963, 1000)
    assert str(interval) == "96.3 % (95 % CI 94.9 to 97.3)"


def test_mcnemar_exact_p_value_is_the_doubled_binomial_tail():
    assert mcnemar_p_value(1, 9) == pytest.approx(2 * (1 + 10) / 2**10)
    assert mcnemar_p_value(5, 5) == 1.0 and mcnemar_p_value(0, 0) == 1.0
    assert mcnemar_p_value(0, 7) == pytest.approx(2 / 2**7)


def test_paired_bootstrap_agrees_with_the_normal_approximation_of_the_paired_difference():
    a = np.r_[np.ones(900, bool), np.zeros(100, bool)]
    b = a.copy()
    b[:30] = False          # 30 samples only A gets right
    b[950:960] = True       # 10 samples only B gets right
    result = paired_difference(a, b)
    assert (result.only_a, result.only_b, result.n) == (30, 10, 1000) and result.difference == pytest.approx(0.02)
    se = math.sqrt(30 + 10 - 20**2 / 1000) / 1000       # the paired (Wald) standard error of b - c over n
    # 20,000 resamples: each quantile is within about 0.05 se of its limit; the normal shape itself differs a bit
    assert result.low == pytest.approx(0.02 - 1.96 * se, abs=0.2 * se)
    assert result.high == pytest.approx(0.02 + 1.96 * se, abs=0.2 * se)
    assert result.p_value == pytest.approx(mcnemar_p_value(30, 10))
    assert paired_difference(a, b) == result          # seeded: the same interval every time


def test_identical_methods_differ_by_exactly_zero():
    a = np.arange(50) % 3 == 0
    result = paired_difference(a, a)
    assert (result.difference, result.low, result.high, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_mean_interval_is_the_mean_plus_minus_z_standard_errors():
    interval = mean_interval([0.0, 1.0, 2.0, 3.0, 4.0])      # mean 2, sd sqrt(2.5), n 5
    assert (interval.estimate, interval.n) == (2.0, 5)
    assert interval.low == pytest.approx(2 - 1.385904, abs=1e-6) and interval.high == pytest.approx(2 + 1.385904, abs=1e-6)
    narrower = mean_interval(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), level=0.9)     # z = 1.644854
    assert narrower.high - narrower.low == pytest.approx(2 * 1.644854 * math.sqrt(2.5 / 5), abs=1e-6)
    assert mean_interval([0.3, 0.3, 0.3]) == mean_interval([0.3] * 3) and mean_interval([0.3] * 3).low == pytest.approx(0.3)


@pytest.mark.parametrize("call, message", [
    (lambda: binomial_interval(11, 10), r"successes=11 must be an integer >= 0 and <= 10"),
    (lambda: accuracy_interval([0.5, 1.0]), r"correct must hold booleans"),
    (lambda: paired_difference([True, False], [True]), r"correct_a has 2 samples but correct_b has 1"),
    (lambda: binomial_interval(1, 2, level=1.0), r"level=1.0 must be a finite number > 0 and <= 0.999999"),
    (lambda: mean_interval([0.5]), r"values must be a 1-D array of at least 2 per-sample values"),
    (lambda: mean_interval([0.5, float("nan")]), r"values holds 1 NaN or infinite entries"),
])
def test_bad_input_is_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()
