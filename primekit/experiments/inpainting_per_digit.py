"""The inpainting chapter's results digit by digit, and paired bootstrap intervals over the digits.

:func:`primekit.experiments.inpainting_runs.threshold_study` keeps the means over the test digits; how sure a
mean (or a difference of two networks on the same digits) is needs each digit's own result. :func:`digit_results`
records the same networks on the same digits with the same read seed (so its means equal the study's) and keeps,
per threshold and digit, the exit step, the damaged-square MSE and the digit classifier's class probabilities.

The intervals resample the digits with replacement, the same draw for both networks of a pair (a percentile
bootstrap at :data:`primekit.inference.intervals.LEVEL`). They cover the finite set of test digits, not
training seeds (one trained network per method is one draw) nor other chips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from primekit import cache
from primekit.checks import check_integer, check_number
from primekit.experiments.cached_runs import model_fingerprint
from primekit.experiments.inpainting_runs import record_reconstructions
from primekit.experiments.inpainting_training import digits_fingerprint
from primekit.inference.consistency import ConsistencyStop
from primekit.inference.early_stop import replay
from primekit.inference.inception import class_probabilities
from primekit.inference.inpainting_metrics import reconstruction_losses
from primekit.inference.intervals import LEVEL, Interval
from primekit.seeding import derive_seed

#: Bootstrap resamples: the interval's ends move by a few hundredths of their width between seeds.
RESAMPLES = 5_000


@dataclass(frozen=True)
class DigitResults:
    """Per digit, for every network and threshold (``epsilons``, then None: full T), ``[thresholds, digits]``:
    ``exits`` (exit step, 1 to T), ``damaged`` (damaged-square MSE) and ``probabilities`` (the digit classifier's
    ``p(y|x)``, ``[thresholds, digits, classes]``)."""

    epsilons: tuple[float, ...]
    exits: dict
    damaged: dict
    probabilities: dict

    def row(self, eps: float | None) -> int:
        """The position of threshold ``eps`` (None: full T) on the first axis."""
        if eps is None:
            return len(self.epsilons)
        if eps not in self.epsilons:
            raise ValueError(f"eps={eps!r} is not among these results' thresholds {self.epsilons} (or None)")
        return self.epsilons.index(eps)

    def at(self, quantity: str, name: str, eps: float | None) -> np.ndarray:
        """``quantity`` ("exits", "damaged" or "probabilities") of network ``name`` at threshold ``eps``."""
        if quantity not in ("exits", "damaged", "probabilities"):
            raise ValueError(f"quantity={quantity!r} must be 'exits', 'damaged' or 'probabilities'")
        values = getattr(self, quantity)
        if name not in values:
            raise ValueError(f"name={name!r} is not among these results' networks {list(values)}")
        return values[name][self.row(eps)]


def digit_results(models: Mapping[str, nn.Module], split, classifier: nn.Module, epsilons: Sequence[float], *,
                  index=None, read_seed: int = 0) -> DigitResults:
    """Each digit's exit, damaged-square MSE and class probabilities for every network and threshold, cached by
    the networks' content (the runs of :func:`~primekit.experiments.inpainting_runs.threshold_study`, digit by
    digit)."""
    epsilons = tuple(check_number("epsilons", e, above=0) for e in epsilons)
    index = np.arange(len(split)) if index is None else np.asarray(index)
    key = {"models": {n: model_fingerprint(m) for n, m in models.items()}, "classifier": model_fingerprint(classifier),
           "epsilons": epsilons, "index": index.tolist(), "read_seed": read_seed}

    def compute():
        clean = split.targets(index)
        exits, damaged, probabilities = {}, {}, {}
        for name, model in models.items():
            outputs = record_reconstructions(model, split, index=index, read_seed=read_seed)
            per_eps = []
            for eps in epsilons + (None,):
                if eps is None:
                    images, steps = outputs[-1], torch.full((len(index),), outputs.shape[0])
                else:
                    result = replay(outputs, ConsistencyStop(eps))
                    images, steps = result.prediction, result.exit_step
                per_eps.append((steps.numpy(), reconstruction_losses(images, clean)["damaged"].numpy(),
                                class_probabilities(classifier, images).numpy()))
            exits[name], damaged[name], probabilities[name] = (np.stack(part) for part in zip(*per_eps))
        return DigitResults(epsilons, exits, damaged, probabilities)

    return cache.load_or_run("inpainting-per-digit", key, compute, data_fingerprint=digits_fingerprint(split))


def _weights(n: int, resamples: int, seed: int):
    """Bootstrap resamples of ``n`` digits as weights ``[chunk, n]`` (each row: how often each digit was drawn,
    over n), in chunks of a few million entries."""
    rng = np.random.default_rng(derive_seed(seed, "digit-bootstrap"))
    chunk = max(1, 2_000_000 // n)
    for start in range(0, resamples, chunk):
        yield rng.multinomial(n, np.full(n, 1 / n), size=min(chunk, resamples - start)) / n


def bootstrap_interval(statistic: Callable[[np.ndarray], np.ndarray], n: int, *, seed: int = 0,
                       resamples: int = RESAMPLES, level: float = LEVEL) -> Interval:
    """The percentile interval of ``statistic`` over bootstrap resamples of ``n`` digits.

    ``statistic(weights)`` takes weights ``[r, n]`` (rows sum to 1; uniform weights are the sample itself) and
    returns ``[r]`` values; the estimate is its value on the sample.
    """
    n, resamples = check_integer("n", n, 1), check_integer("resamples", resamples, 100)
    level = check_number("level", level, above=0, at_most=0.999999)
    estimate = float(statistic(np.full((1, n), 1 / n))[0])
    values = np.concatenate([statistic(w) for w in _weights(n, resamples, seed)])
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    # when every resample gives the same value, rounding can put it a hair beside the estimate: keep it inside
    return Interval(estimate, min(float(low), estimate), max(float(high), estimate), n, level)


def _per_digit(name: str, values, n: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0 or len(array) == 0 or (n is not None and len(array) != n):
        raise ValueError(f"{name} must hold one entry per digit" + (f" ({n})" if n else "") +
                         f", got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinite values; every digit's result must be finite")
    return array


def load_saved_interval(exits, timesteps: int, **options) -> Interval:
    """The load saved by early stop, ``1 - mean(exits) / T``, with its bootstrap interval over the digits."""
    timesteps = check_integer("timesteps", timesteps, 1)
    exits = _per_digit("exits", exits)
    if exits.min() < 1 or exits.max() > timesteps:
        raise ValueError(f"exits run from {exits.min():g} to {exits.max():g}; each must be in [1, timesteps={timesteps}]")
    return bootstrap_interval(lambda w: 1 - w @ exits / timesteps, len(exits), **options)


def relative_change_interval(a, b, **options) -> Interval:
    """``mean(a) / mean(b) - 1`` of two per-digit losses on the same digits, with its paired interval."""
    b = _per_digit("b", b)
    a = _per_digit("a", a, len(b))
    if not np.all(b >= 0) or b.sum() == 0:
        raise ValueError("b must hold losses >= 0 with a mean above 0 (the reference of a relative change)")
    return bootstrap_interval(lambda w: (w @ a) / (w @ b) - 1, len(b), **options)


def _p_log_p(p: np.ndarray) -> np.ndarray:
    """``p log p`` elementwise, 0 where ``p`` is 0."""
    return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def _weighted_is(probabilities: np.ndarray):
    """The Inception Score of weighted digits: ``exp(sum_i w_i KL(p_i || p_w))`` with ``p_w = sum_i w_i p_i``,
    i.e. ``exp(sum_i w_i sum_c p_ic log p_ic - sum_c p_wc log p_wc)``."""
    own = _p_log_p(probabilities).sum(axis=1)

    def score(w: np.ndarray) -> np.ndarray:
        return np.exp(w @ own - _p_log_p(w @ probabilities).sum(axis=1))
    return score


def relative_is_interval(a, b, **options) -> Interval:
    """``IS(a) / IS(b) - 1`` of two sets of class probabilities ``[digits, classes]`` of the same digits (the
    MNIST Inception Score, :func:`primekit.inference.inception.inception_score`), with its paired interval."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape or len(a) == 0:
        raise ValueError(f"a {a.shape} and b {b.shape} must both be [digits, classes] of the same digits")
    if (a < 0).any() or (b < 0).any() or not (np.allclose(a.sum(1), 1, atol=1e-4) and np.allclose(b.sum(1), 1, atol=1e-4)):
        raise ValueError("a and b must hold class probabilities: rows of non-negative numbers summing to 1")
    score_a, score_b = _weighted_is(a), _weighted_is(b)
    return bootstrap_interval(lambda w: score_a(w) / score_b(w) - 1, len(a), **options)


def half_width(interval: Interval) -> float:
    """Half the width of ``interval``: the resolution of its estimate on these digits."""
    return (interval.high - interval.low) / 2
