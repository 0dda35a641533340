"""Tables and glue values of the Image-inpainting chapter, from the results of
:mod:`primekit.experiments.inpainting_runs` (formatted here, so tests can check the cells)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from primekit.tables import Table, percent

#: The paper's inpainting headline numbers (the abstract of its first arXiv version, 2407.18625v1).
PAPER_RATIO_INPAINTING = 62.50
PAPER_LOAD_SAVED_INPAINTING = 0.125
#: The paper's T for inpainting (its 12.5 % is 2 of these 16 steps).
PAPER_TIMESTEPS_INPAINTING = 16


#: The methods' names as the text writes them.
METHOD_NAMES = {"weight-tuning": "Weight Tuning", "software-pruning": "Software Pruning",
                "memristor-pruning": "Memristor Pruning"}


def _eps_text(eps: float | None) -> str:
    return "full T" if eps is None else f"{eps:g}"


def stop_words(saved: float) -> str:
    """How often a threshold stops the digits early, from the share of steps it saves: "rarely" (under 20 %),
    "sometimes" (under 50 %) or "often"."""
    return "rarely" if saved < 0.2 else "sometimes" if saved < 0.5 else "often"


def ratio_words(ratio: float) -> str:
    """A digital / hybrid energy ratio as the hybrid system's advantage: ``2.5`` -> "2.5x less", ``0.5`` ->
    "2.0x more" (the hybrid system then needs more energy than the digital one)."""
    return f"{ratio:.1f}x less" if ratio >= 1 else f"{1 / ratio:.1f}x more"


def order_words(ours: float, paper: float) -> str:
    """Where our ratio stands against the paper's: within a factor 3 "the order of", else "well below" or
    "well above"."""
    if paper / 3 <= ours <= 3 * paper:
        return "the order of"
    return "well below" if ours < paper else "well above"


def compare_words(a: float, b: float, digits: int = 2) -> str:
    """``a`` against ``b`` as words: "identical to the printed precision" when both round alike, else
    "0.12 lower" / "0.12 higher" (a minus b)."""
    if round(a, digits) == round(b, digits):
        return "identical to the printed precision"
    return f"{abs(a - b):.{digits}f} {'lower' if a < b else 'higher'}"


def measures_words(rows_by_method: Mapping[str, Sequence]) -> str:
    """One sentence comparing the MNIST IS and the damaged-square MSE of the methods at full T: which method
    each measure ranks first (or last), so the text never claims a disagreement the numbers do not show."""
    full = {name: row_at(rows, None) for name, rows in rows_by_method.items()}
    scores = {name: round(r.mnist_is, 2) for name, r in full.items()}
    losses = {name: round(r.damaged, 3) for name, r in full.items()}
    if len(set(scores.values())) == 1:
        return "All methods score the same MNIST IS to the printed precision"
    best_is = max(scores, key=scores.get)
    if list(scores.values()).count(scores[best_is]) > 1:
        return "Several methods share the highest MNIST IS"
    worst, best = max(losses, key=losses.get), min(losses, key=losses.get)
    if losses[worst] == losses[best]:
        return f"{best_is} scores the highest MNIST IS while every method has the same damaged-square MSE"
    if best_is == worst:
        return (f"The two measures disagree on {best_is}: its reconstructions score the highest MNIST IS and the "
                "worst damaged-square MSE")
    if best_is == best:
        return f"Here the two measures agree: {best_is} scores the highest MNIST IS and the lowest damaged-square MSE"
    return (f"The two measures rank the methods differently: {best_is} scores the highest MNIST IS, {best} has the "
            "lowest damaged-square MSE")


def fill_words(reconstructed: float, damaged_input: float) -> str:
    """Whether reconstructions fill in the square: their damaged-square MSE against the damaged input's own."""
    if reconstructed < damaged_input:
        return "fills in the erased square better than leaving it blank"
    return "does not yet fill in the erased square better than leaving it blank"


def row_at(rows: Sequence, eps: float | None):
    """The row of threshold ``eps`` (None: full T)."""
    for row in rows:
        if row.eps == eps:
            return row
    raise ValueError(f"eps={eps!r} is not among the rows' thresholds {[r.eps for r in rows]}")


