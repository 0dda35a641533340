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
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from primekit.checks import check_number
from primekit.inference.intervals import (
    Interval,
    PairedDifference,
    accuracy_interval,
    binomial_interval,
    paired_difference,
)
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
    """Every timed threshold: steps saved, time saved, their ratio ("–" where no step was saved) and the full-T
    time (s)."""
    return Table.of(("network", "θ", "steps saved", "time saved", "realised", "full T (s)"),
                    [(name, f"{r.threshold:g}", percent(r.steps_saved), percent(r.time_saved),
                      "–" if math.isnan(r.realised) else f"{r.realised:.2f}", f"{r.full_seconds:.2f}")
                     for name, rows in timed.items() for r in rows])


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
    running all ``timesteps``), ``late_worse`` (1.0 if late exits are less accurate, 0.0 if not, NaN
    without late samples) and the group sizes ``n_early``, ``n_late`` with the groups' correct answers
    ``correct_early``, ``correct_late`` (for their binomial intervals).
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
            "late_worse": float("nan") if math.isnan(acc_late) else float(acc_late < acc_early),
            "n_early": int(early.sum()), "n_late": int((~early).sum()),
            "correct_early": int(correct[early].sum()), "correct_late": int(correct[~early].sum())}


def describe_difficulty(summary: Mapping[str, float]) -> str:
    """One sentence on :func:`early_late_accuracy`: are late exits the wrong ones?

    With the group sizes (``n_early``, ``n_late``, ``correct_early``, ``correct_late``) the accuracies carry
    their Wilson intervals, and "go together" is claimed only when the two intervals do not overlap.
    """
    if math.isnan(summary["acc_late"]):
        return "Every sample exits by the median step, so there is no late group to compare."
    sized = all(key in summary for key in ("n_early", "n_late", "correct_early", "correct_late"))
    if sized:
        early = binomial_interval(int(summary["correct_early"]), int(summary["n_early"]))
        late = binomial_interval(int(summary["correct_late"]), int(summary["n_late"]))
        numbers = (f"the {int(summary['n_early']):,d} samples that exit by the median step "
                   f"({summary['median_exit']:g}) are {early} correct, the {int(summary['n_late']):,d} later "
                   f"ones {late}")
        separated = late.high < early.low
    else:
        numbers = (f"samples that exit by the median step ({summary['median_exit']:g}) are "
                   f"{percent(summary['acc_early'])} correct, later ones {percent(summary['acc_late'])}")
        separated = True
    if summary["late_worse"] and separated:
        return (f"Difficulty and correctness go together: {numbers}. The confidence is low where the network is "
                f"often wrong, which is what a stopping rule needs.")
    if summary["late_worse"]:
        return (f"Late exits are less accurate here, but not clearly so: {numbers}, and the two intervals "
                f"overlap.")
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


# --- uncertainty: accuracies with their binomial intervals, early stop against full T pair by pair ---


def accuracy_intervals(labels, predictions: Mapping[str, object], full: str = "full",
                       seed: int = 0) -> dict[str, Interval | PairedDifference]:
    """Each prediction's accuracy with its Wilson interval, and its paired difference to the ``full`` one.

    Args:
        labels: true class per test sample.
        predictions: ``{name: prediction per test sample}``, one of them named ``full`` (the full-T run).
        seed: seed of the paired bootstrap.

    Returns ``{"acc_<name>": Interval}`` for every prediction and ``{"cost_<name>": PairedDifference}`` (its
    accuracy minus the full-T accuracy on the same samples: negative means early stop costs accuracy) for
    every prediction but ``full``.
    """
    if full not in predictions:
        raise ValueError(f"predictions has no {full!r} entry (the full-T run); it has {list(predictions)}")
    labels = np.asarray(torch.as_tensor(labels).cpu())
    correct = {}
    for name, prediction in predictions.items():
        prediction = np.asarray(torch.as_tensor(prediction).cpu())
        if prediction.shape != labels.shape:
            raise ValueError(f"predictions[{name!r}] has shape {prediction.shape} but labels {labels.shape}")
        correct[name] = prediction == labels
    out: dict[str, Interval | PairedDifference] = {f"acc_{n}": accuracy_interval(c) for n, c in correct.items()}
    out.update({f"cost_{n}": paired_difference(c, correct[full], seed=seed) for n, c in correct.items() if n != full})
    return out


def interval_cell(interval: Interval) -> str:
    """A table cell: ``"96.0 % (94.6 to 97.1)"`` (estimate and 95 % interval, in percent)."""
    return f"{percent(interval.estimate)} ({100 * interval.low:.1f} to {100 * interval.high:.1f})"


def difference_cell(difference: PairedDifference) -> str:
    """A table cell: ``"-0.6 (-1.1 to -0.2)"`` (points, with the paired 95 % interval); ``"0 (same answers)"``
    when no sample changes its answer."""
    if difference.only_a == difference.only_b == 0:
        return "0 (same answers)"
    return f"{100 * difference.difference:+.1f} ({100 * difference.low:+.1f} to {100 * difference.high:+.1f})"


def describe_cost(difference: PairedDifference) -> str:
    """The accuracy change of early stop against full T in words: the paired difference, or "no change"."""
    if difference.only_a == difference.only_b == 0:
        return f"no change (all {difference.n:,d} test samples get the same answer as at full T)"
    return str(difference)


def interval_values(intervals: Mapping[str, Interval | PairedDifference]) -> dict[str, str]:
    """Glue-ready text of :func:`accuracy_intervals`: ``<key>_ci`` for every entry (an interval in words,
    or :func:`describe_cost` for a difference)."""
    return {f"{key}_ci": describe_cost(value) if isinstance(value, PairedDifference) else str(value)
            for key, value in intervals.items()}


