"""What the noise sweep says: result tables, and whether pruned networks degrade less than Weight Tuning.

Everything here reads a finished :class:`~primekit.experiments.noise_sweep.NoiseSweep`. Accuracies and drops
are fractions (0.05 = 5 percentage points) unless a name says ``points``; noise levels are relative to each
cell's conductance (0.10 = 10 %); exit steps count from 1 to T. Summaries are plain dicts of named values
(glued by the chapter with ``chapter.glue_values``); tables are :class:`~primekit.tables.Table`.

The robustness decision: a pruned network "loses less" than Weight Tuning at one noise and level when its
accuracy drop is smaller by more than the *resolution*, twice the two spreads over chips combined
(``2 * hypot(spread_wt, spread_pruned)``); "more" when larger by more than that; otherwise "about as much".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from primekit.experiments.noise_sweep import NoiseSweep
from primekit.tables import Table, mean_spread

#: The paper's names of the methods.
METHOD_LABELS = {"weight-tuning": "Weight Tuning", "software-pruning": "Software Pruning",
                 "memristor-pruning": "Memristor Pruning"}
#: Short keys of the methods in glued names (``wt_conv1_std``).
METHOD_KEYS = {"weight-tuning": "wt", "software-pruning": "sp", "memristor-pruning": "mp"}
BASELINE = "weight-tuning"
PRUNED = ("software-pruning", "memristor-pruning")
#: The (noise, level) points of the results table; the drops are shown for all but the first.
TABLE_POINTS = (("read", 0.0), ("read", 0.10), ("read", 0.20), ("programming", 0.10), ("programming", 0.20))


def label(method: str) -> str:
    """The paper's name of ``method`` ("memristor-pruning" -> "Memristor Pruning"); unknown names unchanged."""
    return METHOD_LABELS.get(method, method)


def sweep_facts(sweep: NoiseSweep) -> dict:
    """How large the sweep was: ``n_runs`` (full passes over the test split; level 0 once per method and chip),
    ``sweep_minutes`` (its wall time when computed), ``n_chips`` and ``levels_text`` ("0, 10, 20 %")."""
    c = sweep.config
    return {"n_runs": len(sweep.methods) * c.chips * (1 + len(c.kinds) * (len(c.levels) - 1)),
            "sweep_minutes": sweep.seconds / 60, "n_chips": c.chips,
            "levels_text": ", ".join(f"{100 * s:g}" for s in c.levels) + " %"}


def noise_equivalents(factor: float, levels: Sequence[float] = (0.02, 0.10, 0.20)) -> dict[str, float]:
    """``level_a``, ``equiv_a``, ...: each cell-noise level and the weight noise it causes in formed pairs
    (``level * factor``, a fraction of the weights' spread; ``factor`` from ``weight_noise_factor``)."""
    if not factor > 0:
        raise ValueError(f"factor={factor!r} must be > 0 (weight noise per unit of cell noise)")
    out = {}
    for letter, level in zip("abcdefgh", levels):
        out[f"level_{letter}"], out[f"equiv_{letter}"] = level, level * factor
    return out


def _pct(level: float) -> int:
    return round(100 * level)


def _points(fraction: float) -> str:
    """A fraction as percentage points with one decimal, never "-0.0"."""
    text = f"{100 * fraction:.1f}"
    return "0.0" if text == "-0.0" else text


def _point_name(kind: str, level: float) -> str:
    return f"{_pct(level)} % {kind}" if level else "no noise"


def results_table(sweep: NoiseSweep, methods: Sequence[str], points=TABLE_POINTS) -> Table:
    """One row per (noise, level) point, one column per method: the accuracy (mean ± spread over chips, %).
    The drops from the noiseless chip are in :func:`model_comparison_table` and :func:`drops_in_points`."""
    rows = [[_point_name(kind, level)] + [mean_spread(*sweep.at(m, kind, level)) for m in methods]
            for kind, level in points]
    return Table.of(["noise"] + [label(m) for m in methods], rows)


def drops_in_points(sweep: NoiseSweep, methods: Sequence[str], points=TABLE_POINTS[1:]) -> dict[str, float]:
    """``drop_<method>_<kind>_<level %>``: each method's accuracy drop in percentage points
    (``drop_weight_tuning_read_20``)."""
    return {f"drop_{m.replace('-', '_')}_{k}_{_pct(s)}": 100 * sweep.drop(m, k, s) for m in methods for k, s in points}


