"""Summaries of early-stop results: the numbers and decisions the early-stop chapter reports.

Everything here reads results that :mod:`primekit.inference.sweeps`, :mod:`primekit.inference.early_stop` and
:mod:`primekit.inference.metrics` computed: threshold sweeps (:class:`~primekit.inference.sweeps.SweepRow`),
timed sweeps (:class:`~primekit.inference.sweeps.TimedRow`), exit steps (1..T), predictions and labels. Accuracies,
savings and shares are fractions (0.963 = 96.3 %), exit steps are in timesteps, times in seconds. Each function
returns a plain dict of named values (glued by the chapter with ``chapter.glue_values``) or a
:class:`~primekit.tables.Table`.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import torch

from primekit.checks import check_number
from primekit.inference.metrics import confusion_matrix, per_class_mean
from primekit.inference.sweeps import SweepRow, TimedRow, realised_fraction
from primekit.tables import Table, percent

#: The paper's largest saving of computational load on N-MNIST (arXiv 2407.18625, abstract): 77.0 %.
PAPER_LOAD_SAVED_NMNIST = 0.770
#: The tolerance of "within one point": one percentage point of accuracy.
ONE_POINT = 0.01


def _row_at(rows: Sequence, threshold: float, what: str = "rows"):
    for row in rows:
        if row.threshold == threshold:
            return row
    raise ValueError(f"threshold={threshold!r} is not in the {what}; they have {[r.threshold for r in rows]}")


def _full_row(rows: Sequence[SweepRow]) -> SweepRow:
    if not rows or rows[-1].threshold != 1.0:
        raise ValueError(f"the sweep must end with threshold 1.0 (the full-T run); its thresholds are "
                         f"{[r.threshold for r in rows]}")
    return rows[-1]


def within_one_point(rows: Sequence[SweepRow], tolerance: float = ONE_POINT) -> SweepRow:
    """The row with the largest load saved whose accuracy is within ``tolerance`` of the full-T accuracy.

    ``rows`` must end with threshold 1.0 (the full run); ties in saving go to the lower threshold.
    ``tolerance`` is a fraction of accuracy (0.01 = one percentage point), >= 0.
    """
    if not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise ValueError(f"tolerance={tolerance!r} must be a fraction >= 0 (0.01 = one point)")
    full = _full_row(rows).accuracy
    return max((r for r in rows if r.accuracy >= full - tolerance), key=lambda r: (r.steps_saved, -r.threshold))


def sweep_summary(rows: Sequence[SweepRow], theta: float, tolerance: float = ONE_POINT) -> dict[str, float]:
    """One network's sweep in numbers: full-T accuracy; accuracy, mean exit and load saved at ``theta``; the
    threshold within one point (:func:`within_one_point`) with its accuracy and saving."""
    full, at, best = _full_row(rows), _row_at(rows, theta, "sweep"), within_one_point(rows, tolerance)
    return {"acc_full": full.accuracy, "acc_theta": at.accuracy, "exit_theta": at.mean_exit,
            "saved_theta": at.steps_saved, "theta_1pt": best.threshold, "acc_1pt": best.accuracy,
            "saved_1pt": best.steps_saved}


def sweep_table(summaries: Mapping[str, Mapping[str, float]], theta: float,
                paper_saved: float = PAPER_LOAD_SAVED_NMNIST) -> Table:
    """The chapter's result table: one row per network (its :func:`sweep_summary`), then the paper's saving."""
    header = ("network", "accuracy, full T", f"accuracy, θ = {theta:g}", f"mean exit, θ = {theta:g}",
              f"load saved, θ = {theta:g}", "θ within 1 point", "accuracy there", "load saved there")
    rows = [(name, percent(s["acc_full"]), percent(s["acc_theta"]), f"{s['exit_theta']:.2f}",
             percent(s["saved_theta"]), f"{s['theta_1pt']:g}", percent(s["acc_1pt"]), percent(s["saved_1pt"]))
            for name, s in summaries.items()]
    rows.append(("paper (real N-MNIST)", "", "", "", f"{percent(paper_saved)} (max)", "", "", ""))
    return Table.of(header, rows)


def sweep_rows_table(sweeps: Mapping[str, Sequence[SweepRow]]) -> Table:
    """Every row of several threshold sweeps: network, θ, accuracy, mean exit, load saved."""
    return Table.of(("network", "θ", "accuracy", "mean exit", "load saved"),
                    [(name, f"{r.threshold:g}", percent(r.accuracy), f"{r.mean_exit:.2f}", percent(r.steps_saved))
                     for name, rows in sweeps.items() for r in rows])


def timing_thresholds(theta: float, others: Sequence[float] = (), base: Sequence[float] = (0.3, 0.5)) -> tuple:
    """The thresholds to time: ``base``, ``theta`` and ``others`` (e.g. the within-one-point thresholds),
    sorted, without duplicates and without 1.0 (the full run is always timed)."""
    return tuple(sorted({float(t) for t in (*base, theta, *others)} - {1.0}))


def timing_summary(rows: Sequence[TimedRow], theta: float, theta_1pt: float,
                   replayed: Sequence[SweepRow] | None = None) -> dict[str, float]:
    """One network's timed sweep in numbers: time saved and realised fraction at ``theta`` and at
    ``theta_1pt``, the full-T time (s), its spread over repeats, and the realised fraction over all thresholds
    (NaN when no threshold saved a step, e.g. an untrained network).

    With ``replayed`` (the same network's :func:`~primekit.inference.sweeps.threshold_sweep`), checks that the
    streamed runs saved exactly the steps the replay counted, and raises ``ValueError`` if not.
    """
    if replayed is not None:
        for r in rows:
            other = _row_at(replayed, r.threshold, "replayed sweep").steps_saved
            if abs(other - r.steps_saved) > 1e-9:
                raise ValueError(f"at threshold {r.threshold:g} the streamed run saved {r.steps_saved!r} of the "
                                 f"steps but the replay {other!r}; they must agree")
    at, best = _row_at(rows, theta, "timed sweep"), _row_at(rows, theta_1pt, "timed sweep")
    saved_any = any(r.steps_saved > 0 for r in rows)
    return {"time_saved_theta": at.time_saved, "realised_theta": at.realised, "full_seconds": at.full_seconds,
            "realised": realised_fraction(rows) if saved_any else float("nan"),
            "time_saved_1pt": best.time_saved, "realised_1pt": best.realised, "full_spread": rows[0].full_spread}


def timing_table(timed: Mapping[str, Sequence[TimedRow]]) -> Table:
    """Every timed threshold: steps saved, time saved, their ratio and the full-T time (s)."""
    return Table.of(("network", "θ", "steps saved", "time saved", "realised", "full T (s)"),
                    [(name, f"{r.threshold:g}", percent(r.steps_saved), percent(r.time_saved), f"{r.realised:.2f}",
                      f"{r.full_seconds:.2f}") for name, rows in timed.items() for r in rows])


def class_difficulty(exit_step, labels, n_classes: int = 10) -> dict[str, float]:
    """The easiest and hardest class: lowest and highest mean exit step (classes without samples ignored)."""
    means = per_class_mean(torch.as_tensor(exit_step).float(), labels, n_classes)
    present = np.flatnonzero(~np.isnan(means))
    if present.size == 0:
        raise ValueError("labels has no samples; need at least one")
    order = present[np.argsort(means[present], kind="stable")]
    return {"easiest_digit": int(order[0]), "easiest_exit": float(means[order[0]]),
            "hardest_digit": int(order[-1]), "hardest_exit": float(means[order[-1]])}


def early_late_accuracy(exit_step, prediction, labels, timesteps: int) -> dict[str, float]:
    """Accuracy of the samples exiting by the median exit step ("early") and after it ("late").

    Returns ``median_exit``, ``acc_early``, ``acc_late`` (NaN without late samples), ``frac_T`` (the share
    running all ``timesteps``) and ``late_worse`` (1.0 if late exits are less accurate, 0.0 if not, NaN
    without late samples).
    """
    exit_step = torch.as_tensor(exit_step)
    correct = (torch.as_tensor(prediction) == torch.as_tensor(labels)).float()
    if exit_step.numel() == 0 or exit_step.shape != correct.shape:
        raise ValueError(f"exit_step {tuple(exit_step.shape)} and prediction/labels {tuple(correct.shape)} "
                         "must be non-empty and of the same shape")
    median = float(exit_step.float().median())
    early = exit_step <= median
    acc_early = correct[early].mean().item()
    acc_late = correct[~early].mean().item() if (~early).any() else float("nan")
    return {"median_exit": median, "acc_early": acc_early, "acc_late": acc_late,
            "frac_T": (exit_step == timesteps).float().mean().item(),
            "late_worse": float("nan") if math.isnan(acc_late) else float(acc_late < acc_early)}


def describe_difficulty(summary: Mapping[str, float]) -> str:
    """One sentence on :func:`early_late_accuracy`: are late exits the wrong ones?"""
    if math.isnan(summary["acc_late"]):
        return "Every sample exits by the median step, so there is no late group to compare."
    numbers = (f"samples that exit by the median step ({summary['median_exit']:g}) are {summary['acc_early']:.1%} "
               f"correct, later ones {summary['acc_late']:.1%}")
    if summary["late_worse"]:
        return (f"Difficulty and correctness go together: {numbers}. The confidence is low where the network is "
                f"often wrong, which is what a stopping rule needs.")
    return f"Here late exits are not less accurate: {numbers}."


def worst_confusion(labels, low_prediction, full_prediction, n_classes: int = 10) -> dict[str, int]:
    """The most frequent confusion (true, predicted) at a low threshold, with its count there and at full T,
    and the errors in all at both."""
    low = confusion_matrix(labels, low_prediction, n_classes)
    full = confusion_matrix(labels, full_prediction, n_classes)
    off = ~np.eye(n_classes, dtype=bool)
    true, predicted = np.unravel_index(np.where(off, low, -1).argmax(), low.shape)
    return {"worst_true": int(true), "worst_pred": int(predicted), "worst_count_low": int(low[true, predicted]),
            "worst_count_full": int(full[true, predicted]), "errors_low": int(low[off].sum()),
            "errors_full": int(full[off].sum())}


def stratified_subsample(labels, per_class: int, seed: int, n_classes: int = 10) -> np.ndarray:
    """Sorted indices of up to ``per_class`` samples of every class, drawn without replacement."""
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class={per_class!r} must be a positive integer")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == c), size=min(per_class, int((labels == c).sum())), replace=False)
              for c in range(n_classes)]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def tsne_perplexity(n_samples: int, default: float = 30.0) -> float:
    """t-SNE's perplexity: ``default`` unless the sample is tiny, then (n - 1) / 3 (scikit-learn needs < n)."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples={n_samples!r} must be an integer >= 2")
    return min(check_number("default", default, above=0), (n_samples - 1) / 3)


def neighbour_agreement(features: torch.Tensor, labels) -> float:
    """Share of samples whose nearest other sample (Euclidean, ``features`` [n, d]) has the same label."""
    features = torch.as_tensor(features, dtype=torch.float32)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features has shape {tuple(features.shape)}; need [n >= 2, d]")
    labels = torch.as_tensor(labels)
    distances = torch.cdist(features, features)
    distances.fill_diagonal_(float("inf"))
    return (labels[distances.argmin(dim=1)] == labels).float().mean().item()