def quality_table(rows_by_name: Mapping[str, Sequence], timesteps: int, epsilons: Sequence[float | None]) -> Table:
    """One row per network and threshold: load saved, damaged-square MSE, MNIST IS, classifier accuracy (the mean
    exit step is ``T x (1 - saved)`` and the whole-image MSE is in the chapter's figure; leaving them out keeps the
    table inside the text column)."""
    body = []
    for name, rows in rows_by_name.items():
        for eps in epsilons:
            r = row_at(rows, eps)
            body.append((name, _eps_text(eps), percent(1 - r.mean_exit / timesteps), f"{r.damaged:.3f}",
                         f"{r.mnist_is:.2f}", percent(r.accuracy)))
    return Table.of(("network", "ε", "load saved", "MSE square", "MNIST IS", "accuracy"), body)


def training_table(trained: Mapping[str, object]) -> Table:
    """Per method: what is trained, training time and speed, and the last epoch's test MSEs (full T)."""
    what = {"weight-tuning": "weights", "software-pruning": "scores", "memristor-pruning": "scores"}
    body = []
    for method, result in trained.items():
        h = result.history
        body.append((METHOD_NAMES.get(method, method), what.get(method, "?"), f"{result.train_seconds:.0f} s",
                     f"{h.samples_per_second[-1]:.0f}", f"{h.test_whole[-1]:.3f}", f"{h.test_damaged[-1]:.3f}"))
    return Table.of(("method", "trains", "time", "digits/s", "MSE whole", "MSE square"), body)


def study_values(rows: Sequence, eps: float, timesteps: int, prefix: str) -> dict[str, float]:
    """Glue values of one network at ``eps`` and at full T: ``{prefix}_whole``, ``_damaged``, ``_is``, ``_acc``,
    ``_exit``, ``_saved`` (at eps) and the same with ``_full`` (at T)."""
    at, full = row_at(rows, eps), row_at(rows, None)
    return {f"{prefix}_whole": at.whole, f"{prefix}_damaged": at.damaged, f"{prefix}_is": at.mnist_is,
            f"{prefix}_acc": at.accuracy, f"{prefix}_exit": at.mean_exit, f"{prefix}_saved": 1 - at.mean_exit / timesteps,
            f"{prefix}_whole_full": full.whole, f"{prefix}_damaged_full": full.damaged, f"{prefix}_is_full": full.mnist_is,
            f"{prefix}_acc_full": full.accuracy}


def largest_saving_within(rows: Sequence, timesteps: int, tolerance: float = 0.01) -> tuple[float | None, float]:
    """The threshold with the largest load saving whose damaged-square MSE is within ``tolerance`` of full T's
    (None and 0 when none saves anything), and that saving."""
    full = row_at(rows, None).damaged
    best, saved = None, 0.0
    for r in rows:
        if r.eps is not None and r.damaged <= full + tolerance and 1 - r.mean_exit / timesteps > saved:
            best, saved = r.eps, 1 - r.mean_exit / timesteps
    return best, saved


def noise_table(sweep, levels: Sequence[float], eps: float | None, quantity: str = "damaged") -> Table:
    """``quantity`` (mean ± spread over chips) at threshold ``eps``: one row per noise kind and level, one column
    per method (the methods are few, the levels many: this keeps the table within the page's width). Level 0,
    the same noiseless chips for every kind, is one first row, "no noise", the reference of the others."""
    body = []
    for kind in sweep.config.kinds:
        stats = {method: sweep.stats(method, kind, quantity, eps) for method in sweep.methods}
        # level 0 once (the first kind's row), then every noise level of every kind
        shown = [s for s in sorted(levels) if s != 0.0 or kind == sweep.config.kinds[0]]
        for level in shown:
            i = list(sweep.config.levels).index(level)
            body.append([f"{kind} {100 * level:g} %" if level else "no noise"]
                        + [f"{stats[m][0][i]:.3f} ± {stats[m][1][i]:.3f}" for m in sweep.methods])
    return Table.of(["noise"] + [METHOD_NAMES.get(m, m) for m in sweep.methods], body)


def premise_words(sweep, method: str = "memristor-pruning", kind: str = "programming",
                  quantity: str = "damaged") -> str:
    """Why ``method``'s ``kind``-noise curve (without early stop) looks as it does when only its RESET pairs are
    written: flat "by the model's premise" when its change at the top level is within the resolution (twice the
    spreads over chips at 0 and at the top level combined), else moved by the RESET pairs' residual errors."""
    levels = list(sweep.config.levels)
    if 0.0 not in levels or len(levels) < 2:
        raise ValueError(f"the sweep's levels {levels} need 0 and at least one noise level")
    mean, spread = sweep.stats(method, kind, quantity)
    top = levels.index(max(levels))
    zero = levels.index(0.0)
    change, resolution = mean[top] - mean[zero], 2 * float(np.hypot(spread[zero], spread[top]))
    if abs(change) <= resolution:
        return "so its programming curve is flat by the model's premise, not as a finding"
    return (f"so its programming curve moves only through the residual errors of its RESET pairs ({change:+.3f} at "
            f"{100 * max(levels):g} %); that nothing else moves is the model's premise, not a finding")