@dataclass(frozen=True)
class Comparison:
    """One pruned network against the baseline at one noise and level (fractions of accuracy)."""

    method: str
    drop: float
    baseline_drop: float
    resolution: float

    @property
    def gap(self) -> float:
        """Baseline drop minus this drop: > 0 when the pruned network loses less."""
        return self.baseline_drop - self.drop

    @property
    def word(self) -> str:
        """``"less than"``, ``"more than"`` or ``"about as much as"`` (beyond the resolution or not)."""
        if self.gap > self.resolution:
            return "less than"
        if self.gap < -self.resolution:
            return "more than"
        return "about as much as"


def compare_with_baseline(sweep: NoiseSweep, kind: str, level: float, methods: Sequence[str] = PRUNED,
                          baseline: str = BASELINE) -> list[Comparison]:
    """Each of ``methods`` against ``baseline`` at ``level`` of noise ``kind``: drops and resolution."""
    base_drop, base_spread = sweep.drop(baseline, kind, level), sweep.at(baseline, kind, level)[1]
    return [Comparison(m, sweep.drop(m, kind, level), base_drop,
                       2 * float(np.hypot(base_spread, sweep.at(m, kind, level)[1]))) for m in methods]


def verdict_text(comparisons: Sequence[Comparison], kind: str, level: float, baseline: str = BASELINE) -> str:
    """One sentence: how much each pruned network loses against the baseline, and whether it is resolved."""
    parts = [f"{label(c.method)} {'gains' if _points(c.drop).startswith('-') else 'loses'} "
             f"{_points(abs(c.drop))} points, {c.word} {label(baseline)}'s "
             f"{_points(c.baseline_drop)} (difference {100 * abs(c.gap):.1f}, resolution {100 * c.resolution:.1f})"
             for c in comparisons]
    return f"At {_pct(level)} % {kind} noise, " + "; ".join(parts) + "."


def robustness_verdicts(sweep: NoiseSweep, level: float = 0.20, kinds: Sequence[str] = ("read", "programming"),
                        methods: Sequence[str] = PRUNED, baseline: str = BASELINE) -> dict:
    """The chapter's decision on "do topology-optimised networks degrade less?": ``verdict_<kind>`` (a
    sentence per noise), ``n_less`` (comparisons a pruned network wins beyond the resolution), ``n_compared``
    and ``paper_verdict`` (what that means for the paper's claim)."""
    out: dict = {}
    n_less = n_compared = 0
    for kind in kinds:
        comparisons = compare_with_baseline(sweep, kind, level, methods, baseline)
        out[f"verdict_{kind}"] = verdict_text(comparisons, kind, level, baseline)
        n_less += sum(c.word == "less than" for c in comparisons)
        n_compared += len(comparisons)
    out.update(n_less=n_less, n_compared=n_compared, paper_verdict=paper_verdict(n_less, n_compared))
    return out


def paper_verdict(n_less: int, n_compared: int) -> str:
    """What ``n_less`` wins out of ``n_compared`` comparisons say about the paper's claim."""
    if not 0 <= n_less <= n_compared:
        raise ValueError(f"n_less={n_less!r} must be between 0 and n_compared={n_compared!r}")
    if n_less == 0:
        return (f"none of the {n_compared} comparisons shows a pruned network losing less than Weight Tuning by more "
                "than the resolution: our simulation does not reproduce the paper's advantage of topology optimisation")
    if n_less == n_compared:
        return (f"all {n_compared} comparisons show the pruned networks losing less than Weight Tuning, beyond the "
                "resolution, as the paper reports")
    return (f"{n_less} of the {n_compared} comparisons show a pruned network losing less than Weight Tuning beyond "
            "the resolution: the paper's advantage of topology optimisation is reproduced only in part")


def mean_accuracy(sweep: NoiseSweep, kind: str, level: float, methods: Sequence[str]) -> float:
    """Accuracy at ``level`` of noise ``kind``, averaged over chips and then over ``methods``."""
    return float(np.mean([sweep.at(m, kind, level)[0] for m in methods]))


