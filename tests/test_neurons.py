"""LIF neurons: the recurrence against numbers computed by hand, and the closed-form firing rate.

The PRIME update (the authors' Classification code)::

    v[t] = LReLU( (1 - decay) * v[t-1] * (1 - s[t-1]) + I[t] ),   s[t] = H(v[t] - threshold)  (strict >)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import primekit
from primekit import (
    LIF,
    PRIME_LIF,
    VAE_LIF,
    IntegratorState,
    LIFParameters,
    LIFState,
    OutputIntegrator,
    integrator_step,
    lif_step,
)
from primekit.snn.neurons import constant_input_rate


def _run_steps(currents, params, dtype=torch.float64):
    """Feed a single neuron the scalar ``currents`` one step at a time; return lists of v and s."""
    state, vs, ss = None, [], []
    for current in currents:
        _, state = lif_step(torch.tensor([current], dtype=dtype), state, params)
        vs.append(state.v.item())
        ss.append(state.s.item())
    return vs, ss


# ---------------------------------------------------------------------------------------------------
# The recurrence, by hand
# ---------------------------------------------------------------------------------------------------

# PRIME hidden neuron: decay 0.8 (retention r = 0.2), threshold 0.2, LeakyReLU slope 0.1.
PRIME_CURRENTS = [0.15, 0.15, 0.3, -1.0, 0.5, 0.1, -0.05]
# t=1: v = 0.2*0*(1-0)      + 0.15 = 0.15                 0.15  <= 0.2 -> s = 0
# t=2: v = 0.2*0.15*(1-0)   + 0.15 = 0.03 + 0.15 = 0.18   0.18  <= 0.2 -> s = 0
# t=3: v = 0.2*0.18*(1-0)   + 0.3  = 0.036 + 0.3 = 0.336  0.336 >  0.2 -> s = 1
# t=4: v = 0.2*0.336*(1-1)  - 1.0  = -1.0 ; LReLU(-1.0) = 0.1 * -1.0 = -0.1 (reset, negative) -> s = 0
# t=5: v = 0.2*(-0.1)*(1-0) + 0.5  = -0.02 + 0.5 = 0.48   0.48  >  0.2 -> s = 1
# t=6: v = 0.2*0.48*(1-1)   + 0.1  = 0.1   (reset: 0.48 is discarded; without it v would be 0.196)
# t=7: v = 0.2*0.1*(1-0)    - 0.05 = 0.02 - 0.05 = -0.03 ; LReLU(-0.03) = -0.003             -> s = 0
PRIME_V = [0.15, 0.18, 0.336, -0.1, 0.48, 0.1, -0.003]
PRIME_S = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0]


def test_prime_lif_recurrence_matches_hand_computation_float64():
    params = LIFParameters(decay=0.8, threshold=0.2, leaky_relu_slope=0.1)
    vs, ss = _run_steps(PRIME_CURRENTS, params, torch.float64)
    assert vs == pytest.approx(PRIME_V, abs=1e-12)
    assert ss == PRIME_S


def test_prime_lif_recurrence_matches_hand_computation_float32():
    vs, ss = _run_steps(PRIME_CURRENTS, PRIME_LIF, torch.float32)
    assert vs == pytest.approx(PRIME_V, abs=1e-6)
    assert ss == PRIME_S


def test_lif_module_run_matches_hand_computation():
    # The same sequence through the module and run(), for a batch of two identical neurons.
    x = torch.tensor(PRIME_CURRENTS, dtype=torch.float64)[:, None, None].expand(-1, 2, 1)
    result = LIF(PRIME_LIF).run(x.contiguous(), keep_states=True)
    expected_s = torch.tensor(PRIME_S, dtype=torch.float64)[:, None, None].expand(-1, 2, 1)
    assert torch.equal(result.outputs, expected_s)
    v = primekit.stack_states(result.states).v[:, 0, 0]
    assert_close(v, torch.tensor(PRIME_V, dtype=torch.float64), atol=1e-12, rtol=0)


def test_prime_lif_defaults_are_the_papers():
    assert PRIME_LIF.decay == 0.8
    assert PRIME_LIF.retention == pytest.approx(0.2, abs=1e-15)
    assert PRIME_LIF.threshold == 0.2
    assert PRIME_LIF.leaky_relu_slope == 0.1
    assert isinstance(PRIME_LIF.surrogate, primekit.Rectangle)
    assert PRIME_LIF.surrogate.half_width == 0.5


def test_reset_discards_previous_membrane():
    # Three neurons enter the step with v = 0.3, 0.9, 0.1. The first two spiked (s = 1), the third did
    # not. With r = 0.2 and input 0.05:
    #   spiked:      v = 0.2 * v_prev * (1 - 1) + 0.05 = 0.05      (whatever v_prev was)
    #   not spiked:  v = 0.2 * 0.1    * (1 - 0) + 0.05 = 0.07
    state = LIFState(
        v=torch.tensor([0.3, 0.9, 0.1], dtype=torch.float64),
        s=torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64),
    )
    _, new = lif_step(torch.full((3,), 0.05, dtype=torch.float64), state, PRIME_LIF)
    assert_close(new.v, torch.tensor([0.05, 0.05, 0.07], dtype=torch.float64), atol=1e-15, rtol=0)
    assert new.v[0].item() == new.v[1].item()


def test_reset_is_driven_by_previous_spike_not_by_membrane():
    # A membrane above threshold whose stored spike is 0 is *not* reset: 0.2 * 0.9 + 0.05 = 0.23.
    state = LIFState(v=torch.tensor([0.9], dtype=torch.float64), s=torch.tensor([0.0], dtype=torch.float64))
    _, new = lif_step(torch.tensor([0.05], dtype=torch.float64), state, PRIME_LIF)
    assert new.v.item() == pytest.approx(0.23, abs=1e-15)


def test_neuron_fires_again_after_reset_with_strong_input():
    # Constant input 0.5 > threshold: v = 0.5 at every step (reset each time), spikes at every step.
    vs, ss = _run_steps([0.5] * 5, PRIME_LIF)
    assert vs == pytest.approx([0.5] * 5, abs=1e-15)
    assert ss == [1.0] * 5


def test_threshold_is_strict():
    # 0.25, 0.125, 0.1875 and 0.0625 are exact in float32, so v lands exactly on the threshold.
    params = LIFParameters(decay=0.5, threshold=0.25)
    on = torch.tensor([0.25], dtype=torch.float32)
    s, state = lif_step(on, None, params)
    assert state.v.item() == 0.25 and s.item() == 0.0
    above = torch.nextafter(on, torch.tensor([1.0]))
    s, _ = lif_step(above, None, params)
    assert s.item() == 1.0
    # Reached by integration: v1 = 0.125, v2 = 0.5 * 0.125 + 0.1875 = 0.0625 + 0.1875 = 0.25 -> no spike.
    vs, ss = _run_steps([0.125, 0.1875], params, torch.float32)
    assert vs == [0.125, 0.25]
    assert ss == [0.0, 0.0]


def test_threshold_zero_spikes_only_on_positive_membrane():
    params = LIFParameters(decay=0.8, threshold=0.0)
    s, _ = lif_step(torch.tensor([0.0, 1e-6, -1e-6]), None, params)
    assert s.tolist() == [0.0, 1.0, 0.0]


def test_without_leaky_relu_membrane_goes_negative():
    # r = 0.2, inputs -1.0, -0.5:
    #   no LReLU:  v1 = -1.0,             v2 = 0.2 * -1.0 - 0.5 = -0.7
    #   LReLU 0.1: v1 = 0.1 * -1.0 = -0.1, v2 = LReLU(0.2 * -0.1 - 0.5) = LReLU(-0.52) = -0.052
    free, _ = _run_steps([-1.0, -0.5], LIFParameters(decay=0.8, threshold=0.2, leaky_relu_slope=None))
    leaky, _ = _run_steps([-1.0, -0.5], LIFParameters(decay=0.8, threshold=0.2, leaky_relu_slope=0.1))
    assert free == pytest.approx([-1.0, -0.7], abs=1e-15)
    assert leaky == pytest.approx([-0.1, -0.052], abs=1e-15)


def test_leaky_relu_slope_zero_is_relu():
    vs, _ = _run_steps([-1.0, 0.1], LIFParameters(decay=0.8, threshold=0.2, leaky_relu_slope=0.0))
    # v1 = max(-1, 0) = 0; v2 = 0.2 * 0 + 0.1 = 0.1
    assert vs == pytest.approx([0.0, 0.1], abs=1e-15)


def test_vae_lif_recurrence_by_hand():
    # VAE neuron: u = 0.25 * u_prev * (1 - o_prev) + x, threshold 0.2, no LeakyReLU.
    assert VAE_LIF.retention == 0.25
    assert VAE_LIF.threshold == 0.2
    assert VAE_LIF.leaky_relu_slope is None
    # t=1: u = 0.1                                  -> o = 0
    # t=2: u = 0.25 * 0.1 + 0.2 = 0.025 + 0.2 = 0.225 -> o = 1
    # t=3: u = 0.25 * 0.225 * (1 - 1) - 0.4 = -0.4 (reset; stays negative: no LReLU) -> o = 0
    # t=4: u = 0.25 * -0.4 + 0.35 = -0.1 + 0.35 = 0.25 -> o = 1
    # t=5: u = 0.25 * 0.25 * (1 - 1) + 0.05 = 0.05    -> o = 0
    vs, ss = _run_steps([0.1, 0.2, -0.4, 0.35, 0.05], VAE_LIF)
    assert vs == pytest.approx([0.1, 0.225, -0.4, 0.25, 0.05], abs=1e-15)
    assert ss == [0.0, 1.0, 0.0, 1.0, 0.0]


def test_output_integrator_by_hand():
    # v = LReLU(v_prev + I), no leak, no reset. Inputs 0.5, -0.7, 0.3, 0.1:
    #   slope 0.1:  0.5 ; LReLU(0.5 - 0.7 = -0.2) = -0.02 ; -0.02 + 0.3 = 0.28 ; 0.28 + 0.1 = 0.38
    #   no LReLU:   0.5 ; -0.2 ; 0.1 ; 0.2
    x = torch.tensor([0.5, -0.7, 0.3, 0.1], dtype=torch.float64)[:, None, None]
    leaky = OutputIntegrator(leaky_relu_slope=0.1).run(x)
    free = OutputIntegrator(leaky_relu_slope=None).run(x)
    f64 = torch.float64
    assert_close(leaky.outputs.flatten(), torch.tensor([0.5, -0.02, 0.28, 0.38], dtype=f64), atol=1e-15, rtol=0)
    assert_close(free.outputs.flatten(), torch.tensor([0.5, -0.2, 0.1, 0.2], dtype=f64), atol=1e-15, rtol=0)
    assert isinstance(leaky.final_state, IntegratorState)
    assert leaky.final_state.v.item() == leaky.outputs[-1].item()


def test_integrator_step_matches_module_with_shape():
    x = torch.tensor([[0.5, -3.0], [-0.7, 1.0]], dtype=torch.float32)[:, :, None]  # [T=2, B=2, 1]
    module = OutputIntegrator(shape=(1,)).run(x).outputs
    state, outs = None, []
    for x_t in x:
        out, state = integrator_step(x_t, state, 0.1)
        outs.append(out)
    assert torch.equal(module, torch.stack(outs))
    # sample 2: LReLU(-3) = -0.3 ; -0.3 + 1.0 = 0.7
    assert_close(module[:, 1, 0], torch.tensor([-0.3, 0.7]), atol=1e-6, rtol=0)


# ---------------------------------------------------------------------------------------------------
# Time constant and the closed-form rate
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau_ms, dt_ms", [(20.0, 1.0), (5.0, 1.0), (10.0, 31.05), (1.0, 0.1)])
def test_from_time_constant_gives_exponential_retention(tau_ms, dt_ms):
    params = LIFParameters.from_time_constant(tau_ms, dt_ms, threshold=0.3)
    assert params.retention == pytest.approx(math.exp(-dt_ms / tau_ms), rel=1e-12, abs=1e-15)
    assert params.decay == pytest.approx(1.0 - math.exp(-dt_ms / tau_ms), rel=1e-12)
    assert params.threshold == 0.3


def test_from_time_constant_example_value():
    # tau = 20 ms, dt = 1 ms: retention = exp(-0.05) = 0.951229424500714
    retention = LIFParameters.from_time_constant(20.0, 1.0).retention
    assert retention == pytest.approx(0.951229424500714, abs=1e-14)


@pytest.mark.parametrize("tau_ms, dt_ms, match", [(0.0, 1.0, r"tau=0\.0"), (-5.0, 1.0, r"tau=-5\.0"),
                                                   (10.0, 0.0, r"dt=0\.0"), (10.0, -1.0, r"dt=-1\.0")])
def test_from_time_constant_rejects_bad_values(tau_ms, dt_ms, match):
    with pytest.raises(ValueError, match=match):
        LIFParameters.from_time_constant(tau_ms, dt_ms)


def test_constant_input_rate_hand_values():
    # r = 0.2, th = 0.2. I = 0.18: v1 = 0.18, v2 = 0.036 + 0.18 = 0.216 > 0.2 -> fires every 2 steps.
    assert constant_input_rate(0.18, PRIME_LIF) == 0.5
    # I = 0.3 > th: fires every step.
    assert constant_input_rate(0.3, PRIME_LIF) == 1.0
    # limit I / (1 - r) = 0.15 / 0.8 = 0.1875 < 0.2: never fires; I = 0 never fires.
    assert constant_input_rate(0.15, PRIME_LIF) == 0.0
    assert constant_input_rate(0.0, PRIME_LIF) == 0.0
    # perfect integrator (decay 0): n * 0.07 > 0.2 first at n = 3.
    assert constant_input_rate(0.07, LIFParameters(decay=0.0, threshold=0.2)) == pytest.approx(1 / 3)


def test_constant_input_rate_rejects_negative_current():
    with pytest.raises(ValueError, match=r"current=-0\.1"):
        constant_input_rate(-0.1, PRIME_LIF)


@pytest.mark.parametrize("decay", [0.8, 0.5, 0.2, 0.05, 0.0, 1.0])
def test_constant_input_rate_matches_simulation(decay):
    threshold, steps = 0.2, 600
    params = LIFParameters(decay=decay, threshold=threshold)
    r = params.retention
    grid = np.linspace(0.001, 1.2, 400)
    # Drop currents whose membrane comes within 1e-9 of the threshold at some step (edge cases where
    # float rounding, not the formula, would decide the spike).
    n = np.arange(1, steps + 1)
    kept = []
    for current in grid:
        membrane = n * current if r == 1 else current * (1 - r**n) / (1 - r)
        if np.min(np.abs(membrane - threshold)) > 1e-9:
            kept.append(float(current))
    assert len(kept) > 350
    currents = torch.tensor(kept, dtype=torch.float64)
    spikes = LIF(params).run(currents.expand(steps, -1).contiguous()).outputs.sum(0)
    expected = []
    for current in kept:
        rate = constant_input_rate(current, params)
        # From rest the neuron fires at n*, 2 n*, ... (period n* = 1 / rate): floor(steps / n*) spikes.
        expected.append(0 if rate == 0 else steps // round(1 / rate))
    assert spikes.tolist() == expected
    simulated_rate = spikes / steps
    closed = torch.tensor([constant_input_rate(c, params) for c in kept], dtype=torch.float64)
    assert torch.all((simulated_rate - closed).abs() <= 1 / steps + 1e-12)
    # The grid must exercise silent neurons and several distinct periods, or the test proves little.
    distinct = set(expected)
    if decay == 1.0:  # no memory: fires on every step iff I > th
        assert distinct == {0, steps}
    elif decay == 0.0:  # perfect integrator: every positive current fires eventually
        assert 0 not in distinct and len(distinct) >= 5
    else:
        assert 0 in distinct and len(distinct) >= 5


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"decay": -0.1}, r"decay=-0\.1"),
        ({"decay": 1.5}, r"decay=1\.5"),
        ({"decay": float("nan")}, r"decay=nan"),
        ({"decay": "0.8"}, r"decay='0\.8'"),
        ({"threshold": -1}, r"threshold=-1"),
        ({"threshold": -0.5}, r"threshold=-0\.5"),
        ({"leaky_relu_slope": -0.1}, r"leaky_relu_slope=-0\.1"),
        ({"surrogate": "rectangle"}, r"surrogate='rectangle'"),
    ],
)
def test_bad_lif_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LIFParameters(**kwargs)


def test_edge_parameters_are_allowed():
    for decay in (0.0, 1.0):
        assert LIFParameters(decay=decay).retention == 1.0 - decay
    assert LIFParameters(threshold=0).threshold == 0


def test_lif_with_shape_rejects_wrong_input_rank():
    model = LIF(PRIME_LIF, shape=(3,))
    with pytest.raises(ValueError, match=r"current must be shaped \[B, 3\].*got \(2, 3, 4\)"):
        model.step(torch.zeros(2, 3, 4), None)
    with pytest.raises(ValueError, match=r"current must be shaped \[B, 3\].*got \(3,\)"):
        model.step(torch.zeros(3), None)
    with pytest.raises(ValueError, match=r"current must be shaped \[B, 3\].*got \(2, 4\)"):
        model.step(torch.zeros(2, 4), None)


def test_lif_rejects_non_tensor_and_scalar_input():
    with pytest.raises(ValueError, match="current must be a tensor"):
        LIF().step([0.1, 0.2], None)
    with pytest.raises(ValueError, match="current must be a tensor"):
        LIF().step(torch.tensor(0.1), None)


def test_state_shape_mismatch_raises():
    state = LIFState(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"current has shape \(2, 3\) but the state has \(2, 4\)"):
        lif_step(torch.zeros(2, 3), state)
    with pytest.raises(ValueError, match=r"current has shape \(2, 3\) but the state has \(2, 4\)"):
        integrator_step(torch.zeros(2, 3), IntegratorState(torch.zeros(2, 4)))


def test_module_constructors_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"params=0\.8"):
        LIF(0.8)
    with pytest.raises(ValueError, match=r"leaky_relu_slope=-0\.1"):
        OutputIntegrator(leaky_relu_slope=-0.1)


def test_lif_with_shape_starts_from_zero_state():
    model = LIF(PRIME_LIF, shape=(2, 3))
    state = model.init_state(4)
    assert state.v.shape == (4, 2, 3) and state.s.shape == (4, 2, 3)
    assert torch.count_nonzero(state.v) == 0 and torch.count_nonzero(state.s) == 0
    assert state.v.data_ptr() != state.s.data_ptr()  # not aliased
    x = torch.rand(5, 4, 2, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.run(x).outputs, LIF(PRIME_LIF).run(x).outputs)


@pytest.mark.parametrize("field", ["decay", "threshold", "leaky_relu_slope"])
def test_bools_are_not_numbers(field):
    with pytest.raises(ValueError, match=rf"{field}=True"):
        LIFParameters(**{field: True})


@pytest.mark.parametrize("tau", [0.5, 1.0, 5.0, 40.0])
def test_time_constant_inverts_from_time_constant(tau):
    assert LIFParameters.from_time_constant(tau).time_constant == pytest.approx(tau, rel=1e-12)
    assert PRIME_LIF.time_constant == pytest.approx(-1.0 / math.log(0.2), rel=1e-12)


@pytest.mark.parametrize("params", [
    PRIME_LIF, VAE_LIF, LIFParameters(leaky_relu_slope=0.0), LIFParameters(surrogate=primekit.FastSigmoid(5.0)),
    LIFParameters(decay=0.3, threshold=0.05),
], ids=["prime", "vae", "relu", "fast-sigmoid", "slow"])
def test_fused_step_gradients_equal_the_op_by_op_update(params):
    """The fused autograd node gives the same values and gradients as the update written op by op."""
    generator = primekit.make_generator(0)
    currents = (0.6 * torch.randn(8, 3, 5, generator=generator)).requires_grad_(True)
    weights = torch.randn(8, 3, 5, generator=generator)

    def op_by_op(x):
        v = s = torch.zeros_like(x[0])
        outs = []
        for x_t in x:
            v = params.retention * v * (1.0 - s) + x_t
            v = torch.where(v >= 0, v, params.leaky_relu_slope * v) if params.leaky_relu_slope is not None else v
            s = params.surrogate(v - params.threshold)
            outs.append(s + 0.5 * v)  # both outputs reach the loss
        return torch.stack(outs)

    def fused(x):
        state, outs = None, []
        for x_t in x:
            s, state = lif_step(x_t, state, params)
            outs.append(s + 0.5 * state.v)
        return torch.stack(outs)

    expected = op_by_op(currents)
    (grad_expected,) = torch.autograd.grad((expected * weights).sum(), currents)
    got = fused(currents)
    (grad_got,) = torch.autograd.grad((got * weights).sum(), currents)
    assert torch.equal(got, expected)
    assert torch.allclose(grad_got, grad_expected, atol=1e-6)
