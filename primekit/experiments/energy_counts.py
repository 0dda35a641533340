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

from primekit import cache, profiles
from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.data.datasets import nmnist_frames
from primekit.energy.counts import (
    CountRecording,
    CrossbarMapping,
    OperationCounts,
    record_counts,
)
from primekit.experiments import training as train


def record_trained_counts(method: str = "memristor-pruning", profile: profiles.Profile | None = None, *,
                          memristor: MemristorConfig = MemristorConfig(read_noise=0.02), chip_seed: int = 0,
                          read_seed: int = 0, mapping: CrossbarMapping = CrossbarMapping(),
                          on_chip: bool = True, splits=None) -> CountRecording:
    """Counts of a trained method on the profile's test split, cached (one full-T pass, then loaded).

    Args:
        method: a :data:`primekit.experiments.training.METHODS` name (trained, or loaded from the cache).
        profile: the run profile (default: :func:`primekit.get_profile`).
        memristor: the simulated chip (read noise relative, per read) used when ``on_chip``.
        chip_seed: seed of :func:`primekit.chip.deploy.deploy` (RESET spreads, programming noise).
        read_seed: seed of the chip's keyed reads (per sample and step, as :mod:`primekit.inference.evaluate`).
        mapping: the crossbar layout.
        on_chip: run the network deployed on the chip (True) or in software (False).
        splits: the profile's frames if already loaded (:func:`primekit.nmnist_frames`).
    """
    profile = profile or profiles.get_profile()
    splits = splits or nmnist_frames(profile)
    key = {"profile": profile, "method": method, "memristor": memristor if on_chip else None, "chip_seed": chip_seed,
           "read_seed": read_seed, "mapping": mapping}

    def compute():
        model = train.train_method(method, profile, splits).model
        if on_chip:
            model, _ = deploy(model, memristor, seed=chip_seed)
        recording = record_counts(model, splits.test, read_seed=read_seed, mapping=mapping)
        return {"outputs": recording.outputs, "labels": recording.labels, "counts": recording.counts.counts,
                "layers": recording.counts.layers}

    stored = cache.load_or_run(f"energy-counts-{method}", key, compute,
                               data_fingerprint=train.frames_fingerprint(splits.train, splits.test))
    return CountRecording(stored["outputs"], stored["labels"],
                          OperationCounts(stored["counts"], tuple(stored["layers"])))
