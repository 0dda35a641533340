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
``bias_adds``              bias additions: the layer's output elements, if it has a bias
``norm_ops``               normalisation scale-and-shifts (the VAE's tdBN at inference): output elements
=========================  ===================================================================================

Transposed convolutions (:class:`~primekit.snn.subnet.SubnetConvTranspose2d`) are counted too, as the
convolution they equal on a crossbar (:mod:`primekit.energy.layer_counts`).

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

from typing import Callable, Mapping, NamedTuple

import torch
from torch import nn

from primekit.energy.count_records import KINDS, OperationCounts
from primekit.energy.layer_counts import CELLS_PER_WEIGHT, NEURON_KINDS, CrossbarMapping, LayerCounter, LayerRole
from primekit.inference import evaluate as inference
from primekit.snn.subnet import SubnetLayer
from primekit.snn.timeloop import StepModule, check_time_major

#: PRIMENet: conv0 -> LIF -> avg-pool 2; conv1 -> LIF -> avg-pool 2; linear -> output integrator.
PRIME_ROLES = {"conv0": LayerRole("lif", 2), "conv1": LayerRole("lif", 2), "linear": LayerRole("integrator", 1)}


def subnet_layers(model: nn.Module) -> dict[str, SubnetLayer]:
    """The model's subnet layers by module name, in registration order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, SubnetLayer)}


def default_roles(model: nn.Module) -> dict[str, LayerRole]:
    """:data:`PRIME_ROLES` when the model's subnet layers are PRIMENet's; a model with a ``count_roles()`` method
    (the spiking VAE) gives its own; otherwise a LIF layer without pooling after every subnet layer (pass
    ``roles`` explicitly for other models)."""
    names = list(subnet_layers(model))
    if names == list(PRIME_ROLES):
        return dict(PRIME_ROLES)
    if hasattr(model, "count_roles"):
        return {name: LayerRole(**role) for name, role in model.count_roles().items()}
    return {name: LayerRole() for name in names}


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
            raise ValueError("model has no subnet layer (SubnetConv2d, SubnetConvTranspose2d, SubnetLinear) to count")
        roles = default_roles(model) if roles is None else dict(roles)
        if set(roles) != set(layers):
            raise ValueError(f"roles name layers {sorted(roles)}; the model's subnet layers are {list(layers)}")
        self.layers = tuple(layers)
        self.mapping = mapping
        self._counters = {name: LayerCounter(layer, roles[name], mapping) for name, layer in layers.items()}
        self._modules = layers
        self._records: list[tuple[int, torch.Tensor]] = []
        self._handles = []

    def hooks(self) -> dict[str, Callable]:
        """The forward hook of every counted layer, by module name (for ``run_split(..., hooks=)``)."""
        def make(index: int, counter: LayerCounter):
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