def clipping_words(clipped: int, cells: int, chip_loss: float, software_loss: float, method: str = "Weight Tuning",
                   tolerance: float = 0.01) -> str:
    """What clipping does to ``method`` on a noiseless chip: ``clipped`` of its ``cells`` cells lie outside the
    conductance range, and its damaged-square MSE there (``chip_loss``) against ``software_loss`` on the same
    digits (a difference above ``tolerance`` is a loss the sweep's noise levels start from)."""
    if clipped == 0:
        return f"{method}'s trained weights fit the conductance range: no cell is clipped on the chip."
    fits = (f"{method}'s trained weights do not all fit the conductance range: {clipped:,} of its {cells:,} cells "
            "are clipped")
    if chip_loss - software_loss > tolerance:
        return (f"{fits}, so even without noise its damaged-square MSE on the chip is {chip_loss:.3f}, against "
                f"{software_loss:.3f} in software on the same digits: its column is that of a clipped network, not a "
                "measure of how weight tuning copes with noise.")
    return (f"{fits}, which moves its noiseless damaged-square MSE little ({chip_loss:.3f}, {software_loss:.3f} in "
            "software).")


def energy_table(rows_by_case: Mapping[str, Sequence], timesteps: int) -> Table:
    """Per hybrid case and threshold: load saved, energy per image (nJ) of both systems, their ratio."""
    body = []
    for case, rows in rows_by_case.items():
        for r in rows:
            body.append((case, _eps_text(r.eps), percent(1 - r.mean_exit / timesteps),
                         f"{r.digital_pj / 1e3:,.0f}", f"{r.hybrid_pj / 1e3:,.0f}", f"{r.ratio:.1f}x"))
    return Table.of(("hybrid system", "ε", "load saved", "digital (nJ)", "hybrid (nJ)", "ratio"), body)


def scenario_table(counts, analogue_layers: Sequence[str], eps: float | None,
                   cases: Mapping[str, tuple[str, object]]) -> tuple[Table, dict[str, float]]:
    """Digital / hybrid ratio at threshold ``eps`` under every energy scenario ``cases`` (the energy chapter's
    :func:`primekit.energy.tables.scenarios`), with the posterior digital and with every layer analogue; and the
    glue values ``ratio_<key>_ours`` and ``ratio_<key>_all``."""
    from primekit.experiments.inpainting_runs import vae_energy_rows

    body, values = [], {}
    epsilons = () if eps is None else (eps,)
    for key, (label, config) in cases.items():
        ours, every = (vae_energy_rows(counts, layers, epsilons, config)[0].ratio
                       for layers in (analogue_layers, counts.counts.layers))
        values[f"ratio_{key}_ours"], values[f"ratio_{key}_all"] = ours, every
        body.append((label, f"{ours:.1f}x", f"{every:.1f}x"))
    return Table.of(("energy model", "posterior digital (ours)", "every layer analogue"), body), values


def hybrid_components(counts, analogue_layers: Sequence[str], exit_step, config) -> dict[str, float]:
    """Our hybrid system's energy per image (pJ) by component: crossbar components of the analogue layers,
    ``"digital layers"`` for the synaptic work of the others, and the periphery (neurons, tdBN, biases) of all."""
    from primekit.energy.prices import energy
    from primekit.experiments.inpainting_runs import layer_rows

    table = counts.counts.per_image(exit_step)
    digital_layers = [n for n in table.layers if n not in set(analogue_layers)]
    parts = dict(energy(layer_rows(table, analogue_layers), config, "hybrid").by_component())
    for component, pj in energy(layer_rows(table, digital_layers), config, "digital").by_component().items():
        key = component if component in ("neurons", "pooling", "state memory") else "digital layers"
        parts[key] = parts.get(key, 0.0) + pj
    return {k: v for k, v in parts.items() if v > 0}


def semantics_table(rows: Sequence) -> Table:
    """:func:`primekit.experiments.inpainting_runs.compare_semantics`'s rows as a table (the damaged-square MSE
    only: the whole-image MSE would push the table out of the text column)."""
    return Table.of(("semantics", "ε", "exit step", "steps run", "MSE square", "time"),
                    [(r.semantics, f"{r.eps:g}", f"{r.mean_exit:.2f}", f"{r.steps_per_digit:.1f}",
                      f"{r.damaged:.3f}", f"{r.seconds:.2f} s") for r in rows])