def early_stop_summary(sweep: NoiseSweep, method: str, theta: float, level: float = 0.20) -> dict:
    """Early stop under noise for ``method``: mean exit and load saved at ``theta`` without noise and at
    ``level`` of each noise (``es_exit_read_20``, ``es_saved_programming_0``, ...), the same at the lowest
    threshold under read noise, and the largest gap (over noises, levels and chips) between the accuracy
    with and without early stop, at ``theta`` and at the lowest threshold."""
    thresholds = list(sweep.config.thresholds)
    low = min(thresholds)
    levels = list(sweep.config.levels)
    out: dict = {"theta": theta, "theta_low": low, "thresholds_text": ", ".join(f"{t:g}" for t in thresholds)}
    for kind in sweep.config.kinds:
        exits = sweep.stats(method, kind, theta, "mean_exit")[0]
        for s in (0.0, level):
            out[f"es_exit_{kind}_{_pct(s)}"] = float(exits[levels.index(s)])
            out[f"es_saved_{kind}_{_pct(s)}"] = float(1 - exits[levels.index(s)] / sweep.timesteps)
    low_exits = sweep.stats(method, "read", low, "mean_exit")[0]
    out["low_exit_0"], out[f"low_exit_{_pct(level)}"] = float(low_exits[levels.index(0.0)]), float(
        low_exits[levels.index(level)])
    m = sweep.methods.index(method)
    # both in float32 (the early-stop accuracies are stored so): equal accuracies then give an exact 0
    early, full = np.float32(sweep.early_accuracy[m]), np.float32(sweep.accuracy[m])[..., None]
    gap = np.abs(early - full).astype(float)                                   # [kinds, levels, chips, thresholds]
    out["es_max_gap"] = float(gap[..., thresholds.index(theta)].max())
    out["es_gap_low"] = float(gap[..., thresholds.index(low)].max())
    out["es_gap_text"] = gap_text(out["es_max_gap"], theta, out["es_gap_low"], low)
    return out


def gap_text(gap: float, theta: float, gap_low: float, theta_low: float) -> str:
    """How far early stop's accuracy strays from the full run's (``gap`` at threshold ``theta``, ``gap_low`` at
    ``theta_low``, largest absolute differences as fractions), in words: a gap that prints as 0.0 points is said
    as "identical"."""
    def at(g: float, t: float) -> str:
        where = f"at θ = {t:g}"
        # below half a printed unit is float rounding of equal counts (2.9e-08), not a gap
        return f"identical {where}" if round(100 * g, 1) == 0 else f"within {100 * g:.1f} points of each other {where}"
    if theta_low == theta:
        return f"the two are {at(gap, theta)}"
    if round(100 * gap, 1) == 0 and round(100 * gap_low, 1) == 0:
        return f"the two are identical at θ = {theta:g} and at θ = {theta_low:g}"
    return f"the two are {at(gap, theta)} and {at(gap_low, theta_low)}"


def exit_change_words(change: float, reference: float) -> str:
    """How a change of the mean exit step (``change``, steps) compares with a ``reference`` change (steps; the
    other noise model's): "almost no change" when at most a quarter of it, else smaller or as large."""
    if abs(change) <= 0.25 * abs(reference) or abs(change) < 0.05:
        return "almost no change"
    return (f"a change of {change:+.2f} steps, " +
            ("smaller than" if abs(change) < abs(reference) else "at least as large as") + " under the other model")


#: How the chapter names the noise models it compares (keys of the sweeps it passes).
MODEL_LABELS = {"cell": "cell-relative (physical)", "weight": "weight-relative (the authors' code)"}


#: Short names of the noise models in table cells.
MODEL_SHORT = {"cell": "cell-relative", "weight": "weight-relative"}
#: How a pruned network's drop compares with Weight Tuning's, in a table cell (beyond the resolution or not).
_CELL_WORDS = {"less than": "less", "more than": "more", "about as much as": "alike"}


def model_comparison_table(sweeps: Mapping[str, NoiseSweep], methods: Sequence[str], level: float = 0.20) -> Table:
    """One row per noise model and noise kind, one column per method: the drop at ``level`` (points, mean ± spread
    over chips of the accuracy at ``level``; the drop is the difference of the means) and, in brackets for each
    pruned network, whether it loses "less" or "more" than Weight Tuning beyond the resolution or about as
    much ("alike")
    (:func:`compare_with_baseline`)."""
    rows = []
    for name, sweep in sweeps.items():
        for kind in sweep.config.kinds:
            pruned = [m for m in PRUNED if m in methods]
            words = {c.method: _CELL_WORDS[c.word] for c in compare_with_baseline(sweep, kind, level, pruned)}
            cells = [f"{MODEL_SHORT.get(name, name)}, {kind}"]
            for m in methods:
                cell = f"{_points(sweep.drop(m, kind, level))} ± {100 * sweep.at(m, kind, level)[1]:.1f}"
                cells.append(cell + (f" ({words[m]})" if m in words else ""))
            rows.append(cells)
    return Table.of([f"model, noise at {_pct(level)} %"] + [label(m) for m in methods], rows)


