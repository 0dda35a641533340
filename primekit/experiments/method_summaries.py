"""The Subnet scoring chapter's summaries: the toy edge-popup run, the straight-through checks, the authors'
keep count, the five methods' results, which weights training keeps, the chip before and after pruning,
and the released model beside ours.

Accuracies are fractions (0.95 = 95 %), differences in percentage points (``_pp``), times in seconds.
Each function returns plain values or a :class:`primekit.tables.Table`; ``tests/test_method_summaries.py``
checks them on hand-made cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from primekit.checks import check_number
from primekit.chip.memristor import Pairs
from primekit.inference.intervals import Interval, PairedDifference
from primekit.snn.subnet import keep_count, topk_mask
from primekit.tables import Table, percent

#: The methods of the paper's Fig. 3e as the book names them.
METHOD_NAMES = {"weight-tuning": "Weight Tuning", "software-pruning": "Software Pruning",
                "memristor-pruning": "Memristor Pruning", "random-software": "Random Software",
                "random-memristor": "Random Memristor"}
#: The paper's headline accuracy on the real N-MNIST dataset ("up to 97.6 %", Wang et al., Sci. Adv. 2025).
PAPER_ACCURACY = 0.976


# ---------------------------------------------------------------------------------------------------
# The toy layer
# ---------------------------------------------------------------------------------------------------


def toy_summary(losses: Sequence[float], masks: torch.Tensor, planted: torch.Tensor) -> dict:
    """A toy edge-popup run: ``losses`` per step (step 0 before any update), ``masks`` ``[steps + 1, n]``, ``planted`` ``[n]``.

    Keys: ``wrong0``/``wrong_end`` (weights on the wrong side of the threshold at the start and end),
    ``found_at`` (first step whose mask is the planted one; -1 if never), ``found_text`` (a sentence),
    ``loss0``, ``loss_end`` and ``flips`` (single keep decisions changed over all updates).
    """
    masks, planted = masks.bool(), planted.bool().flatten()
    if masks.dim() != 2 or masks.shape[1] != planted.numel() or masks.shape[0] != len(losses):
        raise ValueError(f"masks has shape {tuple(masks.shape)}; expected [len(losses)={len(losses)}, "
                         f"planted.numel()={planted.numel()}]")
    wrong = (masks != planted).sum(dim=1)
    found = torch.nonzero(wrong == 0)
    found_at = int(found[0]) if len(found) else -1
    steps = len(losses) - 1
    text = (f"from step {found_at} on the mask is the planted subnet and the loss is {losses[-1]:.2g}" if found_at >= 0
            else f"after {steps} steps {int(wrong[-1])} weights are still on the wrong side and the loss is "
                 f"{losses[-1]:.2g}")
    return {"wrong0": int(wrong[0]), "wrong_end": int(wrong[-1]), "found_at": found_at, "found_text": text,
            "loss0": float(losses[0]), "loss_end": float(losses[-1]),
            "flips": int((masks[1:] != masks[:-1]).sum())}


def nudged_loss_change(scores: torch.Tensor, weights: torch.Tensor, keep_ratio: float,
                       loss_fn: Callable[[torch.Tensor], torch.Tensor], eps: float) -> float:
    """Largest ``|loss change|`` when each score alone is raised by ``eps`` (the true derivative of a top-k mask).

    Raises:
        ValueError: ``eps`` is not below half the gap between the smallest kept and the largest pruned
            ``|score|`` (a nudge could then cross the threshold).
    """
    scores = scores.detach()
    k = keep_count(scores.numel(), keep_ratio)
    ordered = scores.abs().flatten().sort().values
    gap = (ordered[-k] - ordered[-k - 1]).item() if k < scores.numel() else math.inf
    if not eps < gap / 2:
        raise ValueError(f"eps={eps!r} must be below half the threshold gap ({gap / 2:.3g}) so no nudge crosses it")
    with torch.no_grad():
        base = loss_fn(weights * topk_mask(scores, keep_ratio)).item()
        changes = []
        for index in range(scores.numel()):
            shifted = scores.clone().flatten()
            shifted[index] += eps
            changes.append(abs(loss_fn(weights * topk_mask(shifted.view_as(scores), keep_ratio)).item() - base))
    return max(changes)


def switch_sign_agreement(weights: torch.Tensor, mask: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor],
                          grad_w_eff: torch.Tensor) -> float:
    """Fraction of weights for which the straight-through estimate ``+-W dL/dW_eff`` has the sign of the exact
    loss change when the weight is switched on (pruned, +) or off (kept, -)."""
    with torch.no_grad():
        base_mask = mask.detach().float().flatten()
        base = loss_fn(weights * base_mask.view_as(weights)).item()
        first_order = (weights * grad_w_eff).flatten()
        agree = []
        for index in range(base_mask.numel()):
            toggled = base_mask.clone()
            toggled[index] = 1 - toggled[index]
            exact = loss_fn(weights * toggled.view_as(weights)).item() - base
            estimate = (1.0 if toggled[index] == 1 else -1.0) * first_order[index].item()
            agree.append(np.sign(exact) == np.sign(estimate))
    return float(np.mean(agree))


# ---------------------------------------------------------------------------------------------------
# The authors' keep count
# ---------------------------------------------------------------------------------------------------


def agreement_text(error: float) -> str:
    """How two gradients agree, from their largest absolute difference ``error``: "exactly" at 0 (a difference
    written as 0.0e+00 would read like a rounded one), else the difference itself."""
    error = check_number("error", error, at_least=0)
    return "agree exactly (their largest difference is 0)" if error == 0 else f"agree to {error:.1e} (float rounding)"


def authors_kept(magnitudes, sparsity: float) -> int:
    """The authors' rule, literally: threshold at the j-th smallest ``|S|`` with j = 1 + round(sparsity (n - 1));
    keep ``|S|`` >= threshold. Returns how many are kept."""
    flat = np.sort(np.abs(np.asarray(magnitudes, dtype=np.float64)).ravel())
    if flat.size == 0:
        raise ValueError("magnitudes is empty: give at least one score")
    j = 1 + round(sparsity * (flat.size - 1))
    return int((np.abs(np.asarray(magnitudes)) >= flat[j - 1]).sum())


def keep_count_table(sizes: Sequence[int], keep_ratio: float = 0.5) -> Table:
    """How ``keep_count`` rounds: n, q (n - 1) with q = 1 - keep_ratio, its round-half-to-even, the count kept."""
    q = 1 - check_number("keep_ratio", keep_ratio, above=0, at_most=1)
    rows = [(n, f"{q * (n - 1):.1f}", round(q * (n - 1)), keep_count(n, keep_ratio)) for n in sizes]
    return Table.of(("n", "q (n - 1)", "round", "kept = n - round"), rows)


def layer_keep_counts(shapes: Mapping[str, Sequence[int]], keep_ratio: float = 0.5) -> dict:
    """``size_<layer>`` (weights) and ``kept_<layer>`` (``keep_count``) for every layer shape."""
    out = {}
    for name, shape in shapes.items():
        n = math.prod(shape)
        out[f"size_{name}"], out[f"kept_{name}"] = n, keep_count(n, keep_ratio)
    return out


# ---------------------------------------------------------------------------------------------------
# The five methods
# ---------------------------------------------------------------------------------------------------


def method_table(accuracies: Mapping[str, float], seconds: Mapping[str, float],
                 intervals: Mapping[str, Interval] | None = None) -> Table:
    """One row per method: its name, test accuracy (percent), its 95 % interval if given, training time (s)."""
    if intervals is None:
        rows = [(METHOD_NAMES.get(m, m), percent(accuracies[m]), f"{seconds[m]:.1f}") for m in accuracies]
        return Table.of(("method", "test accuracy", "training time (s)"), rows)
    rows = [(METHOD_NAMES.get(m, m), percent(accuracies[m]),
             f"{100 * intervals[m].low:.1f} to {100 * intervals[m].high:.1f} %", f"{seconds[m]:.1f}") for m in accuracies]
    return Table.of(("method", "test accuracy", "95 % interval (Wilson)", "training time (s)"), rows)


def training_time_text(seconds: Mapping[str, float], reference: str = "weight-tuning",
                       others: Sequence[str] = ("software-pruning", "memristor-pruning")) -> str:
    """A sentence comparing the training time per step of ``others`` with ``reference`` (same number of steps).

    Within 10 % counts as "about as long"; the wording follows the measured times, whichever way they go.
    """
    base = seconds[reference]
    if not base > 0:
        raise ValueError(f"seconds[{reference!r}]={base!r} must be positive to compare times")
    parts = []
    for method in others:
        ratio = seconds[method] / base
        how = ("about as long" if abs(ratio - 1) < 0.1 else
               f"{ratio:.1f} times as long" if ratio > 1 else f"{percent(1 - ratio, 0)} less time")
        parts.append(f"{METHOD_NAMES.get(method, method)} took {how}")
    return (f"All trained methods take the same number of steps; per step, relative to "
            f"{METHOD_NAMES.get(reference, reference)}, {' and '.join(parts)}")


def untrained_summary(predictions, labels, n_classes: int) -> dict:
    """What an untrained network predicts on a test split, beside chance.

    "Chance" for a network whose predictions ignore the input is ``sum_c p_pred(c) p_true(c)``: 1 / n_classes on
    a balanced test set, whatever it predicts. An accuracy clearly below that is not chance: the predictions
    depend on the input, in a way that is wrong for the task.

    Keys: ``top_class`` (the most predicted class), ``top_share`` (fraction of samples predicted as it),
    ``top_recall`` (fraction of that class's samples predicted as it), ``top_others`` (fraction of the other
    samples predicted as it), ``independent`` (the accuracy of predictions as frequent, but blind to the input).
    """
    predictions, labels = np.asarray(predictions).ravel(), np.asarray(labels).ravel()
    if predictions.shape != labels.shape or predictions.size == 0:
        raise ValueError(f"predictions ({predictions.size}) and labels ({labels.size}) must be equally long, not empty")
    predicted = np.bincount(predictions, minlength=n_classes) / predictions.size
    true = np.bincount(labels, minlength=n_classes) / labels.size
    top = int(predicted.argmax())
    is_top = labels == top
    return {"top_class": top, "top_share": float(predicted[top]),
            "top_recall": float((predictions[is_top] == top).mean()) if is_top.any() else float("nan"),
            "top_others": float((predictions[~is_top] == top).mean()) if (~is_top).any() else float("nan"),
            "independent": float(predicted @ true)}


def untrained_text(name: str, summary: Mapping[str, float], interval: Interval) -> str:
    """A sentence on an untrained network from :func:`untrained_summary` and the Wilson ``interval`` of its accuracy."""
    head = (f"{name} predicts class {summary['top_class']} for {percent(summary['top_share'], 0)} of the test samples; "
            f"predictions that frequent but blind to the input would score {percent(summary['independent'])}, and it "
            f"scores {interval}")
    verdict = chance_verdict(interval, summary["independent"])
    if verdict == "below":
        text = head + ", below that: its predictions depend on the input, but wrongly for this task"
        if summary["top_recall"] < summary["top_others"]:
            text += (f". Its favourite answer, class {summary['top_class']}, goes less often to the samples of class "
                     f"{summary['top_class']} ({percent(summary['top_recall'], 0)}) than to the others "
                     f"({percent(summary['top_others'], 0)}), which is how it falls below chance")
        return text
    if verdict == "above":
        return head + ", above that: even untrained, its random features carry a little information about the digit"
    return head + ", within what chance gives: it has learned nothing"


def chance_verdict(interval: Interval, independent: float) -> str:
    """"below", "above" or "at": where an accuracy's interval lies against the chance level ``independent``."""
    if interval.high < independent:
        return "below"
    if interval.low > independent:
        return "above"
    return "at"


