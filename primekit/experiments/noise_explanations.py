"""Why the networks of the noise sweep behave as they do, in numbers: layer anatomy, margins, time averaging.

Reads the results of :mod:`primekit.experiments.noise_anatomy` (per-layer :class:`LayerNoise` rows, decision
:class:`Margins`) and a :class:`~primekit.experiments.noise_sweep.NoiseSweep`. Weight spreads are in uS of
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
    (how the first layers' weight-noise factors compare); ``n_smaller`` of ``n_layers`` layers whose current
    noise is below their weight noise, and ``smaller_text``."""
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
    n_smaller = sum(r.current_noise < r.weight_noise for rows in anatomy.values() for r in rows)
    n_layers = sum(len(rows) for rows in anatomy.values())
    what = f"layers of the {len(anatomy)} networks"
    out.update(n_smaller=n_smaller, n_layers=n_layers,
               smaller_text=f"in all {n_layers} {what}" if n_smaller == n_layers
               else f"in {n_smaller} of the {n_layers} {what}")
    return out


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
    and ``margin_text``, whether the widest margins come with the largest output noise."""
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
    out["margin_text"] = (f"the network with the widest margins, {label(widest)}, also has the largest output noise, "
                          "so the margins measured in noise units are close" if widest == noisiest
                          else "the margins measured in noise units differ between the networks")
    return out


def noise_ratio_summary(sweep: NoiseSweep, methods: Sequence[str], level: float = 0.10) -> tuple[dict, Table]:
    """Programming against read noise at equal ``level``: each network's median output noise under both and
    their ratio (a table), the smallest and largest ratio, and sqrt(T), the ratio if read noise averaged out
    like independent steps (``noise_ratio_min``, ``noise_ratio_max``, ``sqrt_T``)."""
    rows, ratios = [], []
    for method in methods:
        read = float(np.median(sweep_margins(sweep, method, "read", level).noise))
        programming = float(np.median(sweep_margins(sweep, method, "programming", level).noise))
        ratios.append(programming / read)
        rows.append((label(method), f"{read:.3f}", f"{programming:.3f}", f"{programming / read:.2f}"))
    pct = f"{round(100 * level)} %"
    table = Table.of(("network", f"output noise, {pct} read", f"{pct} programming", "ratio"), rows)
    return {"noise_ratio_min": min(ratios), "noise_ratio_max": max(ratios),
            "sqrt_T": float(np.sqrt(sweep.timesteps))}, table


def flip_text(below_half: float, above_4: float, ratio_half: float) -> str:
    """The pooled flip rates in words: below a ratio (margin over output noise) of 1/2, above 4, and the ratio
    from which half of the decisions survive; a NaN (no pair in that bin) is said as such."""
    first = ("no decision has a margin below half its output noise" if np.isnan(below_half) else
             f"a decision whose margin is below half its output noise changes in {100 * below_half:.0f} % of the cases")
    second = ("none has a margin above four times its noise" if np.isnan(above_4) else
              f"one whose margin exceeds four times its noise in {100 * above_4:.1f} %")
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
            "curve_consequence": ("Where a network's decisions lie on its curve (bottom panel) matters as much as "
                                  "the curve itself.")}
