"""The one loop over time: run(), state reset, batch independence, samples leaving a batch mid-run."""

from __future__ import annotations

from typing import NamedTuple

import pytest
import torch

import primekit
from primekit import (
    LIF,
    PRIME_LIF,
    IntegratorState,
    LIFState,
    RunResult,
    StepModule,
    integrator_step,
    lif_step,
    run,
    select_samples,
)
from primekit.snn.timeloop import map_state


def _inputs(seed, *shape, scale=0.4):
    return scale * torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


class LifThenIntegrator(StepModule):
    """A two-stage toy model with a nested state (dict holding two NamedTuples) and a weight."""

    def __init__(self, features: int):
        super().__init__()
        self.weight = torch.linspace(-1.0, 1.5, features)

    def init_state(self, batch_size):
        return {"hidden": None, "out": None}

    def step(self, x_t, state):
        spikes, hidden = lif_step(x_t, state["hidden"], PRIME_LIF)
        out, integ = integrator_step(spikes * self.weight, state["out"], 0.1)
        return out, {"hidden": hidden, "out": integ}


class Accumulator(StepModule):
    """Running sum with an explicit zero state (shaped by init_state, not on first use)."""

    def __init__(self, features: int):
        super().__init__()
        self.features = features

    def init_state(self, batch_size):
        return torch.zeros(batch_size, self.features)

    def step(self, x_t, state):
        state = state + x_t
        return state, state


def _has_mixed_spikes(spikes):
    rate = spikes.mean().item()
    return 0.05 < rate < 0.95


def test_run_equals_hand_loop_over_lif_step():
    x = _inputs(0, 12, 5, 7)
    result = run(LIF(PRIME_LIF), x)
    assert isinstance(result, RunResult)
    state, outs = None, []
    for t in range(x.shape[0]):
        s, state = lif_step(x[t], state, PRIME_LIF)
        outs.append(s)
    assert _has_mixed_spikes(result.outputs)
    assert torch.equal(result.outputs, torch.stack(outs))
    assert torch.equal(result.final_state.v, state.v)
    assert torch.equal(result.final_state.s, state.s)
    assert result.states is None


def test_module_run_and_forward_are_run_and_step():
    x = _inputs(1, 6, 3, 4)
    model = LIF(PRIME_LIF)
    assert torch.equal(model.run(x).outputs, run(model, x).outputs)
    out_f, state_f = model(x[0], None)
    out_s, state_s = model.step(x[0], None)
    assert torch.equal(out_f, out_s) and torch.equal(state_f.v, state_s.v)


@pytest.mark.parametrize("make", [lambda: LIF(PRIME_LIF), lambda: LIF(PRIME_LIF, shape=(4,)),
                                  lambda: Accumulator(4), lambda: LifThenIntegrator(4)],
                         ids=["lif", "lif-shaped", "accumulator", "nested"])
def test_run_resets_state_between_calls(make):
    x1 = _inputs(2, 8, 3, 4, scale=1.0)  # strong input: a leaked state would show
    x2 = _inputs(3, 8, 3, 4)
    model = make()
    first = run(model, x1).outputs
    after = run(model, x2).outputs
    fresh = run(make(), x2).outputs
    again = run(model, x2).outputs
    assert torch.equal(after, fresh)
    assert torch.equal(again, fresh)
    assert not torch.equal(first, after)  # the two inputs do give different outputs


def test_batch_samples_are_independent():
    x = _inputs(4, 10, 6, 5)
    for model in (LIF(PRIME_LIF), LifThenIntegrator(5)):
        full = run(model, x).outputs
        for i in range(x.shape[1]):
            alone = run(model, x[:, i : i + 1]).outputs
            assert torch.equal(full[:, i : i + 1], alone)


def _leaves(state):
    """The tensors of a nested state, in order."""
    found = []
    map_state(lambda tensor: found.append(tensor) or tensor, state)
    return found


def _continue(model, state, x_rest):
    outs = []
    for x_t in x_rest:
        out, state = model.step(x_t, state)
        outs.append(out)
    return torch.stack(outs), state


@pytest.mark.parametrize("make", [lambda: LIF(PRIME_LIF), lambda: LIF(PRIME_LIF, shape=(5,)),
                                  lambda: LifThenIntegrator(5)], ids=["lif", "lif-shaped", "nested"])
@pytest.mark.parametrize(
    "index",
    [
        torch.tensor([True, False, True, True, False, False]),
        torch.tensor([4, 0, 2]),  # reordered on purpose
        torch.tensor([5]),
    ],
    ids=["mask", "indices", "single"],
)
def test_select_samples_mid_run_matches_full_run(make, index):
    x = _inputs(5, 10, 6, 5)
    model = make()
    full = run(model, x)
    assert _has_mixed_spikes(run(LIF(PRIME_LIF), x).outputs)
    k = 4
    state = model.init_state(x.shape[1])
    _, state = _continue(model, state, x[:k])
    kept_state = select_samples(state, index)
    rest, final = _continue(model, kept_state, x[k:, index])
    assert torch.equal(rest, full.outputs[k:, index])
    kept_final, full_final = _leaves(final), _leaves(select_samples(full.final_state, index))
    assert len(kept_final) == len(full_final) > 0
    for a, b in zip(kept_final, full_final):
        assert torch.equal(a, b)


