"""Each ledger row's verdict, decided from the values its chapter recorded by a predicate written for that row.

A verdict is one of four statuses: ``reproduced`` (a number: the paper's value lies inside our 95 % interval
or range), ``same pattern`` (a caption's claim holds in our measurement, or a number differs only through a
modelling choice the row names), ``differs`` (the claim does not hold for us), ``not reproducible offline``
(it needs the memristor chip). Fractions are fractions (0.95, not 95); the texts show them in percent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from primekit.energy.prices import PAPER_RATIO_NMNIST
from primekit.experiments.inpainting_summaries import PAPER_LOAD_SAVED_INPAINTING, PAPER_RATIO_INPAINTING
from primekit.experiments.method_summaries import PAPER_ACCURACY
from primekit.inference.intervals import LEVEL
from primekit.inference.summaries import PAPER_LOAD_SAVED_NMNIST
from primekit.ledger.rows import row

REPRODUCED, SAME, DIFFERS, OFFLINE = "reproduced", "same pattern", "differs", "not reproducible offline"
#: What "close" means for a loss or an Inception Score: a relative difference of at most this, or the statistical
#: resolution of the comparison if that is larger (a paired interval can resolve differences far below it).
RELATIVE_MARGIN = 0.05
#: What "close" means for two accuracies: at most this many points apart (as a fraction), or the statistical
#: resolution of the paired comparison if that is larger.
ACCURACY_MARGIN = 0.02
STATUSES = (REPRODUCED, SAME, DIFFERS, OFFLINE)


@dataclass(frozen=True)
class Verdict:
    """A row's status, our result in words, and the rule that decided it."""

    status: str
    ours: str
    rule: str


def _pct(fraction: float, digits: int = 1) -> str:
    return f"{100 * fraction:.{digits}f} %"


def _interval(value: float, low: float, high: float) -> str:
    return f"{_pct(value)} [{100 * low:.1f}, {100 * high:.1f}]"


def _inside(paper: float, low: float, high: float) -> bool:
    return low <= paper <= high


def _number_in_interval(paper: float, values: Mapping[str, Any], key: str, name: str, fallback: str) -> Verdict:
    """Reproduced when ``paper`` lies in ``[low, high]``; else ``fallback`` (same pattern or differs)."""
    ours = _interval(values[key], values["low"], values["high"])
    rule = f"reproduced if the paper's {_pct(paper)} lies inside our {_pct(LEVEL, 0)} interval of the {name}"
    return Verdict(REPRODUCED if _inside(paper, values["low"], values["high"]) else fallback, ours, rule)


def _accuracy(v):
    return _number_in_interval(PAPER_ACCURACY, v, "accuracy", "accuracy", DIFFERS)


def _released(v):
    verdict = _number_in_interval(PAPER_ACCURACY, v, "accuracy", "released model's accuracy on our test split",
                                  SAME if v["real_correct"] else DIFFERS)
    reads = "reads" if v["real_correct"] else "misreads"
    return Verdict(verdict.status, f"{verdict.ours} on our test split; {reads} the real recording",
                   verdict.rule + "; same pattern if it reads the real recording's digit correctly")


def _load(paper: float):
    def decide(v):
        verdict = _number_in_interval(paper, v, "saved", "load saved", SAME if v["saved"] > 0 else DIFFERS)
        return Verdict(verdict.status, verdict.ours,
                       verdict.rule + "; same pattern if early stop saves load at all")
    return decide


def _energy(paper: float):
    def decide(v):
        ours = f"{v['ratio']:.1f}x (range {v['range_low']:.1f}x to {v['range_high']:.1f}x)"
        inside = _inside(paper, v["range_low"], v["range_high"])
        status = SAME if inside else (DIFFERS if v["ratio"] <= 1 else SAME)
        rule = (f"same pattern if the hybrid system wins (ratio above 1); the paper's {paper:g}x "
                f"{'lies' if inside else 'does not lie'} inside the range our cited constants allow")
        return Verdict(status, ours, rule)
    return decide


