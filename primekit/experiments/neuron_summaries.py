"""The LIF chapter's measurements: time constant, a membrane trace, a raster, rate curves, gradients through
a spike, and the state a hand-written loop leaks.

Membrane potential and current are dimensionless (membrane units; the threshold sets the scale); a step
is one input frame; rates are spikes per step. Each function returns plain numbers (a dict whose keys the
chapter glues under a prefix) and is checked against closed forms in ``tests/test_neuron_summaries.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

from primekit.snn.neurons import LIF, PRIME_LIF, LIFParameters, constant_input_rate
from primekit.snn.surrogate import Surrogate
from primekit.snn.timeloop import StepModule


def time_constant(params: LIFParameters = PRIME_LIF) -> dict:
    """``tau_steps``: the membrane time constant in steps, from ``retention = exp(-1 / tau)``; and
    ``memory_3_steps``: the fraction of the membrane left after three steps without input (``retention**3``).

    Raises:
        ValueError: a retention of 0 or 1 has no finite, non-zero time constant.
    """
    r = params.retention
    if not 0.0 < r < 1.0:
        raise ValueError(f"params.retention={r!r} must be in (0, 1) for a finite time constant")
    return {"tau_steps": -1.0 / math.log(r), "memory_3_steps": r**3}


def trace_summary(current: torch.Tensor, v: torch.Tensor, spikes: torch.Tensor, weak: slice, moderate: slice,
                  strong: slice, params: LIFParameters = PRIME_LIF) -> dict:
    """One neuron's trace in three input regimes (``[T]`` tensors; the slices select steps).

    Returns ``weak_level`` (mean current of the weak regime), ``weak_limit`` (its membrane limit,
    level / decay), ``weak_spikes``, ``moderate_rate`` and ``strong_rate`` (spikes per step) and ``min_v``
    (the lowest membrane potential of the whole trace).
    """
    if not (current.shape == v.shape == spikes.shape and current.dim() == 1):
        raise ValueError(f"current, v and spikes have shapes {tuple(current.shape)}, {tuple(v.shape)}, "
                         f"{tuple(spikes.shape)}; they must be the same 1-D shape [T]")
    level = current[weak].mean().item()
    return {"weak_level": level, "weak_limit": level / params.decay, "weak_spikes": int(spikes[weak].sum()),
            "moderate_rate": spikes[moderate].mean().item(), "strong_rate": spikes[strong].mean().item(),
            "min_v": v.min().item()}


def raster_summary(mean_current: torch.Tensor, raster: torch.Tensor, params: LIFParameters = PRIME_LIF) -> dict:
    """A noisy population (``raster`` ``[T, N]`` spikes, ``mean_current`` ``[N]``).

    Returns ``below`` (neurons whose mean current is at most threshold x decay: silent without noise),
    ``below_fired`` (how many of those fired at least once) and ``top_rate`` (the last neuron's rate).
    """
    if raster.dim() != 2 or raster.shape[1] != mean_current.numel():
        raise ValueError(f"raster has shape {tuple(raster.shape)}; expected [T, N] with N = "
                         f"mean_current.numel() = {mean_current.numel()}")
    silent = mean_current <= params.threshold * params.decay
    fired = raster.sum(dim=0) > 0
    return {"below": int(silent.sum()), "below_fired": int((silent & fired).sum()),
            "top_rate": raster[:, -1].mean().item()}


def decay_label(params: LIFParameters) -> str:
    """A legend label, e.g. "decay 0.8 (retention 0.2), PRIME"."""
    label = f"decay {params.decay:g} (retention {params.retention:.2g})"
    return label + (", PRIME" if params == PRIME_LIF else "")


def rate_curves(decays: Sequence[float], currents: torch.Tensor, steps: int,
                fine_currents: torch.Tensor | None = None) -> tuple[dict, dict, float]:
    """Rate of ``primekit.LIF`` against a constant current, simulated and in closed form, for several decays.

    Args:
        decays: one neuron model per decay (threshold 0.2).
        currents: constant currents (membrane units per step), one simulated neuron each.
        steps: simulated steps from rest.
        fine_currents: where to evaluate the closed form (default ``currents``).

    Returns:
        ``(simulated, closed_form, max_gap)``: label -> rates at ``currents``; label -> closed-form rates at
        ``fine_currents``; the largest ``|simulated - closed form|`` at ``currents`` (under ``1 / steps``: a
        finite run from rest counts ``floor(steps / n*)`` spikes).
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} must be a positive integer")
    fine = currents if fine_currents is None else fine_currents
    simulated, closed_form, gap = {}, {}, 0.0
    for decay in decays:
        params = LIFParameters(decay=decay)
        label = decay_label(params)
        simulated[label] = LIF(params).run(currents.expand(steps, -1)).outputs.mean(dim=0)
        closed_form[label] = [constant_input_rate(i, params) for i in fine.tolist()]
        exact = torch.tensor([constant_input_rate(i, params) for i in currents.tolist()])
        gap = max(gap, (simulated[label] - exact).abs().max().item())
    return simulated, closed_form, gap