def within_point_sentence(costs: Mapping[str, PairedDifference], tolerance: float = ONE_POINT) -> str:
    """Does "within one point" hold beyond the point estimates? ``costs``: ``{network: its cost there}``."""
    tolerance = check_number("tolerance", tolerance, at_least=0)
    if not costs:
        raise ValueError("costs is empty; give at least one network's paired difference")
    beyond = [name for name, c in costs.items() if c.low < -tolerance]
    n = next(iter(costs.values())).n
    if not beyond:
        return (f"The paired intervals of these costs stay within {100 * tolerance:g} point, so the choice holds "
                f"beyond the {n:,d} test samples' point estimates.")
    return (f"The rule reads the measured accuracies: the paired interval of the cost reaches beyond "
            f"{100 * tolerance:g} point for the {' and the '.join(beyond)}, so on {n:,d} test samples "
            f"\"within one point\" is an estimate, not a guarantee.")


def describe_gap(difference: PairedDifference, name_a: str, name_b: str) -> str:
    """One sentence on two networks' accuracies on the same test samples (A minus B, paired)."""
    text = f"At full T, {name_a} scores {difference} against {name_b}"
    if difference.only_a == difference.only_b == 0:
        return f"At full T, {name_a} and {name_b} give the same answer on every test sample."
    if difference.low > 0 or difference.high < 0:
        return (f"{text}: a difference this test set resolves, although one trained network per method says "
                f"nothing about how much it varies between training seeds.")
    return f"{text}: a difference this test set cannot tell from zero."


def sweep_bands(rows: Sequence[SweepRow], n_samples: int) -> list[tuple[float, float]]:
    """The Wilson interval (fractions) of every row's accuracy on ``n_samples`` test samples, for a figure."""
    bands = []
    for r in rows:
        interval = binomial_interval(round(r.accuracy * n_samples), n_samples)
        bands.append((interval.low, interval.high))
    return bands


def summary_table(summaries: Mapping[str, Mapping[str, float]], intervals: Mapping[str, Mapping[str, object]],
                  theta: float) -> Table:
    """The chapter's result table, transposed to fit the column: one column per network, one row per number.

    Args:
        summaries: ``{network: sweep_summary(...)}``.
        intervals: ``{network: accuracy_intervals(...)}`` with entries ``full``, ``theta`` and ``1pt``.
        theta: the threshold of the ``theta`` entries (the authors' 0.8).
    """
    names = list(summaries)
    missing = [n for n in names if n not in intervals]
    if missing:
        raise ValueError(f"intervals has no entry for {missing}; give accuracy_intervals for every network")

    def row(label, cell):
        return (label, *(cell(summaries[n], intervals[n]) for n in names))

    rows = [row("accuracy, full T (95 % CI)", lambda s, i: interval_cell(i["acc_full"])),
            row(f"accuracy, θ = {theta:g}", lambda s, i: interval_cell(i["acc_theta"])),
            row(f"change vs full T, θ = {theta:g} (points)", lambda s, i: difference_cell(i["cost_theta"])),
            row(f"mean exit, θ = {theta:g}", lambda s, i: f"{s['exit_theta']:.2f}"),
            row(f"load saved, θ = {theta:g}", lambda s, i: percent(s["saved_theta"])),
            row("θ within 1 point", lambda s, i: f"{s['theta_1pt']:g}"),
            row("accuracy there", lambda s, i: interval_cell(i["acc_1pt"])),
            row("change vs full T there (points)", lambda s, i: difference_cell(i["cost_1pt"])),
            row("load saved there", lambda s, i: percent(s["saved_1pt"]))]
    return Table.of(("", *names), rows)


def sweep_wide_table(sweeps: Mapping[str, Sequence[SweepRow]]) -> Table:
    """Several threshold sweeps side by side: one row per θ, accuracy and load saved ("saved") of each network
    (short network names keep the table inside the text column)."""
    names = list(sweeps)
    thresholds = [r.threshold for r in sweeps[names[0]]]
    for name in names:
        if [r.threshold for r in sweeps[name]] != thresholds:
            raise ValueError(f"sweep {name!r} has other thresholds than {names[0]!r}; sweep the same ones")
    header = ["θ"] + [h for name in names for h in (f"{name}: accuracy", "saved")]
    rows = [[f"{t:g}"] + [cell for name in names for cell in (percent(sweeps[name][k].accuracy),
                                                             percent(sweeps[name][k].steps_saved))]
            for k, t in enumerate(thresholds)]
    return Table.of(header, rows)


def as_percent(values: Mapping[str, float], *names: str) -> dict[str, float]:
    """``values`` with the named fractions in percent (x 100), for text written as ``{glue:text}`x:.1f` %``;
    with no names, every value."""
    chosen = set(names) if names else set(values)
    unknown = chosen - set(values)
    if unknown:
        raise ValueError(f"{sorted(unknown)} are not in values; they have {sorted(values)}")
    return {k: 100 * v if k in chosen else v for k, v in values.items()}


def realised_sentence(realised: Mapping[str, float], at_least: float = 0.5) -> str:
    """Is the counted saving a wall-time saving? ``realised``: ``{network: realised fraction}`` (the slope of
    time saved against steps saved)."""
    if not realised:
        raise ValueError("realised is empty; give at least one network's realised fraction")
    weak = [name for name, r in realised.items() if not (r >= at_least)]  # NaN counts as weak
    if not weak:
        return "The saving is real."
    return (f"In this build the timing does not show it for the {' and the '.join(weak)} (a realised fraction "
            f"below {at_least:g}): the runs are too short or too noisy to measure the saving.")