def difference_text(name_a: str, name_b: str, difference: PairedDifference) -> str:
    """A clause comparing two methods on the same test samples from their :class:`PairedDifference`."""
    if difference.only_a == difference.only_b == 0:
        return f"{name_a} and {name_b} give the same answer on every one of the {difference.n:,d} test samples"
    if difference.low > 0:
        verdict = f"{name_a} is ahead of {name_b}"
    elif difference.high < 0:
        verdict = f"{name_a} is behind {name_b}"
    else:
        verdict = f"this test set cannot tell {name_a} from {name_b}"
    return f"{verdict}: {difference}"


def comparison_table(differences: Mapping[tuple[str, str], PairedDifference]) -> Table:
    """One row per compared pair (labels A, B): A minus B in points, its paired 95 % interval, McNemar's p and
    the samples only A and only B got right."""
    rows = [(f"{a} − {b}", f"{100 * d.difference:+.1f}", f"{100 * d.low:+.1f} to {100 * d.high:+.1f}",
             f"{d.p_value:.2g}", f"{d.only_a} / {d.only_b}") for (a, b), d in differences.items()]
    return Table.of(("A − B", "points", "95 % interval", "McNemar p", "only A / only B right"), rows)


def method_values(accuracies: Mapping[str, float], seconds: Mapping[str, float], trained: Sequence[str]) -> dict:
    """``acc_<method>`` and ``seconds_<method>`` (hyphens as underscores) and ``train_minutes_total`` over ``trained``."""
    out = {"train_minutes_total": sum(seconds[m] for m in trained) / 60}
    for method in accuracies:
        key = method.replace("-", "_")
        out[f"acc_{key}"], out[f"seconds_{key}"] = accuracies[method], seconds[method]
    return out


