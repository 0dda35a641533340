"""The per-timestep model contract and the one loop over time.

Every primekit model (a neuron population, the N-MNIST network, the spiking VAE) is a
:class:`StepModule`:

- ``init_state(batch_size)`` returns a fresh state (tensors with the batch in dimension 0, nested in
  tuples / NamedTuples / dicts, or None for "zeros, shaped on first use");
- ``step(x_t, state) -> (out_t, state)`` advances one timestep;
- inputs are time-major, ``[T, B, ...]``.

:func:`run` is the only loop over time. It calls ``init_state`` itself, so state is reset on every
call and never leaks from one input to the next. Early stop, energy counting and per-read noise all
ride on ``step``; :func:`select_samples` lets finished samples leave a batch mid-run. Timesteps are
counted from 1 when reported (an exit at t = 1 means after the first frame).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import torch
from torch import nn


class StepModule(nn.Module):
    """Base class of models that advance one timestep at a time with explicit state."""

    def init_state(self, batch_size: int) -> Any:
        """A fresh state for ``batch_size`` samples."""
        raise NotImplementedError

    def step(self, x_t: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """One timestep: input ``[B, ...]`` and state -> output ``[B, ...]`` and new state."""
        raise NotImplementedError

    def select_state(self, state: Any, keep: torch.Tensor) -> Any:
        """The state of the samples ``keep`` (bool mask or indices along the batch); a model may override it
        to avoid copies (default: :func:`select_samples`)."""
        return select_samples(state, keep)

    def forward(self, x_t: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return self.step(x_t, state)

    @property
    def device(self) -> torch.device:
        """Where the model lives: see :func:`module_device`."""
        return module_device(self)

    def run(self, x: torch.Tensor, *, keep_states: bool = False) -> "RunResult":
        """Run over all timesteps of time-major ``x`` (``[T, B, ...]``) from a fresh state."""
        return run(self, x, keep_states=keep_states)


def module_device(module: nn.Module) -> torch.device:
    """The device of ``module``'s first parameter or buffer (the CPU for a module without any): where its inputs
    go (:func:`primekit.inference.evaluate.run_split` and training move every batch there)."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


class RunResult(NamedTuple):
    """What :func:`run` returns.

    Attributes:
        outputs: ``[T, B, ...]``, the output of every step.
        final_state: the state after the last step.
        states: the state after each step (a list of length T) if ``keep_states``, else None.
    """

    outputs: torch.Tensor
    final_state: Any
    states: list | None


def check_time_major(x: torch.Tensor, name: str = "x") -> None:
    """Raise ValueError unless ``x`` is a finite floating tensor shaped ``[T, B, ...]`` with T, B >= 1."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor shaped [T, B, ...], got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(
            f"{name} must be time-major [T, B, ...] (at least 2 dimensions), got shape {tuple(x.shape)}"
        )
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} needs T >= 1 and B >= 1, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.device.type != "meta" and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} holds {bad} NaN or infinite value(s); every entry must be finite")


def run(model: StepModule, x: torch.Tensor, *, keep_states: bool = False) -> RunResult:
    """Run ``model`` over time-major ``x`` (``[T, B, ...]``), starting from ``model.init_state(B)``."""
    check_time_major(x)
    state = model.init_state(x.shape[1])
    outputs, states = [], [] if keep_states else None
    for x_t in x:
        out_t, state = model.step(x_t, state)
        outputs.append(out_t)
        if keep_states:
            states.append(state)
    return RunResult(torch.stack(outputs), state, states)


def map_state(fn: Callable[[torch.Tensor], torch.Tensor], state: Any) -> Any:
    """Apply ``fn`` to every tensor in a nested state, keeping its structure."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # NamedTuple
        return type(state)(*(map_state(fn, s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(map_state(fn, s) for s in state)
    if isinstance(state, dict):
        return {k: map_state(fn, v) for k, v in state.items()}
    raise TypeError(f"state holds a {type(state).__name__}; use tensors, tuples, lists, dicts or None")


def stack_states(states: list) -> Any:
    """Stack a list of per-step states (``RunResult.states``) into one state of ``[T, B, ...]`` tensors.

    e.g. ``stack_states(run(lif, x, keep_states=True).states).v`` is the membrane trace.
    """
    if not states:
        raise ValueError("states is empty: run with keep_states=True over at least one step")
    first = states[0]
    if first is None and all(s is None for s in states):  # an optional field left empty (e.g. PRIMEState.rows)
        return None
    if isinstance(first, torch.Tensor):
        return torch.stack(states)
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(stack_states([s[i] for s in states]) for i in range(len(first))))
    if isinstance(first, (tuple, list)):
        return type(first)(stack_states([s[i] for s in states]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: stack_states([s[k] for s in states]) for k in first}
    raise TypeError(f"cannot stack states holding a {type(first).__name__}")


def select_samples(state: Any, index: torch.Tensor) -> Any:
    """Keep only some samples of a state: ``index`` is a bool mask or integer indices along the batch."""
    return map_state(lambda tensor: tensor[index], state)
