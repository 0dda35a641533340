"""Why the networks of the noise sweep behave as they do, in numbers: layer anatomy, margins, time averaging.

Reads the results of :mod:`primekit.experiments.noise_anatomy` (per-layer :class:`LayerNoise` rows, decision
:class:`Margins`) and a :class:`~primekit.experiments.noise_sweep.NoiseSweep`. Weight spreads are in µS of
``G+ - G-``; noise factors are per unit of relative cell noise (a factor 4 at 10 % noise means 40 %); margins
and output noises are in output units; flip rates and shares are fractions. Summaries are dicts of named
values (glued by the chapter); tables are :class:`~primekit.tables.Table`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from primekit.experiments.noise_anatomy import LayerNoise, Margins, flip_rate_by_ratio, sweep_margins
from primekit.experiments.noise_sweep import NoiseSweep
from primekit.experiments.noise_verdicts import METHOD_KEYS, label
from primekit.tables import Table

#: Ratio bins (margin over output noise) of the flip-rate summary: below 1/2 ... above 4.
COARSE_EDGES = (0.0, 0.5, 1.0, 2.0, 4.0, np.inf)


def _key(method: str) -> str:
    if method not in METHOD_KEYS:
        raise ValueError(f"method={method!r} has no short key; known methods are {sorted(METHOD_KEYS)}")
    return METHOD_KEYS[method]


def anatomy_table(anatomy: Mapping[str, Sequence[LayerNoise]]) -> Table:
    """Every layer of every network (the network named on its first layer's row): share of RESET pairs,
    kept-weight spread and cell RMS (µS), weight-noise and current-noise factors."""
    rows = []
    for m, layers in anatomy.items():
        for i, r in enumerate(layers):
            rows.append((label(m) if i == 0 else "", f"`{r.layer}`", f"{r.reset_fraction:.2f}",
                         f"{r.kept_weight_std_us:.2f}", f"{r.cell_rms_us:.2f}", f"{r.weight_noise:.2f}",
                         f"{r.current_noise:.2f}"))
    return Table.of(("network", "layer", "RESET share", "kept weights, std (µS)", "cell RMS (µS)",
                     "weight noise", "current noise"), rows)


def anatomy_summary(anatomy: Mapping[str, Sequence[LayerNoise]], baseline: str = "weight-tuning",
                    formed: str = "memristor-pruning", reset_layer: str = "conv1") -> dict:
    """The anatomy in numbers: ``<key>_<layer>_std``, ``_wn`` and ``_cn`` for every network and layer (kept
    weight spread, weight-noise and current-noise factors); ``mp_reset`` (RESET fraction of ``formed``'s
    ``reset_layer``); the layer-averaged factors ``mean_wn_<key>`` and ``mean_cn_<key>``; ``conv0_text``
    (how the first layers' weight-noise factors compare) and ``conv0_std_words`` (whether ``baseline``'s first
    layer has the larger weights); ``n_smaller`` of ``n_layers`` layers whose current noise is below their
    weight noise, and ``smaller_text``; ``coherence_text`` and ``undone_text`` (:func:`_coherence_texts`)."""
    out: dict = {}
    for method, rows in anatomy.items():
        key = _key(method)
        for r in rows:
            out.update({f"{key}_{r.layer}_std": r.kept_weight_std_us, f"{key}_{r.layer}_wn": r.weight_noise,
                        f"{key}_{r.layer}_cn": r.current_noise})
        out[f"mean_wn_{key}"] = float(np.mean([r.weight_noise for r in rows]))
        out[f"mean_cn_{key}"] = float(np.mean([r.current_noise for r in rows]))
    by_layer = {m: {r.layer: r for r in rows} for m, rows in anatomy.items()}
    first = next(iter(by_layer[baseline]))
    out[f"{_key(formed)}_reset"] = by_layer[formed][reset_layer].reset_fraction
    out["conv0_text"] = ("it is the other way round"
                         if by_layer[baseline][first].weight_noise < by_layer[formed][first].weight_noise
                         else f"{label(baseline)}'s factor is larger too")
    spread = {m: by_layer[m][first].kept_weight_std_us for m in (baseline, formed)}
    out["conv0_std_words"] = ("larger" if spread[baseline] > spread[formed] else
                              "smaller" if spread[baseline] < spread[formed] else "as large")
    n_smaller = sum(r.current_noise < r.weight_noise for rows in anatomy.values() for r in rows)
    n_layers = sum(len(rows) for rows in anatomy.values())
    what = f"layers of the {len(anatomy)} networks"
    out.update(n_smaller=n_smaller, n_layers=n_layers,
               smaller_text=f"in all {n_layers} {what}" if n_smaller == n_layers
               else f"in {n_smaller} of the {n_layers} {what}")
    out.update(_coherence_texts(anatomy, baseline, formed))
    return out


def _coherence_texts(anatomy: Mapping[str, Sequence[LayerNoise]], baseline: str, formed: str) -> dict:
    """``coherence_text``: which layer's current noise falls furthest below its weight noise (a sentence);
    ``undone_text``: how much of ``baseline``'s excess weight noise over ``formed`` (layer means) is left in
    its current noise: "largely undone" when at most half of it."""
    rows = [(m, r) for m, layers in anatomy.items() for r in layers if r.current_noise > 0]
    method, r = max(rows, key=lambda mr: mr[1].weight_noise / mr[1].current_noise)
    where = f"{label(method)}'s {'output layer' if r.layer == 'linear' else r.layer}"
    factors = f"a weight-noise factor of {r.weight_noise:.1f} but a current-noise factor of {r.current_noise:.1f}"
    coherence = (f"This coherence is strongest where training shaped the weights to the inputs: {where} has {factors}"
                 if method == baseline else f"The drop is largest in {where}, with {factors}")
    mean = {m: (np.mean([x.weight_noise for x in anatomy[m]]), np.mean([x.current_noise for x in anatomy[m]]))
            for m in (baseline, formed)}
    weight_excess = mean[baseline][0] / mean[formed][0] - 1
    current_excess = mean[baseline][1] / mean[formed][1] - 1
    if weight_excess <= 0:
        undone = "does not hold on average for these networks"
    elif current_excess <= 0.5 * weight_excess:
        undone = ("is real, but it is largely undone at the level of the currents. This is why the per-weight "
                  "argument alone does not predict the sweep")
    else:
        undone = (f"is real, and only partly undone at the level of the currents: {label(baseline)}'s neurons see "
                  f"more input noise than {label(formed)}'s")
    return {"coherence_text": coherence, "undone_text": undone}


def pooled(margins: Mapping[str, Margins]) -> Margins:
    """All networks' (chip, sample) pairs in one :class:`Margins`."""
    return Margins(*[np.concatenate([getattr(m, f) for m in margins.values()]) for f in Margins._fields])


def half_flip_ratio(margins: Margins, edges: Sequence[float] = tuple(np.geomspace(0.1, 100, 61)),
                    min_count: int = 20) -> float:
    """The first ratio (geometric bin centre, margin over output noise) from which at most half of the
    decisions flip, among bins of at least ``min_count`` pairs; NaN if no bin qualifies."""
    rate, counts = flip_rate_by_ratio(margins, edges)
    edges = np.asarray(edges, dtype=float)
    centres = np.sqrt(edges[:-1] * edges[1:])
    survives = (counts >= min_count) & (rate <= 0.5)
    return float(centres[np.argmax(survives)]) if survives.any() else float("nan")


def margin_summary(margins: Mapping[str, Margins]) -> dict:
    """Margins in numbers: per network ``<key>_median_margin``, ``_median_noise``, ``_median_ratio`` and
    ``_flipped`` (share of decisions the noise changes); over all networks the flip rates below a ratio of 1/2
    (``flip_below_half``) and above 4 (``flip_above_4``), the ratio from which half survive (``ratio_half``);
    and ``margin_text``: whether the widest margins come with the largest output noise, and whether the median
    ratios are close (the largest at most 1.25 times the smallest)."""
    out: dict = {}
    for method, mg in margins.items():
        key = _key(method)
        out.update({f"{key}_median_margin": float(np.median(mg.margin)),
                    f"{key}_median_noise": float(np.median(mg.noise)),
                    f"{key}_median_ratio": float(np.median(mg.ratio)), f"{key}_flipped": float(mg.flipped.mean())})
    everyone = pooled(margins)
    rate, _ = flip_rate_by_ratio(everyone, COARSE_EDGES)
    out.update(flip_below_half=float(rate[0]), flip_above_4=float(rate[-1]), ratio_half=half_flip_ratio(everyone))
    out["flip_text"] = flip_text(out["flip_below_half"], out["flip_above_4"], out["ratio_half"])
    out.update(curve_texts(margins))
    widest = max(margins, key=lambda m: np.median(margins[m].margin))
    noisiest = max(margins, key=lambda m: np.median(margins[m].noise))
    ratios = [np.median(mg.ratio) for mg in margins.values()]
    close = min(ratios) > 0 and max(ratios) / min(ratios) <= 1.25
    if widest == noisiest:
        out["margin_text"] = (f"the network with the widest margins, {label(widest)}, also has the largest output "
                              "noise, " + ("so the margins measured in noise units are close" if close else
                                           "yet the margins measured in noise units still differ"))
    else:
        out["margin_text"] = ("the margins measured in noise units are close" if close else
                              "the margins measured in noise units differ between the networks")
    return out


def noise_ratio_summary(sweep: NoiseSweep, methods: Sequence[str], level: float = 0.10) -> tuple[dict, Table]:
    """Programming against read noise at equal ``level``: each network's median output noise under both and
    their ratio (a table), the smallest and largest ratio, and sqrt(T), the ratio if read noise averaged out
    like independent steps (``noise_ratio_min``, ``noise_ratio_max``, ``sqrt_T``), and ``sqrt_t_text`` (whether
    the measured ratios stay below sqrt(T), and why)."""
    rows, ratios = [], []
    for method in methods:
        read = float(np.median(sweep_margins(sweep, method, "read", level).noise))
        programming = float(np.median(sweep_margins(sweep, method, "programming", level).noise))
        ratios.append(programming / read)
        rows.append((label(method), f"{read:.3f}", f"{programming:.3f}", f"{programming / read:.2f}"))
    pct = f"{round(100 * level)} %"
    table = Table.of(("network", f"output noise, {pct} read", f"{pct} programming", "ratio"), rows)
    sqrt_t = float(np.sqrt(sweep.timesteps))
    sqrt_t_text = ("The measured ratio is smaller than that: the LIF neurons carry their membrane from step to step, "
                   "so consecutive steps are not independent, and a read error that makes a neuron spike (or not) "
                   "propagates through the following layers" if max(ratios) < sqrt_t else
                   "The measured ratio is not smaller than that: time averaging accounts for all of it")
    return {"noise_ratio_min": min(ratios), "noise_ratio_max": max(ratios), "sqrt_T": sqrt_t,
            "sqrt_t_text": sqrt_t_text}, table


def flip_text(below_half: float, above_4: float, ratio_half: float) -> str:
    """The pooled flip rates in words: below a ratio (margin over output noise) of 1/2, above 4, and the ratio
    from which half of the decisions survive; a NaN (no pair in that bin) is said as such, and a rate that would
    print as 0.0 % as "never" or "fewer than 0.1 %"."""
    first = ("no decision has a margin below half its output noise" if np.isnan(below_half) else
             f"a decision whose margin is below half its output noise changes in {100 * below_half:.0f} % of the cases")
    above = "one whose margin exceeds four times its noise"
    second = ("none has a margin above four times its noise" if np.isnan(above_4) else
              f"{above} never changes" if above_4 == 0 else
              f"{above} in fewer than 0.1 %" if above_4 < 0.0005 else f"{above} in {100 * above_4:.1f} %")
    if np.isnan(ratio_half):
        third = "and no bin with enough pairs keeps half of its decisions"
    else:
        third = f"and half of the decisions survive from a ratio of about {ratio_half:.1f} on"
        if ratio_half > 1:
            third += (" (a margin has to absorb the changes of two outputs, and the largest change among nine "
                      "competitors, so the crossover lies above 1)")
    return f"{first}, {second}, {third}"


def curve_texts(margins: Mapping[str, Margins], min_count: int = 20, same_within: float = 0.1) -> dict:
    """Whether the networks share one flip-rate curve: ``curve_gap`` (largest difference between two networks'
    flip rates in a :data:`COARSE_EDGES` bin holding at least ``min_count`` pairs of each, a fraction; NaN if no
    bin does), ``curve_text`` (the sentence saying it) and ``curve_consequence`` (what follows from it).
    Curves within ``same_within`` of each other count as one."""
    rates = []
    for mg in margins.values():
        rate, counts = flip_rate_by_ratio(mg, COARSE_EDGES)
        rates.append(np.where(counts >= min_count, rate, np.nan))
    rates = np.array(rates)
    shared = ~np.isnan(rates).any(axis=0)
    gap = float(np.ptp(rates[:, shared], axis=0).max()) if shared.any() else float("nan")
    n = f"{len(margins)} networks"
    if np.isnan(gap):
        return {"curve_gap": gap, "curve_text": f"No ratio bin holds {min_count} pairs of each of the {n}; pooled",
                "curve_consequence": "Too few pairs to tell whether the networks share one curve."}
    if gap <= same_within:
        return {"curve_gap": gap,
                "curve_text": (f"The top panel is nearly one curve for the {n} (in every bin holding at least "
                               f"{min_count} pairs of each, their flip rates differ by at most {100 * gap:.0f} "
                               "points)"),
                "curve_consequence": ("Training method, weight magnitudes and sparsity do not change this curve; "
                                      "they only decide where a network's decisions lie on it (bottom panel).")}
    return {"curve_gap": gap,
            "curve_text": (f"The {n}' curves in the top panel differ by up to {100 * gap:.0f} points in a bin "
                           f"holding at least {min_count} pairs of each; pooled"),
            "curve_consequence": "At the same ratio, the networks' decisions are not equally likely to change."}


#: Ratio bins (margin over output noise) of the pooled curve that predicts each network's flips: the figure's bins
#: (0.1 to 30, 13 of them) and one open bin at each end.
CURVE_EDGES = (0.0, *np.geomspace(0.1, 30, 14), np.inf)


def _names(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else values[0]


def flip_explanation(margins: Mapping[str, Margins], drops: Mapping[str, float], tolerance: float = 0.02) -> dict:
    """Do the margins in noise units explain each network's changed decisions? The pooled flip-rate curve (all
    networks, :data:`CURVE_EDGES`) applied to each network's own ratios predicts ``<key>_expected`` (a fraction of
    its decisions); it explains them when every prediction is within ``tolerance`` of the measured share.
    ``drops`` are the accuracy drops at the same noise (fractions). Sentences: ``flips_text`` (changed decisions
    against the drops), ``explained_text``, ``predictor_text`` (What to notice) and ``summary_margin_text``."""
    everyone = pooled(margins)
    rate, _ = flip_rate_by_ratio(everyone, CURVE_EDGES)
    rate = np.nan_to_num(rate)
    out: dict = {}
    actual, expected, right = {}, {}, {}
    for method, mg in margins.items():
        which = np.clip(np.digitize(mg.ratio, CURVE_EDGES) - 1, 0, len(rate) - 1)
        actual[method], expected[method] = float(mg.flipped.mean()), float(rate[which].mean())
        right[method] = float((mg.flipped & mg.correct).sum() / max(mg.flipped.sum(), 1))
        out[f"{_key(method)}_expected"] = expected[method]
    close = all(abs(actual[m] - drops[m]) <= max(0.02, 0.15 * actual[m]) for m in margins)
    shares = _names([f"{100 * right[m]:.0f} %" for m in margins])
    out["flips_text"] = ("are close to the accuracy drops of the table: a decision that changes was almost always "
                         f"right ({shares} of them were)" if close and min(right.values()) >= 0.9 else
                         f"are not the accuracy drops of the table: {shares} of the changed decisions were right")
    worst = max(margins, key=lambda m: abs(actual[m] - expected[m]))
    gap = actual[worst] - expected[worst]
    prediction = (f"applied to each network's ratios, the pooled curve of the top panel predicts "
                  f"{_names([f'{100 * v:.1f} %' for v in expected.values()])}")
    if abs(gap) <= tolerance:
        out["explained_text"] = f"The margins in noise units account for these shares: {prediction}."
        out["predictor_text"] = ("The predictor of robustness is the decision margin measured in units of the output "
                                 "noise.")
        out["summary_margin_text"] = ("Whether a network survives noise is decided by its decision margins measured in "
                                      "units of its output noise; weight magnitudes, RESET pairs and training enter "
                                      "only through them")
        return out
    more = "more" if gap > 0 else "less"
    out["explained_text"] = (f"Where the decisions lie does not explain these shares: {prediction}, and "
                             f"{label(worst)}'s decisions change {more} often than that ({100 * actual[worst]:.1f} % "
                             f"against {100 * expected[worst]:.1f} %), so the margin in noise units is not all that "
                             "decides whether a decision flips.")
    out["predictor_text"] = ("The decision margin measured in units of the output noise predicts most of a network's "
                             f"robustness, but not all: at the same ratio, {label(worst)}'s decisions change {more} "
                             "often.")
    out["summary_margin_text"] = ("Decision margins measured in units of the output noise predict most of what noise "
                                  f"does, though at the same ratio {label(worst)}'s decisions change {more} often")
    return out


def _points(fraction: float) -> str:
    """A fraction as percentage points with one decimal, never "-0.0"."""
    return f"{100 * fraction:.1f}".replace("-0.0", "0.0")


def level_effects(sweep: NoiseSweep, steep: float = 0.10, small: float = 0.02) -> dict:
    """What the smallest and the largest noise level of ``sweep`` do, by the largest accuracy drop over its methods
    and noises: ``first_level``, ``first_drop``, ``top_level``, ``top_drop`` (fractions); ``small_noise_text`` ("at
    5 % of noise per cell no network loses more than 1.3 points", or "already loses up to" beyond ``small``) and
    ``top_noise_text`` ("falls steeply" from a drop of ``steep``, else "no network loses more than")."""
    levels = [s for s in sweep.config.levels if s > 0]
    if not levels:
        raise ValueError(f"the sweep's levels {sweep.config.levels} hold no noise level above 0")
    first, top = min(levels), max(levels)
    drop = {s: max(sweep.drop(m, k, s) for m in sweep.methods for k in sweep.config.kinds) for s in (first, top)}
    at_first = f"at {round(100 * first)} % of noise per cell"
    small_text = (f"{at_first} no network loses more than {_points(max(drop[first], 0.0))} points"
                  if drop[first] <= small else
                  f"{at_first} a network already loses up to {_points(drop[first])} points")
    top_text = (f"at {round(100 * top)} % the accuracy falls steeply, by up to {_points(drop[top])} points"
                if drop[top] >= steep else
                f"at {round(100 * top)} % no network loses more than {_points(max(drop[top], 0.0))} points")
    return {"first_level": first, "first_drop": drop[first], "top_level": top, "top_drop": drop[top],
            "small_noise_text": small_text, "top_noise_text": top_text}


def written_noise_words(sweep: NoiseSweep, methods: Sequence[str], level: float = 0.10) -> dict:
    """Programming against read noise at ``level`` for the networks whose cells are written (``methods``):
    ``written_costs_words`` ("costs more than" when their mean accuracy is lower under programming noise, else
    "costs no more than") and ``written_spread_text`` (whether the chips differ more under programming noise, by
    the mean spread over chips)."""
    accuracy = {k: np.mean([sweep.at(m, k, level)[0] for m in methods]) for k in ("programming", "read")}
    spread = {k: np.mean([sweep.at(m, k, level)[1] for m in methods]) for k in ("programming", "read")}
    return {"written_costs_words": "costs more than" if accuracy["programming"] < accuracy["read"]
            else "costs no more than",
            "written_spread_text": ("chips also differ more from each other" if spread["programming"] > spread["read"]
                                    else "chips do not differ more from each other") + " under programming noise"}


def early_stop_texts(summary: Mapping[str, float], close: float = 0.02, later: float = 0.05) -> dict:
    """Sentences about early stop under noise from :func:`~primekit.experiments.noise_verdicts.early_stop_summary`
    (cell-relative model): the exits count as delayed when the mean exit at the top read-noise level is more than
    ``later`` steps after the noiseless one, both at θ and at the lowest threshold; the accuracies as close when
    both largest gaps are at most ``close`` (a fraction). Keys: ``es_lead_text``, ``es_trend_text``,
    ``es_follow_text``, ``es_adapt_text`` (possibly empty), ``es_notice_text`` and ``es_summary_text``."""
    top = max(int(k.rsplit("_", 1)[1]) for k in summary if k.startswith("es_exit_read_"))
    delayed = (summary[f"es_exit_read_{top}"] - summary["es_exit_read_0"] > later
               and summary[f"low_exit_{top}"] - summary["low_exit_0"] > later)
    near = max(summary["es_max_gap"], summary["es_gap_low"]) <= close
    if delayed:
        texts = {"es_lead_text": "Noise costs time before it costs accuracy",
                 "es_trend_text": ("Noise blurs the output, the softmax flattens, and the confidence needs more steps "
                                   "to reach the threshold: the load saved by early stop shrinks as the noise grows"),
                 "es_adapt_text": "Early stop thus adapts to the noise by itself, at the price of time.",
                 "es_notice_text": "With early stop, noise costs time: the network becomes confident later, so the "
                                   "load saved shrinks",
                 "es_summary_text": "With early stop, noise first costs time: the network exits later."}
    else:
        texts = {"es_lead_text": "Noise does not delay the exits at every threshold",
                 "es_trend_text": ("The exits do not move later at both thresholds as the noise grows, so the load "
                                   "saved by early stop does not shrink everywhere"),
                 "es_adapt_text": "",
                 "es_notice_text": "With early stop, noise did not delay the exits at every threshold in this build",
                 "es_summary_text": "With early stop, noise did not delay the exits at every threshold in this build."}
    texts["es_follow_text"] = ("The accuracy with early stop follows the accuracy without it closely" if near else
                               "The accuracy with early stop departs from the accuracy without it")
    texts["es_notice_text"] += ("; the accuracy stays close to that of the full run" if near else
                                "; the accuracy departs from that of the full run")
    return texts