def _margin(v) -> float:
    return max(v["tolerance"], RELATIVE_MARGIN)


def _margin_words(v) -> str:
    return f"{_pct(_margin(v))} ({_pct(RELATIVE_MARGIN, 0)}, or the statistical resolution if larger)"


def _is_comparable(v):
    gap = abs(v["hardware"] - v["software"]) / v["software"]
    ours = f"IS {v['hardware']:.2f} on the chip, {v['software']:.2f} in software"
    return Verdict(SAME if gap <= _margin(v) else DIFFERS, ours,
                   f"same pattern if the two differ by at most {_margin_words(v)} of the software IS")


def _reset_peak(v):
    ours = f"{_pct(v['reset_share'])} of pairs near zero after pruning (pruned share {_pct(v['expected_share'])})"
    same = abs(v["reset_share"] - v["expected_share"]) <= 0.02
    return Verdict(SAME if same else DIFFERS, ours,
                   "same pattern if the near-zero peak holds the pruned share of pairs within 2 points (a model)")


def _chip_only(what: str, key: str, unit: str) -> Callable[[Mapping[str, Any]], Verdict]:
    def decide(v):
        return Verdict(OFFLINE, f"device model: {what} {_pct(v[key], 0)}{unit}",
                       "a measurement of the chip; no offline data can reproduce it")
    return decide


def _cycles(v):
    return Verdict(OFFLINE, f"device model: {v['cells']:,} cells x {v['cycles']:,} cycles",
                   "a measurement of the chip; no offline data can reproduce it")


def _sweep(v):
    margin = max(v["tolerance"], ACCURACY_MARGIN)
    ok = bool(v["exits_rise"]) and v["hardware_gap"] >= -margin  # a chip better than software is close too
    ours = (f"mean exit {'rises' if v['exits_rise'] else 'does not rise'} with θ; hardware "
            f"{100 * v['hardware_gap']:+.1f} points from software at θ = 0.8")
    return Verdict(SAME if ok else DIFFERS, ours, "same pattern if the mean exit rises with θ and the chip is at most "
                   f"{_points_margin(v)} below software")


def _tsne(v):
    ours = (f"same-digit neighbours {_pct(v['agreement_low'], 0)} at the lowest θ, "
            f"{_pct(v['agreement_full'], 0)} at full T")
    return Verdict(SAME if v["agreement_full"] >= v["agreement_low"] else DIFFERS, ours,
                   "same pattern if neighbours agree on the digit at least as often at full T as at the lowest θ")


def _confusion(v):
    ours = f"accuracy {_pct(v['accuracy_low'])} at the lowest θ, {_pct(v['accuracy_full'])} at full T"
    return Verdict(SAME if v["accuracy_full"] >= v["accuracy_low"] else DIFFERS, ours,
                   "same pattern if the accuracy at full T is at least that at the lowest θ")


def _points_margin(v) -> str:
    margin = max(v["tolerance"], ACCURACY_MARGIN)
    return (f"{100 * margin:.1f} points ({100 * ACCURACY_MARGIN:.0f} points, or the statistical resolution if "
            "larger)")


def _methods(v):
    wt = v["weight_tuning"]
    margin = max(v["tolerance"], ACCURACY_MARGIN)
    pruned_close = max(wt - v["software_pruning"], wt - v["memristor_pruning"]) <= margin
    random_low = v["random_best"] <= v["chance"] + margin
    ours = (f"WT {_pct(wt)}, SP {_pct(v['software_pruning'])}, MP {_pct(v['memristor_pruning'])}, "
            f"best untrained {_pct(v['random_best'])}")
    return Verdict(SAME if pruned_close and random_low else DIFFERS, ours,
                   f"same pattern if both pruned networks are within {_points_margin(v)} of WT and the untrained "
                   "ones as close to chance")


def _hybrid_below(v):
    ok = bool(v["hybrid_below_at_every_threshold"])
    return Verdict(SAME if ok else DIFFERS, f"hybrid {'below' if ok else 'not below'} digital at every θ",
                   "same pattern if the hybrid system needs less energy at every threshold")


