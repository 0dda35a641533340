"""How sure a measured accuracy is: a binomial interval for one accuracy, a paired one for a difference.

One accuracy on n test samples gets a Wilson score interval (:func:`accuracy_interval`): unlike the normal
approximation it stays inside [0, 1] and behaves near 100 %. Two methods scored on the same test samples are
compared pair by pair (:func:`paired_difference`): only the samples one gets right and the other wrong carry
information, so the interval is a paired bootstrap of the 2 x 2 table and the test is McNemar's exact test.
Neither says anything about training seeds: one trained network per method is one draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from primekit.checks import check_integer, check_number
from primekit.seeding import derive_seed

#: Confidence level of every interval the book reports.
LEVEL = 0.95
#: Resamples of the paired bootstrap: the interval's ends move by about 0.1 point between seeds at n = 1,000.
BOOTSTRAP_RESAMPLES = 20_000


@dataclass(frozen=True)
class Interval:
    """An estimate and its ``level`` confidence interval, in the estimate's unit (an accuracy or a saving as a
    fraction: ``0.963`` is 96.3 %)."""

    estimate: float
    low: float
    high: float
    n: int
    level: float = LEVEL

    def __str__(self) -> str:
        return f"{100 * self.estimate:.1f} % ({100 * self.level:g} % CI {100 * self.low:.1f} to {100 * self.high:.1f})"


@dataclass(frozen=True)
class PairedDifference:
    """Accuracy of A minus accuracy of B on the same samples, with its interval and McNemar's p-value.

    Attributes:
        difference: ``acc_A - acc_B`` (a fraction), with ``low``/``high`` its paired bootstrap interval.
        only_a, only_b: samples only A (only B) gets right, the discordant pairs McNemar's test uses.
        p_value: two-sided exact McNemar p-value (1.0 when no sample is discordant).
    """

    difference: float
    low: float
    high: float
    n: int
    only_a: int
    only_b: int
    p_value: float
    level: float = LEVEL

    def __str__(self) -> str:
        return (f"{100 * self.difference:+.1f} points ({100 * self.level:g} % CI {100 * self.low:+.1f} to "
                f"{100 * self.high:+.1f}; McNemar p = {self.p_value:.2g})")


def _correct(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of per-sample results, got shape {array.shape}")
    if array.dtype.kind != "b" and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must hold booleans (or 0/1): whether each sample was classified correctly")
    return array.astype(bool)


def binomial_interval(successes: int, n: int, level: float = LEVEL) -> Interval:
    """Wilson score interval of ``successes / n``."""
    n = check_integer("n", n, 1)
    successes = check_integer("successes", successes, 0, n)
    level = check_number("level", level, above=0, at_most=0.999999)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), n, level)


def accuracy_interval(correct, level: float = LEVEL) -> Interval:
    """:func:`binomial_interval` of the per-sample results ``correct`` (bool per test sample)."""
    correct = _correct("correct", correct)
    return binomial_interval(int(correct.sum()), len(correct), level)


def mean_interval(values, level: float = LEVEL) -> Interval:
    """Normal-approximation interval of the mean of per-sample ``values``: ``mean +- z sd / sqrt(n)`` (``sd`` with
    ``n - 1``), in the values' unit; e.g. the load each test sample saves, ``1 - exit_step / T`` (fractions)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size < 2:
        raise ValueError(f"values must be a 1-D array of at least 2 per-sample values, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"values holds {int((~np.isfinite(array)).sum())} NaN or infinite entries; all must be finite")
    level = check_number("level", level, above=0, at_most=0.999999)
    mean = float(array.mean())
    half = NormalDist().inv_cdf(0.5 + level / 2) * float(array.std(ddof=1)) / math.sqrt(array.size)
    return Interval(mean, mean - half, mean + half, int(array.size), level)


def mcnemar_p_value(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar test: under "A and B are equally accurate" the discordant samples split 50/50."""
    only_a, only_b = check_integer("only_a", only_a, 0), check_integer("only_b", only_b, 0)
    discordant = only_a + only_b
    if discordant == 0:
        return 1.0
    tail = sum(math.comb(discordant, k) for k in range(min(only_a, only_b) + 1)) / 2.0 ** discordant
    return min(1.0, 2 * tail)


def paired_difference(correct_a, correct_b, level: float = LEVEL, seed: int = 0,
                      resamples: int = BOOTSTRAP_RESAMPLES) -> PairedDifference:
    """Accuracy of A minus B on the same test samples: paired bootstrap interval and McNemar's exact test.

    Resampling the test samples with replacement is a multinomial draw of the 2 x 2 table (both right, only A,
    only B, both wrong), so ``resamples`` draws cost microseconds whatever n is.
    """
    a, b = _correct("correct_a", correct_a), _correct("correct_b", correct_b)
    if a.shape != b.shape:
        raise ValueError(f"correct_a has {a.size} samples but correct_b has {b.size}: pair them on one test set")
    level = check_number("level", level, above=0, at_most=0.999999)
    resamples = check_integer("resamples", resamples, 100)
    n, only_a, only_b = a.size, int((a & ~b).sum()), int((~a & b).sum())
    table = np.array([int((a & b).sum()), only_a, only_b, int((~a & ~b).sum())]) / n
    rng = np.random.default_rng(derive_seed(seed, "paired-bootstrap"))
    draws = rng.multinomial(n, table, size=resamples)
    differences = (draws[:, 1] - draws[:, 2]) / n
    low, high = np.quantile(differences, [(1 - level) / 2, (1 + level) / 2])
    return PairedDifference((only_a - only_b) / n, float(low), float(high), n, only_a, only_b,
                            mcnemar_p_value(only_a, only_b), level)