def kept_in_top_bin(weights: torch.Tensor, keep: torch.Tensor, bins: int, *, smallest: bool = False) -> float:
    """Fraction kept among the ``1 / bins`` of weights with the largest ``|w|`` (``smallest``: the smallest ``|w|``)."""
    if not isinstance(bins, int) or bins < 1 or weights.numel() < bins:
        raise ValueError(f"bins={bins!r} must be an integer in [1, weights.numel()={weights.numel()}]")
    order = weights.abs().flatten().argsort()
    size = order.numel() // bins
    chosen = order[:size] if smallest else order[-size:]
    return keep.flatten()[chosen].float().mean().item()


def mask_change_summary(weights: Mapping[str, torch.Tensor], trained: Mapping[str, torch.Tensor],
                        initial: Mapping[str, torch.Tensor], bins: int) -> dict:
    """Per layer: ``changed_<layer>`` (fraction of keep decisions training changed), ``topdecile_<layer>``
    and ``bottombin_<layer>`` (fraction kept in the top and bottom ``|w|`` bin after training)."""
    out = {}
    for name, w in weights.items():
        out[f"changed_{name}"] = (trained[name] != initial[name]).float().mean().item()
        out[f"topdecile_{name}"] = kept_in_top_bin(w, trained[name], bins)
        out[f"bottombin_{name}"] = kept_in_top_bin(w, trained[name], bins, smallest=True)
    return out


