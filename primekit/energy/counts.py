"""Operation counts of a running spiking network, per layer, timestep and sample (forward hooks).

An energy estimate is a sum of *counts* times *prices*. This module measures the counts on the network as
it runs; :mod:`primekit.energy.prices` holds the prices. Every subnet layer (:class:`~primekit.snn.subnet.
SubnetConv2d`, :class:`~primekit.snn.subnet.SubnetLinear`) of a model gets a forward hook, which reads the
layer's input ``x`` and the layer's keep mask and records, for every sample of the batch:

=========================  ===================================================================================
kind                       what is counted (per layer, step and sample)
=========================  ===================================================================================
``dense_macs``             multiply-accumulates of a dense layer: output elements x fan-in (pruned weights
                           and zero padding included; what a dense accelerator executes)
``synaptic_ops``           synaptic operations actually triggered: non-zero inputs x their *kept* fan-out
``spike_ops``              the part of ``synaptic_ops`` whose input is exactly 1 (an accumulate suffices)
``graded_ops``             the rest: inputs of another value (event counts, pooled spikes; a multiply-accumulate)
``kept_pulses``            sum over triggered synaptic ops of ``|input|``: the read pulses seen by kept pairs,
                           in units of one base pulse (an input ``v`` is applied as a pulse ``v`` times as long)
``pruned_pulses``          the same for pruned (RESET) pairs: they sit on the active rows and conduct too
``row_activations``        crossbar rows driven: (array read, row with a non-zero input) pairs
``crossbar_reads``         array reads: output positions x row tiles x column tiles
``conversions``            column outputs converted, all reads: output positions x out channels x row tiles
``conversions_nonempty``   the same, only for reads with at least one driven row
``partial_sum_adds``       digital additions joining the row tiles of a fan-in above ``rows_per_array``
``neuron_updates``         LIF membrane updates (the layer's output elements, if a LIF layer follows it)
``integrator_updates``     output-integrator updates (the layer's output elements, for the readout layer)
``pool_outputs``           pooled values produced after the layer's neurons (one scaling each)
``pool_adds``              additions of the pooling: ``pool^2 - 1`` per pooled value
``weight_reads``           weights fetched from memory by an event-driven digital system: one per synaptic op
``state_accesses``         membrane reads and writes: 2 per neuron or integrator update
=========================  ===================================================================================

The LIF neurons and the pooling of :class:`~primekit.snn.models.PRIMENet` are functional calls inside
``PRIMENet.features`` (not modules), so they cannot be hooked. Their counts are derived from the hooked
layer's *output shape* and a :class:`LayerRole` saying what follows the layer (a LIF population, the output
integrator, a pooling window); :data:`PRIME_ROLES` describes PRIMENet. This is exact for PRIMENet, whose
neurons update every element at every step.

The crossbar counts assume the usual mapping of a layer onto arrays (:class:`CrossbarMapping`): a layer's
weights unrolled into a matrix of ``fan_in`` rows by ``out_channels`` differential pairs (G+ and G- in two
columns); a convolution performs one array read per output position (its receptive field on the rows, as
``im2col``); a fan-in above ``rows_per_array`` is split into row tiles whose partial sums are converted
separately and added digitally.

Counts are recorded per step in one full-T pass (:func:`count_operations`, :func:`record_counts`); the counts
up to each sample's exit step are then a sum over steps 1..exit (:meth:`OperationCounts.until_exit`), for any
early-stop threshold, just as :func:`primekit.inference.early_stop.replay` gives the exits. Counting with the hooks
during a streaming :func:`primekit.inference.early_stop.run_early_stop` gives the same totals (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from primekit.checks import is_count
from primekit.energy.count_records import KINDS, OperationCounts
from primekit.inference import evaluate as inference
from primekit.snn.subnet import SubnetLayer
from primekit.snn.timeloop import StepModule, check_time_major

#: Cells per weight: a differential pair, G+ and G- (PRIME stores every weight this way).
CELLS_PER_WEIGHT = 2
NEURON_KINDS = ("lif", "integrator", "none")


@dataclass(frozen=True)
class CrossbarMapping:
    """How layers are laid out on memristor arrays.

    Attributes:
        rows_per_array: rows of one array (PRIME's macro: 512 x 512 cells); a larger fan-in is split into
            row tiles, each converted separately.
        columns_per_array: columns of one array; every output uses two (a differential pair).
    """

    rows_per_array: int = 512
    columns_per_array: int = 512

    def __post_init__(self) -> None:
        for name in ("rows_per_array", "columns_per_array"):
            value = getattr(self, name)
            if not (is_count(value) and value >= 1):
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.columns_per_array < CELLS_PER_WEIGHT:
            raise ValueError(f"columns_per_array={self.columns_per_array!r} must be >= {CELLS_PER_WEIGHT} "
                             "(one differential pair)")

    def row_tiles(self, fan_in: int) -> int:
        """Arrays stacked to hold ``fan_in`` rows."""
        return math.ceil(fan_in / self.rows_per_array)

    def column_tiles(self, out_channels: int) -> int:
        """Arrays side by side to hold ``out_channels`` pairs (two columns each)."""
        return math.ceil(CELLS_PER_WEIGHT * out_channels / self.columns_per_array)


@dataclass(frozen=True)
class LayerRole:
    """What follows a hooked layer inside the model (its neurons and pooling are not modules).

    Attributes:
        neuron: ``"lif"`` (a LIF population updates every output element each step), ``"integrator"``
            (the non-spiking output integrator) or ``"none"``.
        pool: side of the average-pooling window after the neurons (1: no pooling).
    """

    neuron: str = "lif"
    pool: int = 1

    def __post_init__(self) -> None:
        if self.neuron not in NEURON_KINDS:
            raise ValueError(f"neuron={self.neuron!r} must be one of {NEURON_KINDS}")
        if not (is_count(self.pool) and self.pool >= 1):
            raise ValueError(f"pool={self.pool!r} must be a positive integer")


#: PRIMENet: conv0 -> LIF -> avg-pool 2; conv1 -> LIF -> avg-pool 2; linear -> output integrator.
PRIME_ROLES = {"conv0": LayerRole("lif", 2), "conv1": LayerRole("lif", 2), "linear": LayerRole("integrator", 1)}


def subnet_layers(model: nn.Module) -> dict[str, SubnetLayer]:
    """The model's subnet layers by module name, in registration order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, SubnetLayer)}


def default_roles(model: nn.Module) -> dict[str, LayerRole]:
    """:data:`PRIME_ROLES` when the model's subnet layers are PRIMENet's; otherwise a LIF layer without
    pooling after every subnet layer (pass ``roles`` explicitly for other models)."""
    names = list(subnet_layers(model))
    if names == list(PRIME_ROLES):
        return dict(PRIME_ROLES)
    return {name: LayerRole() for name in names}


class _LayerCounter:
    """Per-sample counts of one subnet layer from its input ``x``.

    Most counts are sums over all outputs of the layer's map applied to an indicator of the input (non-zero,
    equal to 1, or ``|x|``) with a 0/1 kernel. Such a sum is linear in the input, ``sum_out (K * u) =
    sum_in u * R``, where the *reach* map ``R`` (the adjoint of the map applied to all-ones outputs) says how
    many kept weights, pruned weights or array rows each input element meets in one step. ``R`` depends only on
    the layer and the input shape, so it is computed once; a count is then a dot product per sample. Which
    array reads have a driven row needs the per-output view: a max-pool of the input's non-zero indicator (or
    a convolution with one kernel per row tile).
    """

    def __init__(self, layer: SubnetLayer, role: LayerRole, mapping: CrossbarMapping):
        self.layer, self.role, self.mapping = layer, role, mapping
        self.conv = layer.layer_map.kind == "conv2d"
        if not self.conv and layer.layer_map.kind != "linear":
            raise ValueError(f"cannot count a {type(layer).__name__} ({layer.layer_map.kind}): only conv2d and linear maps")
        self.shape = tuple(layer.weight_source.shape)
        self.out_channels, self.fan_in = self.shape[0], math.prod(self.shape[1:])
        keep = layer.keep_mask()
        kept = torch.ones(self.shape) if keep is None else keep.float()   # fixed while counting (not training)
        # per input row of the unrolled matrix: kept pairs, pruned pairs, and the row itself
        self.row_kernels = torch.cat([kept.sum(dim=0, keepdim=True), (1.0 - kept).sum(dim=0, keepdim=True),
                                      torch.ones((1, *self.shape[1:]))])
        self.row_tiles = mapping.row_tiles(self.fan_in)
        self.column_tiles = mapping.column_tiles(self.out_channels)
        self._reach: dict[tuple, torch.Tensor] = {}

    def _apply(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """The layer's linear map with ``kernel`` as its weights."""
        return self.layer.layer_map(x, kernel)

    def reach(self, input_shape: tuple) -> torch.Tensor:
        """``[input elements, 3]`` (float64): kept weights, pruned weights and array rows each input meets."""
        if input_shape not in self._reach:
            maps = []
            for kernel in self.row_kernels:
                probe = torch.zeros((1, *input_shape), requires_grad=True)
                with torch.enable_grad():
                    self._apply(probe, kernel[None]).sum().backward()
                maps.append(probe.grad.reshape(-1))
            self._reach[input_shape] = torch.stack(maps, dim=1).double()
        return self._reach[input_shape]

    def nonempty_reads(self, nonzero: torch.Tensor) -> torch.Tensor:
        """Per sample: (output position, row tile) reads with at least one driven row."""
        batch = nonzero.shape[0]
        if not self.conv:
            padded = F.pad(nonzero, (0, self.row_tiles * self.mapping.rows_per_array - self.fan_in))
            return padded.reshape(batch, self.row_tiles, -1).amax(dim=2).sum(dim=1, dtype=torch.float64)
        kernel_size, (padding, _), (stride, _) = self.shape[-1], self.layer.layer_map.padding, self.layer.layer_map.stride
        if self.row_tiles == 1 and padding <= kernel_size // 2:   # any non-zero input in the receptive field
            active = F.max_pool2d(nonzero.amax(dim=1, keepdim=True), kernel_size, stride, padding)
        else:  # one 0/1 kernel per row tile, rows in im2col order (channel, kernel row, kernel column)
            rows = torch.arange(self.fan_in)
            tiles = torch.stack([((rows // self.mapping.rows_per_array) == tile).float()
                                 for tile in range(self.row_tiles)]).reshape(self.row_tiles, *self.shape[1:])
            active = self._apply(nonzero, tiles)
        return (active > 0).reshape(batch, -1).sum(dim=1, dtype=torch.float64)

    def __call__(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        x = x.detach().float()
        batch = x.shape[0]
        reach = self.reach(tuple(x.shape[1:]))
        nonzero = (x != 0).float()
        flat = x.reshape(batch, -1).double()
        by_nonzero = nonzero.reshape(batch, -1).double() @ reach             # kept ops, pruned ops, rows
        by_magnitude = flat.abs() @ reach[:, :2]                              # pulses on kept, pruned pairs
        spike = (flat == 1).double() @ reach[:, 0]
        synaptic = by_nonzero[:, 0]
        positions = output[0, 0].numel() if self.conv else 1                 # array reads per step and tile
        out_elements = output[0].numel()
        pooled = _pooled(output, self.role.pool)
        neurons = 0 if self.role.neuron == "none" else out_elements
        counts = {
            "dense_macs": out_elements * self.fan_in,
            "synaptic_ops": synaptic,
            "spike_ops": spike,
            "graded_ops": synaptic - spike,
            "kept_pulses": by_magnitude[:, 0],
            "pruned_pulses": by_magnitude[:, 1],
            "row_activations": by_nonzero[:, 2] * self.column_tiles,
            "crossbar_reads": positions * self.row_tiles * self.column_tiles,
            "conversions": positions * self.out_channels * self.row_tiles,
            "conversions_nonempty": self.nonempty_reads(nonzero) * self.out_channels,
            "partial_sum_adds": positions * self.out_channels * (self.row_tiles - 1),
            "neuron_updates": out_elements if self.role.neuron == "lif" else 0,
            "integrator_updates": out_elements if self.role.neuron == "integrator" else 0,
            "pool_outputs": pooled,
            "pool_adds": pooled * (self.role.pool ** 2 - 1),
            "weight_reads": synaptic,
            "state_accesses": 2 * neurons,
        }
        return torch.stack([_per_sample(counts[kind], batch) for kind in KINDS], dim=1)   # [B, kinds]


def _per_sample(value, batch: int) -> torch.Tensor:
    """A per-sample count ``[B]`` (float64) from a tensor, or from a number that is the same for every sample."""
    if isinstance(value, torch.Tensor):
        return value
    return torch.full((batch,), float(value), dtype=torch.float64)


def _pooled(output: torch.Tensor, pool: int) -> int:
    """Pooled values per sample after ``pool`` x ``pool`` pooling (no pooling: 0)."""
    if pool == 1:
        return 0
    if output.dim() != 4:
        raise ValueError(f"pool={pool} needs a conv output [B, C, H, W]; got shape {tuple(output.shape)}")
    return output.shape[1] * (output.shape[2] // pool) * (output.shape[3] // pool)


class OperationCounter:
    """Forward hooks counting the operations of every subnet layer of ``model`` (use as a context manager).

    Every call of a hooked layer appends the per-sample counts of its batch. :meth:`totals` sums everything
    recorded (e.g. around a streaming :func:`primekit.inference.early_stop.run_early_stop`, where finished samples leave
    the batch and are no longer counted); :meth:`take_step` returns and clears the per-sample counts of the
    calls since the last time, for a full-batch step.

    Args:
        model: any module with :class:`~primekit.snn.subnet.SubnetLayer` submodules.
        mapping: the crossbar layout (row tiles, column tiles).
        roles: a :class:`LayerRole` per subnet layer name; :func:`default_roles` when None.
    """

    def __init__(self, model: nn.Module, mapping: CrossbarMapping = CrossbarMapping(),
                 roles: Mapping[str, LayerRole] | None = None):
        layers = subnet_layers(model)
        if not layers:
            raise ValueError("model has no SubnetConv2d / SubnetLinear layer to count")
        roles = default_roles(model) if roles is None else dict(roles)
        if set(roles) != set(layers):
            raise ValueError(f"roles name layers {sorted(roles)}; the model's subnet layers are {list(layers)}")
        self.layers = tuple(layers)
        self.mapping = mapping
        self._counters = {name: _LayerCounter(layer, roles[name], mapping) for name, layer in layers.items()}
        self._modules = layers
        self._records: list[tuple[int, torch.Tensor]] = []
        self._handles = []

    def hooks(self) -> dict[str, Callable]:
        """The forward hook of every counted layer, by module name (for ``run_split(..., hooks=)``)."""
        def make(index: int, counter: _LayerCounter):
            def hook(_module, args, output):
                with torch.no_grad():
                    self._records.append((index, counter(args[0], output)))
            return hook

        return {name: make(index, self._counters[name]) for index, name in enumerate(self.layers)}

    def __enter__(self) -> "OperationCounter":
        for name, hook in self.hooks().items():
            self._handles.append(self._modules[name].register_forward_hook(hook))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def calls(self) -> dict[str, int]:
        """How many times each layer ran since counting started (or since the last :meth:`take_step`)."""
        indices = [index for index, _ in self._records]
        return {name: indices.count(k) for k, name in enumerate(self.layers)}

    def totals(self) -> torch.Tensor:
        """Everything recorded so far, summed over calls and samples: ``[layers, kinds]`` (float64)."""
        out = torch.zeros(len(self.layers), len(KINDS), dtype=torch.float64)
        for index, counts in self._records:
            out[index] += counts.sum(dim=0)
        return out

    def take_step(self, batch_size: int) -> torch.Tensor:
        """The per-sample counts recorded since the last call, ``[batch, layers, kinds]``; clears them."""
        out = torch.zeros(batch_size, len(self.layers), len(KINDS), dtype=torch.float64)
        for index, counts in self._records:
            if counts.shape[0] != batch_size:
                raise ValueError(f"a call counted {counts.shape[0]} samples, expected the full batch of {batch_size}")
            out[:, index] += counts
        self._records.clear()
        return out


def _count_split(model: StepModule, data, *, mapping: CrossbarMapping, roles, **run_options):
    """The one evaluation path with every step counted: ``(run, OperationCounts [T, N, layers, kinds])``."""
    counter = OperationCounter(model, mapping, roles)
    batches: list[list[torch.Tensor]] = []

    def after_step(info) -> None:
        if info.step == 0:
            batches.append([])
        batches[-1].append(counter.take_step(len(info.samples)))

    run = inference.run_split(model, data, hooks=counter.hooks(), after_step=after_step, **run_options)
    counts = torch.cat([torch.stack(steps) for steps in batches], dim=1)
    return run, OperationCounts(counts, counter.layers)


def count_operations(model: StepModule, x: torch.Tensor, *, mapping: CrossbarMapping = CrossbarMapping(),
                     roles: Mapping[str, LayerRole] | None = None,
                     read_seed: int = 0) -> tuple[torch.Tensor, OperationCounts]:
    """Run ``model`` over time-major ``x`` (``[T, B, ...]``) for all T steps, counting every step; the
    samples are keyed ``0..B-1`` (chip reads seeded by ``read_seed``, as the one evaluation path).

    Returns:
        The per-step outputs ``[T, B, ...]`` and the :class:`OperationCounts` ``[T, B, layers, kinds]``.
    """
    check_time_major(x)
    batch = inference.Batch(x, torch.zeros(x.shape[1], dtype=torch.long), torch.arange(x.shape[1]))
    run, counts = _count_split(model, [batch], mapping=mapping, roles=roles, read_seed=read_seed)
    return run.outputs, counts


class CountRecording(NamedTuple):
    """A full-T run over a split with its operation counts.

    Attributes:
        outputs: per-step outputs ``[T, N, classes]`` (as :class:`primekit.inference.evaluate.Recording`).
        labels: ``[N]`` true classes.
        counts: per-step, per-sample operation counts.
    """

    outputs: torch.Tensor
    labels: torch.Tensor
    counts: OperationCounts


def record_counts(model: StepModule, split, *, batch_size: int = inference.BATCH_SIZE, read_seed: int = 0,
                  index=None, mapping: CrossbarMapping = CrossbarMapping(),
                  roles: Mapping[str, LayerRole] | None = None, show_progress: bool = True) -> CountRecording:
    """:func:`primekit.inference.evaluate.record_outputs` with operation counts: every sample of ``split``
    for all T steps, through the same evaluation path (same ``read_seed``: the same outputs), so exits
    replayed on these outputs are those of the other inference paths.
    """
    run, counts = _count_split(model, split, mapping=mapping, roles=roles, batch_size=batch_size,
                               read_seed=read_seed, index=index, show_progress=show_progress,
                               desc="count operations")
    return CountRecording(run.outputs, run.labels, counts)