# --- the ledger's values: how much early stop or noise moves a quantity, as fractions of its reference ---


def largest_change(rows_by_name: Mapping[str, Sequence], eps: float, quantity: str = "damaged") -> tuple[str, float]:
    """The network whose ``quantity`` (a :class:`~primekit.experiments.inpainting_runs.Quality` field) moves most
    with early stop at ``eps``, and by how much: ``|q(eps) / q(full T) - 1|``."""
    changes = {name: abs(getattr(row_at(rows, eps), quantity) / getattr(row_at(rows, None), quantity) - 1)
               for name, rows in rows_by_name.items()}
    if not changes:
        raise ValueError("rows_by_name is empty; give at least one network's rows")
    name = max(changes, key=changes.get)
    return name, changes[name]


def largest_sweep_change(sweep, method: str, quantity: str = "damaged") -> dict:
    """The largest ``|q(eps) / q(full T) - 1|`` of ``method`` in a noise sweep, over its noise kinds, levels, chips
    and thresholds (each chip's own run against itself), and where it happens: ``change``, ``eps``, ``kind``,
    ``level``."""
    from primekit.experiments.inpainting_runs import QUANTITIES

    if method not in sweep.methods or quantity not in QUANTITIES or not sweep.epsilons:
        raise ValueError(f"method={method!r}, quantity={quantity!r}: the sweep has methods {sweep.methods}, "
                         f"quantities {QUANTITIES} and thresholds {sweep.epsilons} (at least one needed)")
    values = sweep.values[sweep.methods.index(method), ..., QUANTITIES.index(quantity)]   # [kinds, levels, chips, eps+1]
    change = np.abs(values[..., :-1] / values[..., -1:] - 1)
    k, i, _, e = np.unravel_index(np.argmax(change), change.shape)
    return {"change": float(change.max()), "eps": sweep.epsilons[e], "kind": sweep.config.kinds[k],
            "level": sweep.config.levels[i]}


def robust_increase(sweep, pruned: str, tuned: str, kind: str, level: float, quantity: str = "damaged") -> dict:
    """How much ``kind`` noise at ``level`` raises each network's ``quantity`` (without early stop), as a fraction
    of its noiseless value (means over chips): ``pruned_increase``, ``tuned_increase``, and the ``resolution``,
    twice the two spreads over chips combined (same fraction), as the noise chapter decides."""
    levels = list(sweep.config.levels)
    if level not in levels or 0.0 not in levels:
        raise ValueError(f"level={level!r} and 0 must be among the sweep's levels {levels}")
    out, spreads = {}, []
    for key, method in (("pruned_increase", pruned), ("tuned_increase", tuned)):
        mean, spread = sweep.stats(method, kind, quantity)
        base = mean[levels.index(0.0)]
        out[key] = float(mean[levels.index(level)] / base - 1)
        spreads.append(spread[levels.index(level)] / base)
    out["resolution"] = 2 * float(np.hypot(*spreads))
    return out


def rows_data(rows_by_name: Mapping[str, Sequence], fields: Sequence[str]) -> dict[str, list]:
    """The numbers behind a figure of threshold rows (study or energy rows), for the ledger: ``eps`` (the
    thresholds, "full T" for None) and ``"<name>: <field>"``, one value per threshold, for every network."""
    if not rows_by_name:
        raise ValueError("rows_by_name is empty; give at least one network's rows")
    first = next(iter(rows_by_name.values()))
    out: dict[str, list] = {"eps": [_eps_text(r.eps) for r in first]}
    for name, rows in rows_by_name.items():
        for field in fields:
            out[f"{name}: {field}"] = [float(getattr(row_at(rows, r.eps), field)) for r in first]
    return out


def sweep_data(sweep, methods: Sequence[str], quantity: str = "damaged") -> dict[str, list]:
    """The numbers behind a noise figure, for the ledger: ``level`` and, per method, noise kind and threshold
    (None: full T), ``"<method>, <kind>, ε <eps>: mean"`` and ``": spread"`` over chips, one value per level."""
    out: dict[str, list] = {"level": [float(s) for s in sweep.config.levels]}
    for method in methods:
        for kind in sweep.config.kinds:
            for eps in sweep.epsilons + (None,):
                mean, spread = sweep.stats(method, kind, quantity, eps)
                out[f"{method}, {kind}, ε {_eps_text(eps)}: mean"] = mean.tolist()
                out[f"{method}, {kind}, ε {_eps_text(eps)}: spread"] = spread.tolist()
    return out
