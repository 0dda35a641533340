"""Surrogate spike functions: exact step forward, known derivative backward."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from primekit import PRIME_LIF, FastSigmoid, LIFParameters, Rectangle, lif_step
from primekit.snn.surrogate import heaviside

SURROGATES = [Rectangle(), Rectangle(0.1), Rectangle(2.0), FastSigmoid(), FastSigmoid(1.0)]


def _grad(surrogate, x, upstream=None):
    x = x.clone().requires_grad_(True)
    y = surrogate(x)
    y.backward(torch.ones_like(x) if upstream is None else upstream)
    return y.detach(), x.grad


@pytest.mark.parametrize("surrogate", SURROGATES, ids=repr)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_forward_is_strict_heaviside(surrogate, dtype):
    tiny = torch.finfo(dtype).tiny
    x = torch.tensor([-1.0, -tiny, -0.0, 0.0, tiny, 1e-7, 3.0], dtype=dtype)
    y, _ = _grad(surrogate, x)
    assert y.dtype == dtype
    assert y.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert torch.equal(y, heaviside(x))


@pytest.mark.parametrize("a", [0.1, 0.5, 2.0])
def test_rectangle_backward_is_the_box(a):
    x = torch.linspace(-3 * a, 3 * a, 601, dtype=torch.float64)
    x = x[(x.abs() - a).abs() > 1e-9]  # the window edges are a convention, not a value to test
    _, grad = _grad(Rectangle(a), x)
    inside = x.abs() < a
    assert inside.any() and (~inside).any()
    # 1 / (2a): 5 for a = 0.1, 1 for a = 0.5, 0.25 for a = 2
    assert torch.allclose(grad[inside], torch.full_like(grad[inside], 1 / (2 * a)), rtol=1e-15, atol=0)
    assert torch.count_nonzero(grad[~inside]) == 0
    assert Rectangle(a).height == pytest.approx(1 / (2 * a), rel=1e-15)


def test_rectangle_default_height_is_one():
    _, grad = _grad(Rectangle(), torch.tensor([-0.49, 0.0, 0.49, 0.51, -0.51]))
    assert grad.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("a", [0.1, 0.5, 2.0])
def test_rectangle_backward_equals_autograd_of_clamped_ramp(a):
    # H is approximated in the backward pass by the ramp clamp((x + a) / (2a), 0, 1).
    x = torch.linspace(-3 * a, 3 * a, 997, dtype=torch.float64)
    x = x[(x.abs() - a).abs() > 1e-6]
    _, grad = _grad(Rectangle(a), x)
    ramp_x = x.clone().requires_grad_(True)
    torch.clamp((ramp_x + a) / (2 * a), 0.0, 1.0).sum().backward()
    assert_close(grad, ramp_x.grad, rtol=1e-12, atol=0)


@pytest.mark.parametrize("a", [0.1, 0.5, 2.0])
def test_rectangle_surrogate_integrates_to_the_unit_jump(a):
    # The area under dH/dx must be the jump of H, 1 (trapezoid rule, error about one grid cell).
    x = torch.linspace(-2 * a, 2 * a, 40001, dtype=torch.float64)
    area = torch.trapezoid(Rectangle(a).grad(x), x).item()
    assert area == pytest.approx(1.0, abs=2 * (x[1] - x[0]).item() / (2 * a))


@pytest.mark.parametrize("k", [1.0, 10.0, 25.0])
def test_fast_sigmoid_backward_equals_autograd_of_softsign(k):
    # d/dx [x / (1 + k|x|)] = 1 / (1 + k|x|)^2
    x = torch.linspace(-2.0, 2.0, 801, dtype=torch.float64)
    _, grad = _grad(FastSigmoid(k), x)
    soft_x = x.clone().requires_grad_(True)
    (soft_x / (1 + k * soft_x.abs())).sum().backward()
    assert_close(grad, soft_x.grad, rtol=1e-12, atol=1e-15)


def test_fast_sigmoid_hand_values():
    # k = 10: x = 0 -> 1 ; x = 0.1 -> 1 / (1 + 1)^2 = 0.25 ; x = -0.3 -> 1 / 16 = 0.0625
    _, grad = _grad(FastSigmoid(10.0), torch.tensor([0.0, 0.1, -0.3], dtype=torch.float64))
    expected = torch.tensor([1.0, 0.25, 0.0625], dtype=torch.float64)
    assert_close(grad, expected, rtol=1e-14, atol=0)


def _closed_form_derivative(surrogate, x):
    """dH/dx written out: the box of height 1 / (2a) on |x| < a, or 1 / (1 + k|x|)^2."""
    if isinstance(surrogate, Rectangle):
        a = surrogate.half_width
        return torch.where(x.abs() < a, 1 / (2 * a), 0.0).to(x.dtype)
    return 1 / (1 + surrogate.slope * x.abs()) ** 2


@pytest.mark.parametrize("surrogate", SURROGATES, ids=repr)
def test_backward_scales_upstream_gradient(surrogate):
    """The chain rule against the written-out derivative (no grid point lies on a box edge +-0.1, +-0.5, +-2)."""
    x = torch.linspace(-1.0, 1.0, 51, dtype=torch.float64)
    upstream = torch.randn(51, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    _, grad = _grad(surrogate, x, upstream)
    assert_close(grad, upstream * _closed_form_derivative(surrogate, x), rtol=1e-14, atol=0)


def test_gradient_through_one_lif_step_by_hand():
    # PRIME neuron, one step from rest: v = LReLU(I), s = H(v - 0.2), rectangle a = 0.5 (height 1).
    #   I =  0.3: v =  0.3,  x =  0.1  inside  -> ds/dI = 1 * 1          = 1
    #   I = -0.1: v = -0.01, x = -0.21 inside  -> ds/dI = 1 * 0.1 (LReLU) = 0.1
    #   I =  0.9: v =  0.9,  x =  0.7  outside -> 0
    #   I = -5.0: v = -0.5,  x = -0.7  outside -> 0
    current = torch.tensor([0.3, -0.1, 0.9, -5.0], dtype=torch.float64, requires_grad=True)
    s, _ = lif_step(current, None, PRIME_LIF)
    s.sum().backward()
    assert s.tolist() == [1.0, 0.0, 1.0, 0.0]
    expected = torch.tensor([1.0, 0.1, 0.0, 0.0], dtype=torch.float64)
    assert_close(current.grad, expected, rtol=1e-14, atol=0)


def test_gradient_through_one_lif_step_fast_sigmoid():
    # FastSigmoid k = 10: I = 0.3 -> x = 0.1 -> 1/(1+1)^2 = 0.25 ;
    # I = -0.1 -> v = -0.01, x = -0.21 -> 0.1 / (1 + 2.1)^2 = 0.1 / 9.61
    params = LIFParameters(surrogate=FastSigmoid(10.0))
    current = torch.tensor([0.3, -0.1], dtype=torch.float64, requires_grad=True)
    s, _ = lif_step(current, None, params)
    s.sum().backward()
    expected = torch.tensor([0.25, 0.1 / 9.61], dtype=torch.float64)
    assert_close(current.grad, expected, rtol=1e-12, atol=0)


def test_gradient_through_two_lif_steps_by_hand():
    # Two steps, no spike at t=1, rectangle a = 0.5, r = 0.2:
    #   v1 = I1 = 0.1, s1 = H(-0.1) = 0 (inside the window: ds1/dv1 = 1)
    #   v2 = 0.2 * v1 * (1 - s1) + I2 = 0.02 + 0.05 = 0.07, s2 = H(-0.13) = 0 (ds2/dv2 = 1)
    #   ds2/dI1 = ds2/dv2 * (0.2 * (1 - s1) * dv1/dI1 - 0.2 * v1 * ds1/dI1) = 0.2 - 0.02 = 0.18
    #   ds2/dI2 = 1
    # (the equation has no stop-gradient on the reset factor, so the reset path contributes -0.02).
    i1 = torch.tensor([0.1], dtype=torch.float64, requires_grad=True)
    i2 = torch.tensor([0.05], dtype=torch.float64, requires_grad=True)
    _, state = lif_step(i1, None, PRIME_LIF)
    s2, _ = lif_step(i2, state, PRIME_LIF)
    s2.sum().backward()
    assert i1.grad.item() == pytest.approx(0.18, abs=1e-14)
    assert i2.grad.item() == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Rectangle(0.0), r"half_width=0\.0"),
        (lambda: Rectangle(-1.0), r"half_width=-1\.0"),
        (lambda: Rectangle(float("nan")), r"half_width=nan"),
        (lambda: FastSigmoid(0.0), r"slope=0\.0"),
        (lambda: FastSigmoid(-2), r"slope=-2"),
    ],
)
def test_bad_surrogate_parameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