def model_verdicts(sweeps: Mapping[str, NoiseSweep], level: float = 0.20) -> dict:
    """``verdict_<model>_<kind>`` (a sentence, :func:`verdict_text`) and ``n_less_<model>_<kind>`` for every
    sweep and noise kind, keyed by the sweep's name in ``sweeps`` (``"cell"``, ``"weight"``)."""
    out: dict = {}
    for name, sweep in sweeps.items():
        for kind in sweep.config.kinds:
            comparisons = compare_with_baseline(sweep, kind, level)
            key = f"{name.replace('-', '_')}_{kind}"
            out[f"verdict_{key}"] = verdict_text(comparisons, kind, level)
            out[f"n_less_{key}"] = sum(c.word == "less than" for c in comparisons)
            out[f"n_more_{key}"] = sum(c.word == "more than" for c in comparisons)
    return out


def premise_table(written: NoiseSweep, every_cell: NoiseSweep, method: str = "memristor-pruning",
                  kind: str = "programming") -> Table:
    """``method``'s accuracy (mean ± spread over chips) at every level of ``kind`` noise (one row per level) when
    only the cells it writes are programmed (its RESET pairs) and when every cell is (two columns)."""
    levels = [s for s in written.config.levels if s in every_cell.config.levels]
    if not levels:
        raise ValueError(f"the two sweeps share no level: {written.config.levels} and {every_cell.config.levels}")
    header = [f"{kind} noise", "RESET pairs written", "every cell written"]
    rows = [[f"{_pct(s)} %", mean_spread(*written.at(method, kind, s)), mean_spread(*every_cell.at(method, kind, s))]
            for s in levels]
    return Table.of(header, rows)


def _comparison_words(sweep: NoiseSweep, kind: str, level: float, methods: Sequence[str] = PRUNED) -> str:
    """"Software Pruning loses less than Weight Tuning, Memristor Pruning about as much" (beyond the resolution)."""
    parts = []
    for i, c in enumerate(compare_with_baseline(sweep, kind, level, methods)):
        word = c.word if i == 0 else c.word.replace(" than", "").replace(" as much as", " as much")
        parts.append(f"{label(c.method)} loses {word}" + (f" {label(BASELINE)}" if i == 0 else ""))
    return ", ".join(parts)


def paper_claims(sweeps: Mapping[str, NoiseSweep], level: float = 0.20) -> dict[str, str]:
    """The paper's two robustness claims against the sweeps of each noise model (keys of ``sweeps``, named in
    :data:`MODEL_LABELS`), as sentences that keep findings apart from the model's premise:

    - ``claim_read``: "robust against stochastic synaptic noise" under read noise, per model (a finding);
    - ``claim_programming``: "mitigating programming stochasticity": Software Pruning, written like Weight Tuning,
      per model (a finding), and Memristor Pruning, whose flat curve is the premise (its kept cells are never
      written) when its programming-noise drop is within the resolution of zero.
    """
    read = "; ".join(f"under the {MODEL_LABELS.get(n, n)} model, {_comparison_words(s, 'read', level)}"
                     for n, s in sweeps.items() if "read" in s.config.kinds)
    programming = "; ".join(
        f"under the {MODEL_LABELS.get(n, n)} model, {_comparison_words(s, 'programming', level, PRUNED[:1])}"
        for n, s in sweeps.items() if "programming" in s.config.kinds)
    mp = [(s.drop("memristor-pruning", "programming", level),
           2 * float(np.hypot(s.at("memristor-pruning", "programming", 0.0)[1],
                              s.at("memristor-pruning", "programming", level)[1])))
          for s in sweeps.values() if "programming" in s.config.kinds and "memristor-pruning" in s.methods]
    premise = ""
    if mp:
        largest = max(abs(d) for d, _ in mp)
        flat = all(abs(d) <= r for d, r in mp)
        premise = ((f"Memristor Pruning's accuracy does not move beyond the chip-to-chip resolution under programming "
                    f"noise in either model (changes of at most {100 * largest:.1f} points at {_pct(level)} %)")
                   if flat else
                   f"Memristor Pruning changes by up to {100 * largest:.1f} points at {_pct(level)} % programming noise, "
                   "through the residual errors of its RESET pairs alone")
        premise += (", because only its RESET pairs are written and its kept cells stay as formed: that is the "
                    "premise of the model, not a finding")
    return {"claim_read": f"At {_pct(level)} % read noise, {read}.",
            "claim_programming": f"At {_pct(level)} % programming noise, {programming}." + (
                f" {premise}." if premise else "")}