def rate_windows(prime: LIFParameters, long_memory: LIFParameters) -> dict:
    """Where the rate curve rises: silent up to threshold x decay, one spike per step above the threshold.

    Returns ``prime_silent_below`` (threshold x decay), ``every_step_above`` (threshold), ``prime_window``
    (their difference), ``long_decay`` and ``long_window`` (the same window for ``long_memory``).
    """
    th = prime.threshold
    return {"prime_silent_below": th * prime.decay, "every_step_above": th,
            "prime_window": th - th * prime.decay, "long_decay": long_memory.decay,
            "long_window": long_memory.threshold - long_memory.threshold * long_memory.decay}


def spike_count_gradients(surrogates: Mapping[str, Surrogate], weight: float, steps: int) -> dict:
    """d(spike count)/d(weight) of one neuron driven by ``weight`` on each of ``steps`` steps, per surrogate.

    Returns name -> ``(spike count, gradient)``. The forward pass (the count) is the same for every
    surrogate; only the backward pass differs.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} must be a positive integer")
    out = {}
    for name, surrogate in surrogates.items():
        w = torch.tensor(float(weight), requires_grad=True)
        count = LIF(LIFParameters(surrogate=surrogate)).run(w * torch.ones(steps, 1)).outputs.sum()
        count.backward()
        out[name] = (int(count.item()), w.grad.item())
    return out


def run_without_reset(model: StepModule, x: torch.Tensor, state) -> torch.Tensor:
    """The bug ``run`` prevents: a loop over ``model.step`` that starts from ``state`` (a previous run's
    final state) instead of ``init_state``. Returns the outputs stacked over time."""
    outputs = []
    for x_t in x:
        out_t, state = model.step(x_t, state)
        outputs.append(out_t)
    return torch.stack(outputs)


def state_leak(model: StepModule, x: torch.Tensor) -> dict:
    """How many outputs change when ``x`` (``[T, B, ...]``) is run again from the first run's final state.

    Returns ``changed`` (outputs that differ from a fresh run's) and ``spikes`` (the fresh run's total).
    """
    first = model.run(x)
    leaked = run_without_reset(model, x, first.final_state)
    return {"changed": int((leaked != first.outputs).sum()), "spikes": int(first.outputs.sum())}


# ---------------------------------------------------------------------------------------------------
# Phrases: the sentences whose wording depends on the numbers above
# ---------------------------------------------------------------------------------------------------


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative integer (a count)")
    return value


def spikes_text(count: int) -> str:
    """A spike count in words: "no spikes", "1 spike", "23 spikes"."""
    count = _check_count("count", count)
    return "no spikes" if count == 0 else f"{count:,} spike" + ("" if count == 1 else "s")


def fires_text(count: int) -> str:
    """What a neuron did, from its spike count: "does not fire", "fires once", "fires twice", "fires 5 times"."""
    count = _check_count("count", count)
    return {0: "does not fire", 1: "fires once", 2: "fires twice"}.get(count, f"fires {count:,} times")


def quiet_fired_text(below: int, fired: int) -> str:
    """How many of the ``below`` neurons that are silent without noise fired with it, e.g. "all 15 of them fire
    now and then", "3 of them fire now and then", "none of them fires"."""
    below, fired = _check_count("below", below), _check_count("fired", fired)
    if fired > below:
        raise ValueError(f"fired={fired} must be at most below={below} (it counts some of those neurons)")
    if fired == 0:
        return "none of them fires"
    if fired == below:
        return f"all {below:,} of them fire now and then"
    return f"{fired:,} of them fire" + ("s" if fired == 1 else "") + " now and then"


def leak_growth_text(prime: Mapping[str, int], long_memory: Mapping[str, int]) -> str:
    """Whether the state a hand-written loop leaks grows with the neurons' memory: compares the fraction of
    outputs changed (``changed / spikes``, from :func:`state_leak`) of PRIME's population and of the
    longer-memory one."""
    fractions = []
    for name, leak in (("prime", prime), ("long_memory", long_memory)):
        changed, spikes = _check_count(f"{name}['changed']", leak["changed"]), leak["spikes"]
        fractions.append(changed / spikes if spikes else float(changed > 0))
    if fractions[1] > fractions[0]:
        return "a silent bug that grows with the neurons' memory"
    return "a silent bug, here no larger with the longer memory"
