"""Tables and glue values of the Image-inpainting chapter, from the results of
:mod:`primekit.experiments.inpainting_runs` (formatted here, so tests can check the cells)."""

from __future__ import annotations

from typing import Mapping, Sequence

from primekit.tables import Table, percent

#: The paper's inpainting headline numbers (arXiv v1 and the seed abstract; see the book's reproducibility notes).
PAPER_RATIO_INPAINTING = 62.50
PAPER_LOAD_SAVED_INPAINTING = 0.125
#: The paper's T for inpainting (its 12.5 % is 2 of these 16 steps).
PAPER_TIMESTEPS_INPAINTING = 16


def _eps_text(eps: float | None) -> str:
    return "none (full T)" if eps is None else f"{eps:g}"


def row_at(rows: Sequence, eps: float | None):
    """The row of threshold ``eps`` (None: full T)."""
    for row in rows:
        if row.eps == eps:
            return row
    raise ValueError(f"eps={eps!r} is not among the rows' thresholds {[r.eps for r in rows]}")


def quality_table(rows_by_name: Mapping[str, Sequence], timesteps: int, epsilons: Sequence[float | None]) -> Table:
    """One row per network and threshold: mean exit, load saved, MSEs, MNIST IS, classifier accuracy."""
    body = []
    for name, rows in rows_by_name.items():
        for eps in epsilons:
            r = row_at(rows, eps)
            body.append((name, _eps_text(eps), f"{r.mean_exit:.2f}", percent(1 - r.mean_exit / timesteps),
                         f"{r.whole:.3f}", f"{r.damaged:.3f}", f"{r.mnist_is:.2f}", percent(r.accuracy)))
    return Table.of(("network", "ε", "mean exit", "load saved", "MSE whole", "MSE square", "MNIST IS",
                     "classifier acc."), body)


def training_table(trained: Mapping[str, object]) -> Table:
    """Per method: what is trained, epochs, training time and the last epoch's test MSEs (full T)."""
    what = {"weight-tuning": "weights", "software-pruning": "scores", "memristor-pruning": "scores"}
    body = []
    for method, result in trained.items():
        h = result.history
        body.append((method, what.get(method, "?"), str(len(h.loss)), f"{result.train_seconds:.0f} s",
                     f"{h.samples_per_second[-1]:.0f}", f"{h.test_whole[-1]:.3f}", f"{h.test_damaged[-1]:.3f}"))
    return Table.of(("method", "pruned layers train", "epochs", "time", "digits/s", "test MSE whole",
                     "test MSE square"), body)


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
    per method (the methods are few, the levels many: this keeps the table within the page's width)."""
    body = []
    for kind in sweep.config.kinds:
        stats = {method: sweep.stats(method, kind, quantity, eps) for method in sweep.methods}
        for level in levels:
            i = list(sweep.config.levels).index(level)
            body.append([f"{kind} {100 * level:g} %"] + [f"{stats[m][0][i]:.3f} ± {stats[m][1][i]:.3f}"
                                                         for m in sweep.methods])
    return Table.of(["noise"] + list(sweep.methods), body)


def energy_table(rows_by_case: Mapping[str, Sequence], timesteps: int) -> Table:
    """Per hybrid case and threshold: mean exit, load saved, energy per image (nJ) of both systems, ratio."""
    body = []
    for case, rows in rows_by_case.items():
        for r in rows:
            body.append((case, _eps_text(r.eps), f"{r.mean_exit:.2f}", percent(1 - r.mean_exit / timesteps),
                         f"{r.digital_pj / 1e3:,.0f}", f"{r.hybrid_pj / 1e3:,.1f}", f"{r.ratio:.1f}x"))
    return Table.of(("hybrid system", "ε", "mean exit", "load saved", "digital (nJ)", "hybrid (nJ)",
                     "digital / hybrid"), body)


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
    """:func:`primekit.experiments.inpainting_runs.compare_semantics`'s rows as a table."""
    return Table.of(("semantics", "ε", "mean exit", "steps run per digit", "MSE whole", "MSE square", "wall time"),
                    [(r.semantics, f"{r.eps:g}", f"{r.mean_exit:.2f}", f"{r.steps_per_digit:.1f}", f"{r.whole:.3f}",
                      f"{r.damaged:.3f}", f"{r.seconds:.2f} s") for r in rows])
