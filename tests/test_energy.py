"""Energy projection: counts checked against hand computation and an independent im2col count, counting
during streaming early stop against the replayed full-T counts, and the energy model's linearity, prices
and parameter checks."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import NamedTuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.energy import counts, prices
from primekit.energy.count_records import KINDS, CountTable, OperationCounts
from primekit.energy.counts import CountRecording, CrossbarMapping, LayerRole, OperationCounter, count_operations
from primekit.energy.prices import EnergyConfig
from primekit.inference.early_stop import (
    Decision,
    SoftmaxConfidence,
    StopPolicy,
    replay,
    run_early_stop,
)
from primekit.inference.evaluate import record_outputs
from primekit.snn.models import PRIMENet, software_sources
from primekit.snn.neurons import PRIME_LIF, integrator_step, lif_step
from primekit.snn.subnet import SubnetConv2d, SubnetLinear
from primekit.snn.timeloop import StepModule
from primekit.snn.weight_sources import FrozenWeights

# ---------------------------------------------------------------------------------------------------------
# A network small enough to count by hand
# ---------------------------------------------------------------------------------------------------------

class TinyState(NamedTuple):
    lif: object
    out: object


class TinyNet(StepModule):
    """conv 1->2 (k 2, all weights 1) -> LIF -> avg-pool 2 -> linear 2->2 (weights 1) -> integrator.

    Kept conv weights: channel 0 [[1, 0], [1, 1]], channel 1 [[0, 1], [0, 0]]; kept linear weights: the
    diagonal. Scores are chosen so that the top-k masks are exactly these (4 of 8, 2 of 4).
    """

    def __init__(self):
        super().__init__()
        self.conv = SubnetConv2d(FrozenWeights(torch.ones(2, 1, 2, 2)), keep_ratio=0.5)
        self.linear = SubnetLinear(FrozenWeights(torch.ones(2, 2)), keep_ratio=0.5)
        with torch.no_grad():
            self.conv.scores.copy_(torch.tensor([[[[1.0, 0.1], [1.1, 1.2]]], [[[0.2, 1.3], [0.3, 0.4]]]]))
            self.linear.scores.copy_(torch.tensor([[1.0, 0.1], [0.2, 1.1]]))

    def init_state(self, batch_size):
        return TinyState(None, None)

    def step(self, x_t, state):
        s, lif = lif_step(self.conv(x_t), state.lif, PRIME_LIF)
        v, out = integrator_step(self.linear(F.avg_pool2d(s, 2).flatten(1)), state.out, PRIME_LIF.leaky_relu_slope)
        return v, TinyState(lif, out)


TINY_ROLES = {"conv": LayerRole("lif", 2), "linear": LayerRole("integrator")}
#: one frame of event counts [1, 1, 3, 3]
TINY_X = torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0], [3.0, 0.0, 0.0]]).view(1, 1, 3, 3)


def test_tiny_network_masks_are_the_intended_ones():
    net = TinyNet()
    assert torch.equal(net.conv.keep_mask()[:, 0], torch.tensor([[[True, False], [True, True]],
                                                                 [[False, True], [False, False]]]))
    assert torch.equal(net.linear.keep_mask(), torch.eye(2, dtype=torch.bool))


def test_counts_on_the_hand_sized_network_equal_hand_computed_values():
    net = TinyNet()
    outputs, counts = count_operations(net, TINY_X[None], roles=TINY_ROLES)
    got = {layer: dict(zip(KINDS, counts.counts[0, 0, i].tolist())) for i, layer in enumerate(counts.layers)}
    # conv: 2x2 output positions, windows of x: [[1,0],[0,0]], [[0,2],[0,1]], [[0,0],[3,0]], [[0,1],[0,0]].
    # Kept weights met by non-zero inputs: ch0 (1 + 1 + 1 + 0) + ch1 (0 + 1 + 0 + 1) = 5 synaptic ops, of which
    # those on the two inputs equal to 1: x[0,0] (ch0 once) and x[1,2] (ch0 once, ch1 once) = 3.
    # Pulses (input values): kept 1*1 + 2*1 + 1*2 + 3*1 = 8; pruned pairs on the same rows: 1 + 2 + 1*2 + 3 = 8.
    # Driven rows per read: 1, 2, 1, 1 = 5. Conv outputs: ch0 [[1, 1], [3, 0]], ch1 [[0, 2], [0, 1]], so the
    # LIF (threshold 0.2) spikes at ch0 3 of 4, ch1 2 of 4 -> pooled [0.75, 0.5], both non-zero, not 1.
    assert got["conv"] == {
        "dense_macs": 32, "synaptic_ops": 5, "spike_ops": 3, "graded_ops": 2, "kept_pulses": 8, "pruned_pulses": 8,
        "row_activations": 5, "crossbar_reads": 4, "conversions": 8, "conversions_nonempty": 8,
        "partial_sum_adds": 0, "neuron_updates": 8, "integrator_updates": 0, "pool_outputs": 2, "pool_adds": 6,
        "weight_reads": 5, "state_accesses": 16, "bias_adds": 0, "norm_ops": 0}
    assert got["linear"] == {
        "dense_macs": 4, "synaptic_ops": 2, "spike_ops": 0, "graded_ops": 2, "kept_pulses": 1.25,
        "pruned_pulses": 1.25, "row_activations": 2, "crossbar_reads": 1, "conversions": 2,
        "conversions_nonempty": 2, "partial_sum_adds": 0, "neuron_updates": 0, "integrator_updates": 2,
        "pool_outputs": 0, "pool_adds": 0, "weight_reads": 2, "state_accesses": 4, "bias_adds": 0, "norm_ops": 0}
    # the output integrator holds the kept diagonal times the pooled spikes
    assert torch.allclose(outputs[0, 0], torch.tensor([0.75, 0.5]))


def test_row_tiles_on_the_hand_sized_network():
    # two rows per array: the 4 conv rows split into the top and the bottom row of each window
    net = TinyNet()
    _, counts = count_operations(net, TINY_X[None], roles=TINY_ROLES, mapping=CrossbarMapping(rows_per_array=2))
    conv = dict(zip(KINDS, counts.counts[0, 0, 0].tolist()))
    # driven (read, tile) pairs: p00 top only, p01 both, p10 bottom only, p11 top only = 5 of 8
    assert conv["crossbar_reads"] == 8 and conv["conversions"] == 16 and conv["conversions_nonempty"] == 10
    assert conv["partial_sum_adds"] == 8                   # 4 positions x 2 channels x (2 tiles - 1)
    assert conv["row_activations"] == 5 and conv["synaptic_ops"] == 5   # tiling moves no synaptic work


def test_column_tiles_repeat_the_row_drives():
    net = TinyNet()
    # 2 channels = 4 columns; 2 columns per array -> 2 arrays side by side, each driving its own rows
    _, counts = count_operations(net, TINY_X[None], roles=TINY_ROLES, mapping=CrossbarMapping(columns_per_array=2))
    conv = dict(zip(KINDS, counts.counts[0, 0, 0].tolist()))
    assert conv["row_activations"] == 10 and conv["crossbar_reads"] == 8 and conv["conversions"] == 8


# ---------------------------------------------------------------------------------------------------------
# PRIMENet against an independent count (im2col)
# ---------------------------------------------------------------------------------------------------------

def _prime(seed: int = 0) -> PRIMENet:
    return PRIMENet(software_sources(seed), keep_ratio=0.5, seed=seed).eval()


def _events(steps: int, batch: int, rate: float = 0.3, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.poisson(torch.full((steps, batch, 2, 34, 34), rate), generator=generator)


def _im2col_counts(layer, x: torch.Tensor, rows_per_array: int) -> dict[str, torch.Tensor]:
    """Per-sample counts from the unrolled input: rows = fan-in, one column of the unrolled input per read."""
    weight = layer.weight_source.read()
    kept = layer.keep_mask().reshape(weight.shape[0], -1).float()               # [out, fan_in]
    if isinstance(layer, SubnetConv2d):
        rows = F.unfold(x, weight.shape[-1], padding=layer.padding, stride=layer.stride)   # [B, fan_in, reads]
    else:
        rows = x[:, :, None]
    nonzero = (rows != 0).float()
    tiles = math.ceil(rows.shape[1] / rows_per_array)
    driven_tiles = sum((nonzero[:, t * rows_per_array:(t + 1) * rows_per_array].amax(dim=1) > 0).sum(dim=1)
                       for t in range(tiles))
    return {
        "synaptic_ops": torch.einsum("brp,or->b", nonzero, kept),
        "spike_ops": torch.einsum("brp,or->b", (rows == 1).float(), kept),
        "kept_pulses": torch.einsum("brp,or->b", rows.abs(), kept),
        "pruned_pulses": torch.einsum("brp,or->b", rows.abs(), 1 - kept),
        "row_activations": nonzero.sum(dim=(1, 2)),
        "conversions_nonempty": driven_tiles * weight.shape[0],
        "conversions": torch.full((x.shape[0],), float(rows.shape[2] * weight.shape[0] * tiles)),
    }


@pytest.mark.parametrize("rows_per_array", [512, 128])
def test_prime_counts_equal_an_im2col_count(rows_per_array):
    model = _prime()
    x = _events(3, 4)
    inputs = {name: [] for name in ("conv0", "conv1", "linear")}
    handles = [getattr(model, name).register_forward_pre_hook(lambda _m, args, n=name: inputs[n].append(args[0]))
               for name in inputs]
    try:
        _, counts = count_operations(model, x, mapping=CrossbarMapping(rows_per_array=rows_per_array))
    finally:
        for handle in handles:
            handle.remove()
    assert counts.layers == ("conv0", "conv1", "linear")
    for index, name in enumerate(counts.layers):
        for t in range(3):
            expected = _im2col_counts(getattr(model, name), inputs[name][t], rows_per_array)
            for kind, values in expected.items():
                got = counts.counts[t, :, index, KINDS.index(kind)]
                assert torch.allclose(got, values.double()), (name, t, kind)
    # the pooled inputs of conv1 and linear are graded (quarters), so some synaptic ops are not spikes
    graded = counts.counts[..., KINDS.index("graded_ops")].sum(dim=(0, 1))
    assert (graded > 0).all()
    per_step = counts.counts[0, 0]
    assert per_step[0, KINDS.index("dense_macs")] == 12 * 32 * 32 * 2 * 25
    assert per_step[1, KINDS.index("neuron_updates")] == 64 * 12 * 12
    assert per_step[1, KINDS.index("pool_outputs")] == 64 * 6 * 6
    assert per_step[2, KINDS.index("integrator_updates")] == 10
    assert per_step[2, KINDS.index("partial_sum_adds")] == 10 * (math.ceil(2304 / rows_per_array) - 1)


def test_zero_input_gives_zero_synaptic_operations():
    model = _prime()
    _, counts = count_operations(model, torch.zeros(2, 3, 2, 34, 34))
    zero_kinds = ("synaptic_ops", "spike_ops", "graded_ops", "kept_pulses", "pruned_pulses", "row_activations",
                  "conversions_nonempty", "weight_reads")
    for kind in zero_kinds:
        assert counts.counts[..., KINDS.index(kind)].abs().sum() == 0, kind
    # work that does not depend on the input is still done every step, as much as on real events
    _, busy = count_operations(model, _events(2, 3))
    for kind in ("dense_macs", "conversions", "neuron_updates", "pool_outputs", "state_accesses"):
        assert torch.equal(counts.counts[..., KINDS.index(kind)], busy.counts[..., KINDS.index(kind)]), kind
    conv0 = counts.counts[0, 0, 0]
    assert conv0[KINDS.index("dense_macs")] == 12 * 32 * 32 * 2 * 25
    assert conv0[KINDS.index("neuron_updates")] == 12 * 32 * 32 and conv0[KINDS.index("pool_outputs")] == 12 * 16 * 16


def test_weight_tuning_layers_count_every_weight_as_kept():
    model = PRIMENet(software_sources(0), keep_ratio=1.0).eval()
    x = _events(1, 2)
    _, counts = count_operations(model, x)
    assert counts.counts[..., KINDS.index("pruned_pulses")].sum() == 0
    # conv0 by hand: every non-zero input of every 5 x 5 window meets all 12 output channels
    windows = F.unfold(x[0], 5, padding=1)                               # [B, 2 * 25, 32 * 32]
    conv0 = counts.counts[0, :, 0]
    assert torch.equal(conv0[:, KINDS.index("synaptic_ops")], 12 * (windows != 0).sum(dim=(1, 2)).double())
    assert torch.equal(conv0[:, KINDS.index("kept_pulses")], 12 * windows.sum(dim=(1, 2)).double())


# ---------------------------------------------------------------------------------------------------------
# Counting up to the exit: replayed full-T counts against counting during streaming early stop
# ---------------------------------------------------------------------------------------------------------

class FixedExits(StopPolicy):
    """Stop each sample at a given step (its state is batch-first, so it leaves the batch with the sample)."""

    def __init__(self, exits):
        self.exits = torch.as_tensor(exits)

    def init_state(self, batch_size):
        return self.exits.clone()

    def update(self, output, state, step):
        stop = state == step
        return Decision(stop, stop.float(), output.argmax(dim=-1)), state


def _streaming_totals(model, x, policy):
    with OperationCounter(model) as counter:
        result = run_early_stop(model, x, policy)
    return counter, result


@pytest.mark.parametrize("k", [1, 2, 4])
def test_early_exit_at_step_k_counts_exactly_k_steps(k):
    model = _prime()
    x = _events(5, 3, seed=1)
    _, full = count_operations(model, x)
    counter, result = _streaming_totals(model, x, FixedExits([k] * 3))
    assert result.exit_step.tolist() == [k] * 3
    assert counter.calls() == {"conv0": k, "conv1": k, "linear": k}     # every layer ran exactly k steps
    assert torch.allclose(counter.totals(), full.counts[:k].sum(dim=(0, 1)))
    assert torch.allclose(full.until_exit(result.exit_step).sum(dim=0), full.counts[:k].sum(dim=(0, 1)))
    assert not torch.allclose(full.counts[:k].sum(dim=(0, 1)), full.counts.sum(dim=(0, 1)))  # steps after k count


def test_streaming_counts_equal_counts_replayed_to_each_exit():
    model = _prime()
    x = _events(5, 6, seed=2)
    outputs, full = count_operations(model, x)
    # a threshold between the confidences reached, so that the exits differ between samples
    confidence = torch.softmax(outputs.cumsum(0) / torch.arange(1, 6).view(-1, 1, 1) / 2, -1).amax(-1)
    policy = SoftmaxConfidence(float(confidence.median()))
    exits = replay(outputs, policy).exit_step
    assert len(set(exits.tolist())) > 1
    counter, streamed = _streaming_totals(model, x, policy)
    assert torch.equal(streamed.exit_step, exits)
    assert torch.allclose(counter.totals(), full.until_exit(exits).sum(dim=0))
    # and with mixed fixed exits, sample by sample
    mixed = torch.tensor([1, 5, 3, 2, 5, 4])
    counter, _ = _streaming_totals(model, x, FixedExits(mixed))
    per_sample = full.until_exit(mixed)
    assert torch.allclose(counter.totals(), per_sample.sum(dim=0))
    assert torch.allclose(per_sample[1], full.counts[:, 1].sum(dim=0))
    assert torch.allclose(per_sample[0], full.counts[0, 0])


def test_until_exit_and_per_image():
    counts = OperationCounts(torch.arange(2 * 3 * 1 * len(KINDS), dtype=torch.float64).view(2, 3, 1, len(KINDS)),
                             ("layer",))
    summed = counts.until_exit(torch.tensor([1, 2, 2]))
    assert torch.equal(summed[0], counts.counts[0, 0]) and torch.equal(summed[2], counts.counts[:, 2].sum(0))
    table = counts.per_image(torch.tensor([1, 2, 2]))
    assert table["layer", "dense_macs"] == pytest.approx(summed[:, 0, 0].mean().item())
    assert counts.per_image()["dense_macs"] == pytest.approx(counts.counts[..., 0].sum(0).mean().item())
    for bad in (torch.tensor([0, 1, 1]), torch.tensor([1, 3, 1]), torch.tensor([1, 1])):
        with pytest.raises(ValueError, match="exit_step"):
            counts.until_exit(bad)


class FakeSplit:
    """The part of a FrameSplit that inference uses."""

    def __init__(self, x: torch.Tensor):
        self.x, self.labels = x, np.arange(x.shape[1]) % 10

    def __len__(self):
        return self.x.shape[1]

    def time_major(self, index):
        return self.x[:, torch.as_tensor(np.asarray(index))]


def test_record_counts_sees_the_same_reads_as_record_outputs_on_a_noisy_chip():
    chip, _ = deploy(_prime(), MemristorConfig(read_noise=0.1), seed=3)
    split = FakeSplit(_events(3, 5, seed=4))
    reference = record_outputs(chip, split, batch_size=2, read_seed=7, show_progress=False)
    recording = counts.record_counts(chip, split, batch_size=2, read_seed=7, show_progress=False)
    assert torch.equal(recording.outputs, reference.outputs)
    assert torch.equal(recording.labels, reference.labels)
    assert recording.counts.counts.shape == (3, 5, 3, len(KINDS))
    # the counts of a sample do not depend on the batch it ran in (without read noise)
    software = _prime()
    alone = counts.record_counts(software, split, batch_size=1, show_progress=False).counts.counts
    together = counts.record_counts(software, split, batch_size=5, show_progress=False).counts.counts
    assert torch.allclose(alone, together)


def test_counter_checks_its_arguments():
    model = _prime()
    with pytest.raises(ValueError, match="roles name layers"):
        OperationCounter(model, roles={"conv0": LayerRole()})
    with pytest.raises(ValueError, match="no subnet layer"):
        OperationCounter(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="neuron='relu' must be one of"):
        LayerRole("relu")
    with pytest.raises(ValueError, match="pool=0 must be a positive integer"):
        LayerRole("lif", 0)
    with pytest.raises(ValueError, match="rows_per_array=0 must be a positive integer"):
        CrossbarMapping(rows_per_array=0)
    with pytest.raises(ValueError, match="columns_per_array=1 must be >= 2"):
        CrossbarMapping(columns_per_array=1)
    assert counts.default_roles(model) == counts.PRIME_ROLES
    assert counts.default_roles(TinyNet()) == {"conv": LayerRole(), "linear": LayerRole()}


def test_hooks_are_removed_after_counting():
    model = _prime()
    with OperationCounter(model) as counter:
        model.step(_events(1, 1)[0], model.init_state(1))
    model.step(_events(1, 1)[0], model.init_state(1))
    assert counter.calls() == {"conv0": 1, "conv1": 1, "linear": 1}    # the call after the block was not counted


# ---------------------------------------------------------------------------------------------------------
# The energy model
# ---------------------------------------------------------------------------------------------------------

def _table(values, layers=("a", "b")) -> CountTable:
    return CountTable(np.asarray(values, dtype=float).reshape(len(layers), len(KINDS)), tuple(layers))


def _unit(kind: str) -> CountTable:
    values = np.zeros((1, len(KINDS)))
    values[0, KINDS.index(kind)] = 1.0
    return CountTable(values, ("layer",))


CONFIGS = [EnergyConfig(), EnergyConfig(include_memory=True, digital_dataflow="dense", frontend_pj=1.0),
           EnergyConfig(adc_skips_empty_reads=True, conversions_per_output=2, digital_node_scale=0.87)]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("system", prices.SYSTEMS)
def test_energy_is_linear_in_each_count(config, system):
    rng = np.random.default_rng(0)
    a, b = _table(rng.uniform(0, 1e5, (2, len(KINDS)))), _table(rng.uniform(0, 1e5, (2, len(KINDS))))
    e_a, e_b = prices.energy(a, config, system), prices.energy(b, config, system)
    assert prices.energy(a + b, config, system).total_pj == pytest.approx(e_a.total_pj + e_b.total_pj, rel=1e-12)
    assert np.allclose(prices.energy(a.scaled(3.5), config, system).values, 3.5 * e_a.values, rtol=1e-12)
    assert np.allclose(prices.energy(a + b, config, system).values, e_a.values + e_b.values, rtol=1e-12)
    unit = prices.unit_prices(config)[system]
    total = sum(unit[kind] * a[kind] for kind in KINDS)
    assert e_a.total_pj == pytest.approx(total, rel=1e-12)
    for kind in KINDS:                                    # doubling one count adds exactly its price times it
        doubled = a.values.copy()
        doubled[:, KINDS.index(kind)] *= 2
        extra = prices.energy(CountTable(doubled, a.layers), config, system).total_pj - e_a.total_pj
        assert extra == pytest.approx(unit[kind] * a[kind], rel=1e-9, abs=1e-6)


def test_prices_by_hand_with_the_default_constants():
    unit = prices.unit_prices(EnergyConfig())
    digital, hybrid = unit["digital"], unit["hybrid"]
    assert digital["spike_ops"] == pytest.approx(0.9)               # fp32 add
    assert digital["graded_ops"] == pytest.approx(4.6)              # fp32 add + multiply
    assert digital["neuron_updates"] == hybrid["neuron_updates"] == pytest.approx(3.7 + 2 * 0.9)   # 5.5 [D10]
    assert digital["pool_outputs"] + 3 * digital["pool_adds"] == pytest.approx(6.4)              # 2x2 pool [D11]
    assert digital["integrator_updates"] == pytest.approx(0.9)
    assert digital["dense_macs"] == digital["weight_reads"] == digital["state_accesses"] == 0   # event, no memory
    # a kept pair on a driven row for one base pulse: 2 cells x (0.2 V)^2 x 20 uS x 10 ns = 16 fJ
    assert hybrid["kept_pulses"] == pytest.approx(0.016)
    assert hybrid["pruned_pulses"] == pytest.approx(2 * 0.04 * 0.5 * 10 * 1e-3)                  # 0.4 fJ
    assert hybrid["row_activations"] == pytest.approx(0.33)
    assert hybrid["conversions"] == pytest.approx(1.67) and hybrid["conversions_nonempty"] == 0
    assert hybrid["partial_sum_adds"] == pytest.approx(0.9)
    assert hybrid["synaptic_ops"] == hybrid["graded_ops"] == hybrid["weight_reads"] == 0
    memory = prices.unit_prices(EnergyConfig(include_memory=True, digital_dataflow="dense"))
    assert memory["digital"]["dense_macs"] == pytest.approx(4.6 + 5.0)       # MAC + a 32-bit SRAM read
    assert memory["digital"]["state_accesses"] == memory["hybrid"]["state_accesses"] == pytest.approx(5.0)
    assert memory["hybrid"]["dense_macs"] == 0


def test_one_spike_through_a_one_pair_crossbar_by_hand():
    # one input spike, one kept pair, one read, one conversion, one LIF update
    counts = {"synaptic_ops": 1, "spike_ops": 1, "kept_pulses": 1, "row_activations": 1, "crossbar_reads": 1,
              "conversions": 1, "conversions_nonempty": 1, "neuron_updates": 1, "weight_reads": 1,
              "state_accesses": 2, "dense_macs": 1}
    table = CountTable(np.array([[counts.get(kind, 0) for kind in KINDS]], dtype=float), ("layer",))
    config = EnergyConfig(read_voltage_v=0.3, g_kept_us=50.0, read_time_ns=20.0, adc_pj=2.0, row_drive_pj=0.5)
    hybrid = prices.energy(table, config, "hybrid")
    cell_pj = 2 * 0.3 ** 2 * 50 * 20 * 1e-3                                  # 0.18 pJ
    assert hybrid.by_component()["crossbar cells"] == pytest.approx(cell_pj)
    assert hybrid.total_pj == pytest.approx(cell_pj + 0.5 + 2.0 + 5.5)
    digital = prices.energy(table, config, "digital")
    assert digital.total_pj == pytest.approx(0.9 + 5.5)
    assert prices.efficiency_ratio(table, config) == pytest.approx((0.9 + 5.5) / (cell_pj + 0.5 + 2.0 + 5.5))
    assert hybrid.by_layer() == {"layer": pytest.approx(hybrid.total_pj)}


POSITIVE = ("add_pj", "mult_pj", "periphery_add_pj", "periphery_mult_pj", "sram_pj", "digital_node_scale",
            "read_voltage_v", "g_kept_us", "g_pruned_us", "read_time_ns", "row_drive_pj", "adc_pj")


@pytest.mark.parametrize("name", POSITIVE)
@pytest.mark.parametrize("value", [0.0, -1.0, True, "1", float("inf"), float("nan")])
def test_constants_must_be_positive(name, value):
    with pytest.raises(ValueError, match=f"{name}={value!r} must be a finite number > 0"):
        EnergyConfig(**{name: value})


def test_other_config_checks():
    assert EnergyConfig(frontend_pj=0.0).frontend_pj == 0.0
    with pytest.raises(ValueError, match=r"frontend_pj=-0.1 must be a finite number >= 0"):
        EnergyConfig(frontend_pj=-0.1)
    for name in ("adc_bits", "conversions_per_output"):
        for bad in (0, 1.5, True):
            with pytest.raises(ValueError, match=f"{name}={bad!r} must be a positive integer"):
                EnergyConfig(**{name: bad})
    with pytest.raises(ValueError, match="include_memory=1 must be True or False"):
        EnergyConfig(include_memory=1)
    with pytest.raises(ValueError, match="digital_dataflow='gpu' must be one of"):
        EnergyConfig(digital_dataflow="gpu")
    with pytest.raises(ValueError, match="system='analog' must be one of"):
        prices.energy(_unit("dense_macs"), EnergyConfig(), "analog")
    with pytest.raises(ValueError, match="system='analog' must be one of"):
        prices.prices(EnergyConfig(), "analog")


def test_every_constant_has_a_unit_and_a_source():
    table = prices.constant_table()
    assert [row[0] for row in table] == [f.name for f in dataclasses.fields(EnergyConfig)]
    for name, value, unit, source in table:
        # a source is ours or a publication with its year (listed in the book's bibliography), never an internal code
        assert unit and (source.startswith("ours") or re.search(r"\b(19|20)\d\d\b", source)), name
        assert not re.search(r"\[[A-Z]+\d", source), name
        assert value == getattr(EnergyConfig(), name)


def test_precision_and_adc_presets():
    config = prices.with_precision(EnergyConfig(), synapses="int8")
    assert (config.add_pj, config.mult_pj) == (0.03, 0.2) and config.periphery_mult_pj == 3.7
    config = prices.with_precision(EnergyConfig(), periphery="int8")
    assert config.lif_update_pj == pytest.approx(0.2 + 2 * 0.03)            # 0.26 pJ [D10, int8]
    with pytest.raises(ValueError, match="precision 'int4' is not one of"):
        prices.with_precision(EnergyConfig(), synapses="int4")
    assert prices.with_adc(EnergyConfig(), 14).adc_pj == 78.0
    assert prices.with_adc(EnergyConfig(), 6, 0.5) == dataclasses.replace(EnergyConfig(), adc_bits=6, adc_pj=0.5)
    with pytest.raises(ValueError, match="bits=12 has no tabulated energy"):
        prices.with_adc(EnergyConfig(), 12)


def test_node_scale_multiplies_every_digital_price_and_no_analogue_one():
    base, scaled = prices.unit_prices(EnergyConfig()), prices.unit_prices(EnergyConfig(digital_node_scale=0.5))
    for kind in ("spike_ops", "graded_ops", "neuron_updates", "pool_adds"):
        assert scaled["digital"][kind] == pytest.approx(0.5 * base["digital"][kind])
    for kind in ("kept_pulses", "row_activations", "conversions"):
        assert scaled["hybrid"][kind] == base["hybrid"][kind]


def test_sensitivity_evaluates_both_ends_of_every_lever():
    rng = np.random.default_rng(1)
    table = _table(rng.uniform(1, 1e5, (2, len(KINDS))))
    rows = prices.sensitivity(table)
    assert len(rows) == len(prices.LEVERS)
    assert [r.span for r in rows] == sorted((r.span for r in rows), reverse=True)
    for row in rows:
        assert row.ratio_low == pytest.approx(
            prices.efficiency_ratio(table, dataclasses.replace(EnergyConfig(), **row.lever.low)))
        assert row.ratio_high == pytest.approx(
            prices.efficiency_ratio(table, dataclasses.replace(EnergyConfig(), **row.lever.high)))
        assert row.ratio_default == pytest.approx(prices.efficiency_ratio(table, EnergyConfig()))
    # by hand: converting G+ and G- apart doubles every conversion, so the hybrid system pays its ADC energy
    # twice; the default (1 conversion) is the low end, and the span is the ratio of the two ends
    row = next(r for r in rows if r.lever.name == "conversions per output")
    hybrid = prices.energy(table, EnergyConfig(), "hybrid")
    digital = prices.energy(table, EnergyConfig(), "digital").total_pj
    adc = hybrid.by_component()["ADC"]
    assert row.ratio_high == pytest.approx(digital / (hybrid.total_pj + adc))
    assert row.span == pytest.approx((digital / hybrid.total_pj) / (digital / (hybrid.total_pj + adc)))


def _recording(steps=4, n=6, seed=0) -> CountRecording:
    """Synthetic: every step of every sample has the same counts; outputs make exits differ."""
    generator = torch.Generator().manual_seed(seed)
    outputs = torch.randn(steps, n, 10, generator=generator) * 3
    per_step = torch.rand(1, 1, 2, len(KINDS), generator=generator, dtype=torch.float64) * 1000
    counts = OperationCounts(per_step.expand(steps, n, 2, len(KINDS)).clone(), ("a", "b"))
    return CountRecording(outputs, torch.arange(n) % 10, counts)


def test_energy_sweep_scales_with_the_mean_exit_and_keeps_the_ratio_when_steps_are_alike():
    recording = _recording()
    one_step = recording.counts.per_step()
    config = EnergyConfig()
    rows = prices.energy_sweep(recording, [0.2, 0.5, 0.9, 1.0], config)
    for row in rows:
        exits = replay(recording.outputs, SoftmaxConfidence(row.threshold)).exit_step
        assert row.mean_exit == pytest.approx(exits.float().mean().item())
        assert row.digital_pj == pytest.approx(row.mean_exit * prices.energy(one_step, config, "digital").total_pj)
        assert row.ratio == pytest.approx(prices.efficiency_ratio(one_step, config))
    assert rows[-1].mean_exit == 4
    with pytest.raises(ValueError, match="thresholds is empty"):
        prices.energy_sweep(recording, [])


def test_record_trained_counts_counts_the_deployed_chip_and_caches_it(monkeypatch):
    import primekit
    from primekit.data.datasets import FrameSplit, Splits
    from primekit.data.frames import FrameSpec
    from primekit.experiments import training as train
    from primekit.experiments.energy_counts import record_trained_counts

    generator = np.random.default_rng(5)
    frames = generator.poisson(0.3, size=(4, 3, 2, 34, 34)).astype(np.uint8)
    split = FrameSplit(frames, np.arange(4) % 10, FrameSpec(3), "synthetic")
    splits = Splits(split, split)
    model = _prime()
    calls = []

    def fake_train(method, profile=None, splits=None, train_config=None):  # no training in unit tests
        calls.append(method)
        return train.TrainedMethod(method, model, train.History(), 0.0, 0.0)

    monkeypatch.setattr(train, "train_method", fake_train)
    profile, device = primekit.get_profile("tiny"), MemristorConfig(read_noise=0.05)
    first = record_trained_counts("memristor-pruning", profile, memristor=device, chip_seed=1, read_seed=2,
                                         splits=splits)
    again = record_trained_counts("memristor-pruning", profile, memristor=device, chip_seed=1, read_seed=2,
                                         splits=splits)
    assert calls == ["memristor-pruning"]                       # the second call loaded the cached counts
    assert torch.equal(first.counts.counts, again.counts.counts) and first.counts.layers == again.counts.layers
    chip, _ = deploy(model, device, seed=1)
    reference = record_outputs(chip, split, read_seed=2, show_progress=False)
    assert torch.equal(first.outputs, reference.outputs)
    software = record_trained_counts("memristor-pruning", profile, on_chip=False, splits=splits)
    assert torch.equal(software.outputs, record_outputs(model, split, show_progress=False).outputs)
    assert calls == ["memristor-pruning"] * 2                   # another key: computed
