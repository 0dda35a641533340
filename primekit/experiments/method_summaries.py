"""The Subnet scoring chapter's summaries: the toy edge-popup run, the straight-through checks, the authors'
keep count, the five methods' results, which weights training keeps, the chip before and after pruning,
and the released model beside ours.

Accuracies are fractions (0.95 = 95 %), differences in percentage points (``_pp``), times in seconds.
Each function returns plain values or a :class:`primekit.tables.Table`; ``tests/test_method_summaries.py``
checks them on hand-made cases.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from primekit.checks import check_number
from primekit.chip.memristor import Pairs
from primekit.snn.subnet import keep_count, topk_mask
from primekit.tables import Table

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
    """Largest |loss change| when each score alone is raised by ``eps`` (the true derivative of a top-k mask).

    Raises:
        ValueError: ``eps`` is not below half the gap between the smallest kept and the largest pruned
            |score| (a nudge could then cross the threshold).
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


def authors_kept(magnitudes, sparsity: float) -> int:
    """The authors' rule, literally: threshold at the j-th smallest |S| with j = 1 + round(sparsity (n - 1));
    keep |S| >= threshold. Returns how many are kept."""
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


def method_table(accuracies: Mapping[str, float], seconds: Mapping[str, float]) -> Table:
    """One row per method: its name, test accuracy (percent) and training time (s)."""
    rows = [(METHOD_NAMES.get(m, m), f"{accuracies[m]:.1%}", f"{seconds[m]:.1f}") for m in accuracies]
    return Table.of(("method", "test accuracy", "training time (s)"), rows)


def method_values(accuracies: Mapping[str, float], seconds: Mapping[str, float], trained: Sequence[str]) -> dict:
    """``acc_<method>`` and ``seconds_<method>`` (hyphens as underscores) and ``train_minutes_total`` over ``trained``."""
    out = {"train_minutes_total": sum(seconds[m] for m in trained) / 60}
    for method in accuracies:
        key = method.replace("-", "_")
        out[f"acc_{key}"], out[f"seconds_{key}"] = accuracies[method], seconds[method]
    return out


def kept_in_top_bin(weights: torch.Tensor, keep: torch.Tensor, bins: int, *, smallest: bool = False) -> float:
    """Fraction kept among the ``1 / bins`` of weights with the largest |w| (``smallest``: the smallest |w|)."""
    if not isinstance(bins, int) or bins < 1 or weights.numel() < bins:
        raise ValueError(f"bins={bins!r} must be an integer in [1, weights.numel()={weights.numel()}]")
    order = weights.abs().flatten().argsort()
    size = order.numel() // bins
    chosen = order[:size] if smallest else order[-size:]
    return keep.flatten()[chosen].float().mean().item()


def mask_change_summary(weights: Mapping[str, torch.Tensor], trained: Mapping[str, torch.Tensor],
                        initial: Mapping[str, torch.Tensor], bins: int) -> dict:
    """Per layer: ``changed_<layer>`` (fraction of keep decisions training changed), ``topdecile_<layer>``
    and ``bottombin_<layer>`` (fraction kept in the top and bottom |w| bin after training)."""
    out = {}
    for name, w in weights.items():
        out[f"changed_{name}"] = (trained[name] != initial[name]).float().mean().item()
        out[f"topdecile_{name}"] = kept_in_top_bin(w, trained[name], bins)
        out[f"bottombin_{name}"] = kept_in_top_bin(w, trained[name], bins, smallest=True)
    return out


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

    Keys: ``chip_acc`` (mean over read-noise sequences), ``chip_acc_min``, ``chip_acc_max``, ``quiet_acc`` and
    ``quiet_changed`` (the chip without read noise: accuracy and predictions that differ from software),
    ``gap_pp`` (weight tuning minus the chip, percentage points) and ``gap_software_pp`` (weight tuning minus
    software pruning).
    """
    if not chip_accuracies:
        raise ValueError("chip_accuracies is empty: evaluate the chip with at least one read-noise sequence")
    mean = float(np.mean(chip_accuracies))
    return {"chip_acc": mean, "chip_acc_min": min(chip_accuracies), "chip_acc_max": max(chip_accuracies),
            "quiet_acc": quiet_accuracy, "quiet_changed": int(quiet_changed),
            "gap_pp": 100 * (accuracies["weight-tuning"] - mean),
            "gap_software_pp": 100 * (accuracies["weight-tuning"] - accuracies["software-pruning"])}


def released_comparison(released_time: float, released_count: float, ours_time: float, ours_count: float,
                        data_name: str, emulated: bool) -> dict:
    """The released model beside our Software Pruning network, on equal-time and equal-count frames.

    Keys: ``official_time``, ``official_count``, ``ours_count``, ``official_gap_pp`` (released minus ours on
    equal-time frames), ``official_text`` (a paragraph) and ``official_short`` (a clause).
    """
    gap = 100 * (released_time - ours_time)
    text = (f"On our {data_name} test split the released model reaches {released_time:.1%} with equal-time frames and "
            f"{released_count:.1%} with equal-count frames, against {ours_time:.1%} for our Software Pruning network "
            f"(trained here, on equal-time frames; {ours_count:.1%} on equal-count frames). On equal-time frames the "
            f"released model is {abs(gap):.1f} percentage points {'above' if gap >= 0 else 'below'} our network.")
    short = f"it scores {released_time:.1%} on our {'emulated ' if emulated else ''}test split"
    return {"official_time": released_time, "official_count": released_count, "ours_count": ours_count,
            "official_gap_pp": gap, "official_text": text, "official_short": short}