def _robust(drop: str, base: str, what: str, unit: str):
    def decide(v):
        ok = v[drop] <= v[base] + v["resolution"]
        ours = f"Memristor Pruning's {what} {100 * v[drop]:+.1f}{unit}, Weight Tuning's {100 * v[base]:+.1f}{unit}"
        return Verdict(SAME if ok else DIFFERS, ours, f"same pattern if Memristor Pruning's {what} is at most Weight "
                       "Tuning's plus the chip-to-chip resolution; in our model its kept cells are never written, "
                       "so programming noise reaches only its RESET pairs: the pattern follows from that premise")
    return decide


def _within(key: str, what: str, relative: bool):
    def decide(v):
        if relative:
            ok = v[key] <= _margin(v)
            return Verdict(SAME if ok else DIFFERS, f"{what} at most {_pct(v[key])}",
                           f"same pattern if the {what} is at most {_margin_words(v)}")
        ok = v[key] <= v["tolerance"]
        shown = "none" if round(100 * v[key], 1) == 0 else f"at most {100 * v[key]:.1f} points"
        return Verdict(SAME if ok else DIFFERS, f"{what}: {shown}",
                       f"same pattern if the {what} is at most {100 * v['tolerance']:.1f} points (the chip-to-chip "
                       "resolution)")
    return decide


def _loss_close(v):
    gap = abs(v["hardware_loss"] - v["software_loss"]) / v["software_loss"]
    return Verdict(SAME if gap <= _margin(v) else DIFFERS,
                   f"loss {v['hardware_loss']:.4f} on the chip, {v['software_loss']:.4f} in software",
                   f"same pattern if the two differ by at most {_margin_words(v)} of the software loss")


def _ratio_above_one(v):
    return Verdict(SAME if v["ratio"] > 1 else DIFFERS, f"{v['ratio']:.1f}x",
                   "same pattern if the hybrid system needs less energy (ratio above 1)")


#: The predicate of every row.
PREDICATES: dict[str, Callable[[Mapping[str, Any]], Verdict]] = {
    "accuracy": _accuracy, "released": _released, "load_nmnist": _load(PAPER_LOAD_SAVED_NMNIST),
    "energy_nmnist": _energy(PAPER_RATIO_NMNIST), "load_inpainting": _load(PAPER_LOAD_SAVED_INPAINTING),
    "energy_inpainting": _energy(PAPER_RATIO_INPAINTING), "is_comparable": _is_comparable,
    "2b": _reset_peak, "2d": _cycles, "3b": _sweep, "3c": _tsne, "3d": _confusion, "3e": _methods,
    "3f": _hybrid_below, "3g": _robust("pruned_drop", "tuned_drop", "accuracy drop", " points"),
    "4b": _loss_close, "4c": _within("largest_change", "relative loss change with early stop", True),
    "4d": _robust("pruned_increase", "tuned_increase", "loss increase", " %"),
    "4e": _within("largest_change", "relative IS change with early stop", True), "4f": _ratio_above_one,
    "5b": _chip_only("formed cells' spread", "programming_noise", " of their mean"),
    "5c": _chip_only("read noise", "read_noise", " relative spread"),
    "5d": _within("largest_gap", "accuracy gap of early stop under noise", False),
    "5e": _within("largest_change", "relative loss change of early stop under noise", True),
}


def decide(key: str, values: Mapping[str, Any]) -> Verdict:
    """The verdict of row ``key`` from the values its chapter recorded."""
    needs = row(key).needs
    missing = [name for name in needs if name not in values]
    if missing:
        raise ValueError(f"values for row {key!r} lack {missing}; the row needs {list(needs)}")
    bad = [name for name in needs if isinstance(values[name], float) and math.isnan(values[name])]
    if bad:
        raise ValueError(f"values for row {key!r} hold NaN in {bad}; a verdict needs numbers")
    return PREDICATES[key](values)