def magnitude_texts(changes: Mapping[str, float], layers: Sequence[str], margin: float = 0.1) -> dict[str, str]:
    """Does training keep large weights preferentially? From :func:`mask_change_summary` (``bottombin_<layer>``,
    ``topdecile_<layer>``) of ``layers``: ``magnitude_text`` (a sentence with the numbers), ``top_dropped_text``
    (what training drops of the top bin: why it is not magnitude pruning) and ``magnitude_notice`` (a summary).
    A layer prefers large weights when it keeps at least ``margin`` (0.1 = 10 points) more of its top bin than of
    its bottom bin: a bin of a small layer holds few weights, so a smaller difference can be chance."""
    if not layers:
        raise ValueError("layers is empty; name at least one layer of the mask_change_summary")
    bottom = [changes[f"bottombin_{layer}"] for layer in layers]
    top = [changes[f"topdecile_{layer}"] for layer in layers]
    larger = [layer for layer, b, t in zip(layers, bottom, top) if t - b >= margin]

    def joined(texts):
        return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} and {texts[-1]}"

    def listed(values):
        return joined([percent(v, 0) for v in values])

    numbers = (f"of the weights in the bottom magnitude bin it keeps {listed(bottom)}, of those in the top bin "
               f"{listed(top)} ({', '.join(layers)})")
    if len(larger) == len(layers):
        verdict = "In every layer training keeps more of the largest weights than of the smallest"
        notice = (f"Training keeps large weights preferentially (top bin: {listed(top)} kept, bottom bin: "
                  f"{listed(bottom)}), but it is not magnitude pruning")
    else:
        verdict = (f"Training keeps more of the largest weights than of the smallest only in {joined(larger)}"
                   if larger else "In no layer does training keep more of the largest weights than of the smallest")
        notice = "Training changes which weights are kept, but it does not prefer large weights in every layer"
    dropped = [1 - t for t in top]
    top_dropped = (f"training drops {listed(dropped)} of the top bin" if max(dropped) > 0
                   else "here training happens to keep the whole top bin, as magnitude pruning would")
    return {"magnitude_text": f"{verdict}: {numbers}", "top_dropped_text": top_dropped, "magnitude_notice": notice}


def pooled_pairs(model: torch.nn.Module, names: Sequence[str]) -> Pairs:
    """The conductances of the named layers' chip sources, flattened into one array (with RESET flags if any)."""
    modules = dict(model.named_modules())
    sources = [modules[n].weight_source for n in names]
    resets = [s.reset for s in sources]
    reset = None if all(r is None for r in resets) else torch.cat(
        [(torch.zeros_like(s.g_plus, dtype=torch.bool) if r is None else r).flatten() for s, r in zip(sources, resets)])
    return Pairs(torch.cat([s.g_plus.flatten() for s in sources]), torch.cat([s.g_minus.flatten() for s in sources]),
                 reset)