def model_readings(sweeps: Mapping[str, NoiseSweep], level: float = 0.20, negligible: float = 0.02) -> str:
    """Which noise model reproduces the pattern of the paper's Fig. 3g (pruned networks lose less than Weight
    Tuning), one sentence per model. A model under which no method loses more than ``negligible`` (a fraction:
    0.02 = 2 points) at ``level``, leaving aside Memristor Pruning's programming noise (the premise), cannot
    separate the methods. Under programming noise only Software Pruning is compared (Memristor Pruning's flat
    curve is the premise), and the sentence names it."""
    sentences = []
    for name, sweep in sweeps.items():
        model = MODEL_LABELS.get(name, name)
        tested = [(m, k) for m in sweep.methods for k in sweep.config.kinds
                  if not (m == "memristor-pruning" and k == "programming")]
        largest = max(sweep.drop(m, k, level) for m, k in tested)
        if largest <= negligible:
            sentences.append(f"Under the {model} model no network loses more than {_points(largest)} points at "
                             f"{_pct(level)} %: at these levels the noise is too small to separate the methods, so "
                             "this model can neither confirm nor refute the claim.")
            continue
        parts = []
        for kind in sweep.config.kinds:
            methods = PRUNED if kind == "read" else PRUNED[:1]
            wins = [label(c.method) for c in compare_with_baseline(sweep, kind, level, methods)
                    if c.word == "less than"]
            if len(wins) == len(methods):
                parts.append(f"under {kind} noise {' and '.join(wins)} lose{'s' if len(wins) == 1 else ''} less than "
                             "Weight Tuning, the paper's pattern")
            elif wins:
                parts.append(f"under {kind} noise the paper's pattern holds for {wins[0]} only")
            else:
                nobody = f"{label(methods[0])} does not lose" if len(methods) == 1 else "neither pruned network loses"
                parts.append(f"under {kind} noise {nobody} less than Weight Tuning")
        sentences.append(f"Under the {model} model, " + "; ".join(parts) + ".")
    return " ".join(sentences)


def paired_gaps(sweep: NoiseSweep, kind: str = "read", level: float = 0.20, chip: int = 0,
                methods: Sequence[str] = PRUNED, baseline: str = BASELINE) -> dict[str, str]:
    """Each of ``methods`` minus ``baseline`` on the same test samples of one chip, paired
    (:func:`primekit.inference.intervals.paired_difference`: bootstrap interval and McNemar's exact test),
    without noise and at ``level`` of ``kind`` noise: ``paired_<key>_0`` and ``paired_<key>_<kind>_<level %>``
    (``paired_mp_read_20``), each a sentence part such as "+8.7 points (95 % CI +6.1 to +11.2; McNemar p = 1e-10)".
    They cover the finite test set of one chip, not the chip-to-chip spread nor training seeds."""
    from primekit.inference.intervals import paired_difference

    if not 0 <= chip < sweep.config.chips:
        raise ValueError(f"chip={chip!r} must be between 0 and {sweep.config.chips - 1}")
    k = sweep.config.kinds.index(kind) if kind in sweep.config.kinds else None
    if k is None or level not in sweep.config.levels or 0.0 not in sweep.config.levels:
        raise ValueError(f"kind={kind!r} at level={level!r} and level 0 must be in the sweep")
    labels = np.asarray(sweep.labels)

    def correct(method, at):
        m = sweep.methods.index(method)
        return np.asarray(sweep.logits[m, k, sweep.config.levels.index(at), chip]).argmax(axis=-1) == labels

    out = {}
    for method in methods:
        key = METHOD_KEYS.get(method, method.replace("-", "_"))
        for at, name in ((0.0, f"paired_{key}_0"), (level, f"paired_{key}_{kind}_{_pct(level)}")):
            out[name] = str(paired_difference(correct(method, at), correct(baseline, at)))
    return out