def test_select_samples_keeps_the_right_rows():
    state = LIFState(
        v=torch.arange(4.0)[:, None] * torch.ones(4, 2),
        s=torch.tensor([[1.0, 0], [0, 1], [1, 1], [0, 0]]),
    )
    picked = select_samples(state, torch.tensor([3, 1]))
    assert isinstance(picked, LIFState)
    assert picked.v.tolist() == [[3.0, 3.0], [1.0, 1.0]]
    assert picked.s.tolist() == [[0.0, 0.0], [0.0, 1.0]]
    masked = select_samples(state, torch.tensor([False, True, True, False]))
    assert masked.v[:, 0].tolist() == [1.0, 2.0]
    assert select_samples(None, torch.tensor([0])) is None


def test_keep_states_returns_every_state():
    x = _inputs(6, 7, 3, 2)
    model = LIF(PRIME_LIF)
    result = run(model, x, keep_states=True)
    assert len(result.states) == x.shape[0]
    assert torch.equal(result.states[-1].v, result.final_state.v)
    assert torch.equal(result.states[-1].s, result.final_state.s)
    state = None
    for t in range(x.shape[0]):
        _, state = lif_step(x[t], state, PRIME_LIF)
        assert torch.equal(result.states[t].v, state.v)
        assert torch.equal(result.states[t].s, result.outputs[t])
    without = run(model, x)
    assert torch.equal(without.outputs, result.outputs)


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.zeros(5), r"x must be time-major \[T, B, \.\.\.\].*shape \(5,\)"),
        (torch.tensor(1.0), r"x must be time-major.*shape \(\)"),
        (torch.zeros(3, 2, dtype=torch.int64), r"x must be a floating-point tensor, got dtype torch\.int64"),
        (torch.zeros(3, 2, dtype=torch.bool), r"x must be a floating-point tensor, got dtype torch\.bool"),
        ([[0.1, 0.2]], r"x must be a torch\.Tensor.*got list"),
        (torch.zeros(0, 2), r"x needs T >= 1 and B >= 1, got shape \(0, 2\)"),
        (torch.zeros(3, 0, 4), r"x needs T >= 1 and B >= 1, got shape \(3, 0, 4\)"),
    ],
    ids=["1d", "0d", "int64", "bool", "list", "T0", "B0"],
)
def test_run_rejects_bad_input(x, match):
    with pytest.raises(ValueError, match=match):
        run(LIF(PRIME_LIF), x)


class Pair(NamedTuple):
    a: torch.Tensor
    b: LIFState


def test_map_state_keeps_structure_and_types():
    state = {
        "lif": LIFState(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 1.0])),
        "nested": Pair(torch.tensor([3.0]), LIFState(torch.tensor([4.0]), torch.tensor([5.0]))),
        "list": [torch.tensor([6.0]), None],
        "tuple": (torch.tensor([7.0]),),
        "integ": IntegratorState(torch.tensor([8.0])),
    }
    doubled = map_state(lambda t: 2 * t, state)
    assert set(doubled) == set(state)
    assert type(doubled["lif"]) is LIFState
    assert type(doubled["nested"]) is Pair and type(doubled["nested"].b) is LIFState
    assert type(doubled["list"]) is list and doubled["list"][1] is None
    assert type(doubled["tuple"]) is tuple
    assert type(doubled["integ"]) is IntegratorState
    assert doubled["lif"].v.tolist() == [2.0, 4.0] and doubled["lif"].s.tolist() == [0.0, 2.0]
    assert doubled["nested"].a.item() == 6.0 and doubled["nested"].b.s.item() == 10.0
    assert doubled["list"][0].item() == 12.0 and doubled["tuple"][0].item() == 14.0
    assert doubled["integ"].v.item() == 16.0
    assert map_state(lambda t: t, None) is None


def test_map_state_rejects_unknown_leaves():
    with pytest.raises(TypeError, match="state holds a str"):
        map_state(lambda t: t, {"v": "not a tensor"})


def test_stack_states_gives_time_major_traces_equal_to_each_step():
    lif = primekit.LIF(primekit.PRIME_LIF)
    x = torch.linspace(0.0, 0.4, 12).reshape(4, 3)
    result = lif.run(x, keep_states=True)
    stacked = primekit.stack_states(result.states)
    assert isinstance(stacked, primekit.LIFState)
    for t, state in enumerate(result.states):
        assert torch.equal(stacked.v[t], state.v) and torch.equal(stacked.s[t], state.s)
    assert torch.equal(stacked.s, result.outputs)


def test_stack_states_rejects_an_empty_list():
    with pytest.raises(ValueError, match="states is empty"):
        primekit.stack_states([])