def chip_summary(chip_accuracies: Sequence[float], quiet_accuracy: float, quiet_changed: int,
                 accuracies: Mapping[str, float]) -> dict:
    """The pruned network on the chip against the methods in software.

    Keys: ``chip_acc`` (mean over read-noise sequences), ``chip_acc_first`` (the first sequence, the one the
    figure's bar and the paired comparison use), ``chip_acc_min``, ``chip_acc_max``, ``quiet_acc`` and
    ``quiet_changed`` (the chip without read noise: accuracy and predictions that differ from software),
    ``gap_pp`` (weight tuning minus the chip, percentage points) and ``gap_software_pp`` (weight tuning minus
    software pruning).
    """
    if not chip_accuracies:
        raise ValueError("chip_accuracies is empty: evaluate the chip with at least one read-noise sequence")
    mean = float(np.mean(chip_accuracies))
    return {"chip_acc": mean, "chip_acc_first": chip_accuracies[0],
            "chip_acc_min": min(chip_accuracies), "chip_acc_max": max(chip_accuracies),
            "quiet_acc": quiet_accuracy, "quiet_changed": int(quiet_changed),
            "gap_pp": 100 * (accuracies["weight-tuning"] - mean),
            "gap_software_pp": 100 * (accuracies["weight-tuning"] - accuracies["software-pruning"])}


def chip_text(chip_accuracies: Sequence[float], software_accuracy: float, paired: PairedDifference) -> str:
    """A clause on the pruned network on the chip: the first read-noise sequence's accuracy (and the range over
    all sequences) against the same network in software, judged by ``paired`` (software minus chip, first
    sequence, on the same test samples)."""
    if not chip_accuracies:
        raise ValueError("chip_accuracies is empty: evaluate the chip with at least one read-noise sequence")
    n = len(chip_accuracies)
    spread = (f" ({percent(min(chip_accuracies))} to {percent(max(chip_accuracies))} over {n} read-noise sequences)"
              if n > 1 else "")
    if paired.only_a == paired.only_b == 0:
        verdict = "the same answer on every test sample"
    elif paired.low > 0:
        verdict = "a loss this test set resolves"
    elif paired.high < 0:
        verdict = "a gain this test set resolves"
    else:
        verdict = "a difference this test set cannot tell from zero"
    return (f"scored {percent(chip_accuracies[0])} with the first read-noise sequence{spread}, against "
            f"{percent(software_accuracy)} in software: {verdict}")


def deploy_table(report) -> Table:
    """What :func:`primekit.chip.deploy.deploy` did, one row per layer (a ``DeployReport``): weight pairs,
    pairs RESET (pruned) and cells clipped to the device's conductance range."""
    rows = [(f"`{layer}`", f"{pairs:,d}", f"{report.reset_pairs.get(layer, 0):,d}",
             f"{report.clipped_cells.get(layer, 0):,d}") for layer, pairs in report.pairs.items()]
    return Table.of(("layer", "weight pairs", "pairs RESET (pruned)", "cells clipped"), rows)


def released_comparison(released_time: float, released_count: float, ours_time: float, ours_count: float,
                        data_name: str, emulated: bool, paired: PairedDifference | None = None) -> dict:
    """The released model beside our Software Pruning network, on equal-time and equal-count frames.

    Keys: ``official_time``, ``official_count``, ``ours_count``, ``official_gap_pp`` (released minus ours on
    equal-time frames), ``official_text`` (a paragraph) and ``official_short`` (a clause). ``paired``, the
    paired difference of the two on the same equal-time test samples, adds its interval to the paragraph.
    """
    gap = 100 * (released_time - ours_time)
    text = (f"On our {data_name} test split the released model reaches {percent(released_time)} with equal-time frames "
            f"and {percent(released_count)} with equal-count frames, against {percent(ours_time)} for our Software "
            f"Pruning network (trained here, on equal-time frames; {percent(ours_count)} on equal-count frames). On "
            f"equal-time frames the released model is {abs(gap):.1f} percentage points {'above' if gap >= 0 else 'below'} "
            "our network" + (f" (paired on the same samples: {paired})." if paired is not None else "."))
    short = f"it scores {percent(released_time)} on our {'emulated ' if emulated else ''}test split"
    return {"official_time": released_time, "official_count": released_count, "ours_count": ours_count,
            "official_gap_pp": gap, "official_text": text, "official_short": short}
