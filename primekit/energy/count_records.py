"""Operation counts as recorded by :mod:`primekit.energy.counts`: per step and sample, and as tables.

:class:`OperationCounts` holds a full-T run's counts ``[T, N, layers, kinds]``; :class:`CountTable` a table
``[layers, kinds]`` (e.g. the mean per image up to the exits). :data:`KINDS` names the kinds counted (their
meaning is tabulated in :mod:`primekit.energy.counts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

KINDS = ("dense_macs", "synaptic_ops", "spike_ops", "graded_ops", "kept_pulses", "pruned_pulses",
         "row_activations", "crossbar_reads", "conversions", "conversions_nonempty", "partial_sum_adds",
         "neuron_updates", "integrator_updates", "pool_outputs", "pool_adds", "weight_reads", "state_accesses",
         "bias_adds", "norm_ops")


@dataclass(frozen=True)
class CountTable:
    """Counts by layer and kind, ``values[layer, kind]`` (e.g. the mean per image up to the exits)."""

    values: np.ndarray
    layers: tuple[str, ...]
    kinds: tuple[str, ...] = KINDS

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.shape != (len(self.layers), len(self.kinds)):
            raise ValueError(f"values has shape {values.shape}, expected "
                             f"({len(self.layers)} layers, {len(self.kinds)} kinds)")
        if values.size and (not np.all(np.isfinite(values)) or values.min() < 0):
            raise ValueError(f"values must be finite counts >= 0; got a minimum of {values.min()} and "
                             f"{int((~np.isfinite(values)).sum())} non-finite value(s)")

    def __getitem__(self, key) -> float:
        """``table[kind]`` (summed over layers) or ``table[layer, kind]``."""
        if isinstance(key, tuple):
            layer, kind = key
            return float(self.values[self._layer(layer), self._kind(kind)])
        return float(self.values[:, self._kind(key)].sum())

    def _kind(self, kind: str) -> int:
        if kind not in self.kinds:
            raise ValueError(f"kind={kind!r} is not one of {self.kinds}")
        return self.kinds.index(kind)

    def _layer(self, layer: str) -> int:
        if layer not in self.layers:
            raise ValueError(f"layer={layer!r} is not one of {self.layers}")
        return self.layers.index(layer)

    def scaled(self, factor: float) -> "CountTable":
        return CountTable(self.values * factor, self.layers, self.kinds)

    def __add__(self, other: "CountTable") -> "CountTable":
        if other.layers != self.layers or other.kinds != self.kinds:
            raise ValueError("can only add count tables with the same layers and kinds")
        return CountTable(self.values + other.values, self.layers, self.kinds)


class OperationCounts(NamedTuple):
    """Per-step, per-sample counts of a full-T run.

    Attributes:
        counts: ``[T, N, layers, kinds]`` float64 (exact integers, except the pulse kinds, which are sums of
            input values).
        layers: layer names; ``kinds``: :data:`KINDS`.
    """

    counts: torch.Tensor
    layers: tuple[str, ...]
    kinds: tuple[str, ...] = KINDS

    def until_exit(self, exit_step: torch.Tensor | None = None) -> torch.Tensor:
        """Each sample's counts summed over steps 1..exit: ``[N, layers, kinds]`` (None: all T steps)."""
        steps, n = self.counts.shape[:2]
        if exit_step is None:
            return self.counts.sum(dim=0)
        exit_step = torch.as_tensor(exit_step)
        if exit_step.is_floating_point() and not bool((exit_step == exit_step.round()).all()):
            raise ValueError("exit_step holds fractional steps; exit steps are whole steps in [1, T]")
        exit_step = exit_step.long()
        if exit_step.shape != (n,) or (n and (exit_step.min() < 1 or exit_step.max() > steps)):
            raise ValueError(f"exit_step must be [N] = [{n}] steps in [1, {steps}]; got shape "
                             f"{tuple(exit_step.shape)}")
        cumulative = self.counts.cumsum(dim=0)
        return cumulative[exit_step - 1, torch.arange(n)]

    def per_image(self, exit_step: torch.Tensor | None = None) -> CountTable:
        """The mean counts per image up to each sample's exit (None: all T steps)."""
        return CountTable(self.until_exit(exit_step).mean(dim=0).numpy(), self.layers, self.kinds)

    def per_step(self) -> CountTable:
        """The mean counts of one step of one image (over all T steps and samples)."""
        return CountTable(self.counts.mean(dim=(0, 1)).numpy(), self.layers, self.kinds)
