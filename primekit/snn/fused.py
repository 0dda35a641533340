"""The LIF update over all T steps at once, as one fused kernel per direction (the time-folded training path).

:func:`primekit.snn.neurons.lif_step` advances a population one step; a feedforward network whose layer input
does not depend on its state can instead run a layer's whole current sequence ``[T, B, ...]`` through
:func:`lif_sequence`, which gives the same spikes and the same gradients (the reset is not detached, exactly
as :class:`primekit.snn.neurons._LIFStep`) from one pass over the neurons: each neuron's T steps run in
registers, in a Numba kernel parallel over neurons, instead of a dozen whole-tensor torch operations per
step forward and as many backward. Only the rectangle surrogate is fused (:func:`fusable`); other neurons
run step by step.

Forward, per neuron: ``u = r * v_prev * (1 - s_prev) + I``, ``v = LReLU(u)``, ``s = H(v - th)`` (strict), from
``v = s = 0``. Backward, in reverse time with ``c = r * dL/du`` of the next step carried along:
``g = c (1 - s) + (dL/ds - c v) * rect(v - th)`` and ``dL/du = g * LReLU'(u)``, ``dL/dI = dL/du``. Membranes and
currents are dimensionless (the threshold sets the scale).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

from primekit.snn.neurons import LIFParameters
from primekit.snn.surrogate import Rectangle

#: Numba comes with primekit's dependencies (tonic -> librosa -> numba; declared in pyproject). It is imported
#: on first use of a kernel, not with primekit (about 50 MB of memory); without it the network runs step by step.
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

_CHUNK = 4096  # neurons per parallel work item (contiguous, so each step's loads vectorise)


def _kernels():
    import numba

    njit, prange = numba.njit, numba.prange

    @njit(parallel=True, cache=True, nogil=True)
    def forward(current, spikes, saved_u, save, r, th, slope, linear):  # pragma: no cover - compiled
        steps, n = current.shape
        for chunk in prange((n + _CHUNK - 1) // _CHUNK):
            lo, hi = chunk * _CHUNK, min(n, (chunk + 1) * _CHUNK)
            reset_v = np.zeros(hi - lo, dtype=current.dtype)  # v * (1 - s) of the previous step
            for t in range(steps):
                for i in range(lo, hi):
                    u = r * reset_v[i - lo] + current[t, i]
                    v = u if (linear or u >= 0) else slope * u
                    if save:
                        saved_u[t, i] = u
                    if v > th:
                        spikes[t, i] = 1.0
                        reset_v[i - lo] = 0.0
                    else:
                        spikes[t, i] = 0.0
                        reset_v[i - lo] = v
        return spikes

    @njit(parallel=True, cache=True, nogil=True)
    def backward(grad_spikes, saved_u, grad_current, r, th, slope, linear, half_width, height):  # pragma: no cover
        steps, n = saved_u.shape
        for chunk in prange((n + _CHUNK - 1) // _CHUNK):
            lo, hi = chunk * _CHUNK, min(n, (chunk + 1) * _CHUNK)
            carry = np.zeros(hi - lo, dtype=saved_u.dtype)  # r * dL/du of the next step
            for t in range(steps - 1, -1, -1):
                for i in range(lo, hi):
                    u = saved_u[t, i]
                    positive = linear or u >= 0
                    v = u if positive else slope * u
                    c = carry[i - lo]
                    grad_s = grad_spikes[t, i] - c * v  # the next step's reset reads s through v_prev
                    g = 0.0 if v > th else c
                    if abs(v - th) < half_width:
                        g += grad_s * height
                    g = g if positive else slope * g
                    grad_current[t, i] = g
                    carry[i - lo] = r * g
        return grad_current

    @njit(parallel=True, cache=True, nogil=True)
    def pooled_forward(current, pooled, saved_u, save, r, th, slope, linear):  # pragma: no cover - compiled
        steps, planes, height, width = current.shape
        rows = height // 2
        for item in prange(planes * rows):  # one pair of input rows (one output row) of one plane
            p, row = item // rows, item % rows
            reset_v = np.zeros((2, width), dtype=current.dtype)  # v * (1 - s) of the previous step
            spikes = np.empty((2, width), dtype=current.dtype)
            for t in range(steps):
                for dy in range(2):
                    y = 2 * row + dy
                    for x in range(width):
                        u = r * reset_v[dy, x] + current[t, p, y, x]
                        v = u if (linear or u >= 0) else slope * u
                        fired = v > th
                        spikes[dy, x] = 1.0 if fired else 0.0
                        reset_v[dy, x] = 0.0 if fired else v
                        if save:
                            saved_u[t, p, y, x] = u
                for j in range(width // 2):  # the sum of four 0/1 spikes over 4: exactly avg_pool2d
                    x = 2 * j
                    pooled[t, p, row, j] = (spikes[0, x] + spikes[0, x + 1] + spikes[1, x] + spikes[1, x + 1]) / 4.0
        return pooled

    @njit(parallel=True, cache=True, nogil=True)
    def pooled_backward(grad_pooled, saved_u, grad_current, r, th, slope, linear, half_width,
                        height_sg):  # pragma: no cover - compiled
        steps, planes, height, width = saved_u.shape
        rows = height // 2
        for item in prange(planes * rows):
            p, row = item // rows, item % rows
            carry = np.zeros((2, width), dtype=saved_u.dtype)  # r * dL/du of the next step
            quarter = np.empty(width, dtype=saved_u.dtype)
            for t in range(steps - 1, -1, -1):
                for x in range(width):
                    quarter[x] = grad_pooled[t, p, row, x // 2] / 4.0
                for dy in range(2):
                    y = 2 * row + dy
                    for x in range(width):
                        u = saved_u[t, p, y, x]
                        positive = linear or u >= 0
                        v = u if positive else slope * u
                        c = carry[dy, x]
                        window = height_sg if abs(v - th) < half_width else 0.0
                        g = (0.0 if v > th else c) + (quarter[x] - c * v) * window
                        g = g if positive else slope * g
                        grad_current[t, p, y, x] = g
                        carry[dy, x] = r * g
        return grad_current

    @njit(parallel=True, cache=True, nogil=True)
    def pooled_step(current, v_prev, s_prev, rows, fresh, v, s, pooled, r, th, slope, linear):  # pragma: no cover
        batch, channels, height, width = current.shape
        # float32 scalars and a branch-free row loop, parallel over whole planes: the rows vectorise, and the
        # arithmetic is torch's (float32 throughout), not float64 rounded once
        r, th, slope = np.float32(r), np.float32(th), np.float32(slope)
        zero, one, quarter = np.float32(0.0), np.float32(1.0), np.float32(0.25)
        for item in prange(batch * channels):
            b, c = item // channels, item % channels
            old = rows[b]  # the sample's row in the previous state (samples may have left the batch)
            for y in range(height):
                for x in range(width):
                    u = current[b, c, y, x]
                    if not fresh:
                        u = r * v_prev[old, c, y, x] * (one - s_prev[old, c, y, x]) + u
                    vv = u if (linear or u >= zero) else slope * u
                    v[b, c, y, x] = vv
                    s[b, c, y, x] = one if vv > th else zero
            for row in range(height // 2):  # the sum of four 0/1 spikes over 4: exactly avg_pool2d
                y = 2 * row
                for j in range(width // 2):
                    x = 2 * j
                    pooled[b, c, row, j] = (s[b, c, y, x] + s[b, c, y, x + 1] + s[b, c, y + 1, x]
                                            + s[b, c, y + 1, x + 1]) * quarter
        return pooled

    @njit(parallel=True, cache=True, nogil=True)
    def plain_step(current, v_prev, s_prev, fresh, v, s, r, th, slope, linear):  # pragma: no cover - compiled
        n = current.shape[0]
        r, th, slope = np.float32(r), np.float32(th), np.float32(slope)  # float32 throughout, as torch
        zero, one = np.float32(0.0), np.float32(1.0)
        for chunk in prange((n + _CHUNK - 1) // _CHUNK):
            for i in range(chunk * _CHUNK, min(n, (chunk + 1) * _CHUNK)):
                u = current[i]
                if not fresh:
                    u = r * v_prev[i] * (one - s_prev[i]) + u
                vv = u if (linear or u >= zero) else slope * u
                v[i] = vv
                s[i] = one if vv > th else zero
        return s

    return forward, backward, pooled_forward, pooled_backward, pooled_step, plain_step


_COMPILED = None


def _compiled():
    global _COMPILED
    if _COMPILED is None:
        import numba

        numba.set_num_threads(max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))
        _COMPILED = _kernels()
    return _COMPILED


def fusable(params: LIFParameters, current: torch.Tensor | None = None) -> bool:
    """True when :func:`lif_sequence` can run ``params`` (rectangle surrogate, Numba present) on ``current``
    (float32 on the CPU)."""
    if not HAVE_NUMBA or not isinstance(params.surrogate, Rectangle):
        return False
    return current is None or (current.dtype == torch.float32 and current.device.type == "cpu")


def _scalars(params: LIFParameters) -> tuple[float, float, float, bool]:
    slope = params.leaky_relu_slope
    return params.retention, params.threshold, 0.0 if slope is None else slope, slope is None


class _LIFSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, current, params: LIFParameters):
        flat = current.detach().reshape(current.shape[0], -1).contiguous()
        spikes = torch.empty_like(flat)
        save = ctx.needs_input_grad[0]
        saved_u = torch.empty_like(flat) if save else torch.empty((1, 1))
        forward_kernel = _compiled()[0]
        forward_kernel(flat.numpy(), spikes.numpy(), saved_u.numpy(), save, *_scalars(params))
        ctx.params = params
        if save:
            ctx.save_for_backward(saved_u)
        return spikes.view(current.shape)

    @staticmethod
    def backward(ctx, grad_spikes):
        (saved_u,) = ctx.saved_tensors
        params = ctx.params
        grad = grad_spikes.reshape(saved_u.shape).contiguous()
        grad_current = torch.empty_like(saved_u)
        backward_kernel = _compiled()[1]
        backward_kernel(grad.numpy(), saved_u.numpy(), grad_current.numpy(), *_scalars(params),
                        params.surrogate.half_width, params.surrogate.height)
        return grad_current.view(grad_spikes.shape), None


def lif_sequence(current: torch.Tensor, params: LIFParameters) -> torch.Tensor:
    """Spikes ``[T, B, ...]`` of a LIF population (fresh state) driven by the currents ``current`` ``[T, B, ...]``.

    Equal to stepping :func:`primekit.snn.neurons.lif_step` over T, in value and gradient (float rounding
    aside); needs :func:`fusable` ``(params, current)``.
    """
    if not isinstance(current, torch.Tensor) or current.dim() < 2:
        raise ValueError("current must be a time-major tensor [T, B, ...]")
    if not fusable(params, current):
        raise ValueError(f"lif_sequence needs a Rectangle surrogate, float32 CPU currents and Numba; got "
                         f"surrogate={params.surrogate!r}, dtype={current.dtype}, device={current.device}")
    return _LIFSequence.apply(current, params)


class _LIFPoolSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, current, params: LIFParameters):
        steps, batch, channels, height, width = current.shape
        planes = current.detach().reshape(steps, batch * channels, height, width).contiguous()
        pooled = torch.empty((steps, batch * channels, height // 2, width // 2), dtype=current.dtype)
        save = ctx.needs_input_grad[0]
        saved_u = torch.empty_like(planes) if save else torch.empty((1, 1, 1, 1))
        _compiled()[2](planes.numpy(), pooled.numpy(), saved_u.numpy(), save, *_scalars(params))
        ctx.params, ctx.shape = params, current.shape
        if save:
            ctx.save_for_backward(saved_u)
        return pooled.view(steps, batch, channels, height // 2, width // 2)

    @staticmethod
    def backward(ctx, grad_pooled):
        (saved_u,) = ctx.saved_tensors
        params = ctx.params
        grad = grad_pooled.reshape(saved_u.shape[0], saved_u.shape[1], *grad_pooled.shape[3:]).contiguous()
        grad_current = torch.empty_like(saved_u)
        _compiled()[3](grad.numpy(), saved_u.numpy(), grad_current.numpy(), *_scalars(params),
                       params.surrogate.half_width, params.surrogate.height)
        return grad_current.view(ctx.shape), None


def lif_pool_sequence(current: torch.Tensor, params: LIFParameters) -> torch.Tensor:
    """``avg_pool2d(spikes, 2)`` of a LIF population driven by ``current`` ``[T, B, C, H, W]`` (H, W even):
    ``[T, B, C, H/2, W/2]`` pooled spikes (multiples of 1/4), the neuron and the pool in one kernel.

    Equal to :func:`lif_sequence` followed by ``F.avg_pool2d(., 2)`` per step, in value (exactly) and gradient
    (float rounding aside); the full-size spikes are never stored. Needs :func:`fusable` ``(params, current)``.
    """
    if not isinstance(current, torch.Tensor) or current.dim() != 5 or current.shape[3] % 2 or current.shape[4] % 2:
        raise ValueError(f"current must be [T, B, C, H, W] with even H and W; got "
                         f"{tuple(current.shape) if isinstance(current, torch.Tensor) else type(current).__name__}")
    if not fusable(params, current):
        raise ValueError(f"lif_pool_sequence needs a Rectangle surrogate, float32 CPU currents and Numba; got "
                         f"surrogate={params.surrogate!r}, dtype={current.dtype}, device={current.device}")
    return _LIFPoolSequence.apply(current, params)


def lif_pool_step(current: torch.Tensor, state, params: LIFParameters, rows: torch.Tensor | None = None):
    """One LIF step and the 2x2 average pool of its spikes in one pass, without gradients (inference).

    ``current`` ``[B, C, H, W]`` (H, W even); ``state`` a :class:`primekit.snn.neurons.LIFState` (or None: fresh)
    whose row ``rows[b]`` belongs to sample ``b`` (None: row ``b``), so samples that left the batch need no
    copy of the state. Returns ``(pooled [B, C, H/2, W/2], LIFState(v, s))``, equal to
    :func:`primekit.snn.neurons.lif_step` on the selected rows followed by ``avg_pool2d(s, 2)``.
    """
    from primekit.snn.neurons import LIFState

    if torch.is_grad_enabled() and current.requires_grad:
        raise ValueError("lif_pool_step has no backward: call it under torch.no_grad() (use lif_step to train)")
    if current.dim() != 4 or current.shape[2] % 2 or current.shape[3] % 2 or not fusable(params, current):
        raise ValueError(f"current must be float32 [B, C, H, W] on the CPU with even H and W and params fusable; "
                         f"got {tuple(current.shape)}, {current.dtype}, surrogate={params.surrogate!r}")
    batch = current.shape[0]
    rows = torch.arange(batch) if rows is None else rows
    if rows.shape != (batch,):
        raise ValueError(f"rows must hold one state row per sample, shape ({batch},); got {tuple(rows.shape)}")
    current = current.contiguous()
    fresh = state is None
    v_prev = current if fresh else state.v.contiguous()
    s_prev = current if fresh else state.s.contiguous()
    if not fresh and (v_prev.shape[1:] != current.shape[1:] or (batch and int(rows.max()) >= v_prev.shape[0])):
        raise ValueError(f"the state {tuple(v_prev.shape)} does not fit current {tuple(current.shape)} and rows")
    v, s = torch.empty_like(current), torch.empty_like(current)
    pooled = torch.empty((batch, current.shape[1], current.shape[2] // 2, current.shape[3] // 2))
    _compiled()[4](current.numpy(), v_prev.numpy(), s_prev.numpy(), rows.numpy(), fresh, v.numpy(), s.numpy(),
                   pooled.numpy(), *_scalars(params))
    return pooled, LIFState(v, s)


def lif_step_fused(current: torch.Tensor, state, params: LIFParameters):
    """One LIF step in one pass, without gradients (inference): ``(spikes, LIFState(v, s))``, equal to
    :func:`primekit.snn.neurons.lif_step` (``state`` None: fresh). Needs :func:`fusable` ``(params, current)``."""
    from primekit.snn.neurons import LIFState

    if torch.is_grad_enabled() and current.requires_grad:
        raise ValueError("lif_step_fused has no backward: call it under torch.no_grad() (use lif_step to train)")
    if not fusable(params, current):
        raise ValueError(f"lif_step_fused needs a Rectangle surrogate, float32 CPU currents and Numba; got "
                         f"surrogate={params.surrogate!r}, dtype={current.dtype}, device={current.device}")
    current = current.contiguous()
    fresh = state is None
    if not fresh and state.v.shape != current.shape:
        raise ValueError(f"current has shape {tuple(current.shape)} but the state has {tuple(state.v.shape)}")
    v_prev = current if fresh else state.v.contiguous()
    s_prev = current if fresh else state.s.contiguous()
    v, s = torch.empty_like(current), torch.empty_like(current)
    _compiled()[5](current.view(-1).numpy(), v_prev.view(-1).numpy(), s_prev.view(-1).numpy(), fresh,
                   v.view(-1).numpy(), s.view(-1).numpy(), *_scalars(params))
    return s, LIFState(v, s)
