"""Split-level inference: recorded-and-replayed exits equal streamed exits (also on a noisy chip),
sweeps match by-hand values, the full-T sweep equals train.evaluate, hidden features equal model.features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.data.frames import FrameSpec
from primekit.experiments.training import evaluate
from primekit.inference.early_stop import SoftmaxConfidence, replay, steps_saved
from primekit.inference.evaluate import (
    Batch,
    Recording,
    batches_of,
    mean_until_exit,
    record_outputs,
    run_split,
    stream_early_stop,
)
from primekit.inference.sweeps import (
    SweepRow,
    TimedRow,
    exits_rise,
    realised_fraction,
    sweep_columns,
    threshold_sweep,
    timed_sweep,
)
from primekit.snn.models import PRIMENet, software_sources

T = 8


@dataclass
class TinySplit:
    """A FrameSplit stand-in: Poisson frames [N, T, 2, 34, 34] with labels."""

    frames: np.ndarray
    labels: np.ndarray
    spec: FrameSpec = FrameSpec(T)
    source: str = "test"

    def __len__(self):
        return len(self.frames)

    def time_major(self, index=slice(None)):
        return torch.from_numpy(self.frames[index].astype(np.float32)).transpose(0, 1).contiguous()


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    rates = rng.uniform(0, 0.6, size=(1, T, 2, 34, 34))
    frames = rng.poisson(np.repeat(rates, 21, axis=0) * rng.uniform(0.5, 1.5, size=(21, 1, 1, 1, 1)))
    return TinySplit(frames.astype(np.uint8), rng.integers(0, 10, size=21))


@pytest.fixture(scope="module")
def model():
    return PRIMENet(software_sources(seed=3)).eval()


def _threshold_inside(recording, quantile):
    """A threshold inside the spread of the running confidences, so exits differ between samples."""
    steps = recording.outputs.shape[0]
    mean = recording.outputs.cumsum(0) / torch.arange(1, steps + 1).view(-1, 1, 1)
    return float(torch.softmax(mean / 2.0, dim=-1).max(-1).values.quantile(quantile))


@pytest.mark.parametrize("quantile", [0.2, 0.5, 0.8])
def test_replayed_exits_equal_streamed_exits(model, split, quantile):
    recording = record_outputs(model, split, batch_size=6, show_progress=False)
    policy = SoftmaxConfidence(_threshold_inside(recording, quantile))
    replayed = replay(recording.outputs, policy)
    streamed, _ = stream_early_stop(model, batches_of(split, 6), policy)
    assert torch.equal(replayed.exit_step, streamed.exit_step)
    assert torch.equal(replayed.prediction, streamed.prediction)
    assert torch.allclose(replayed.confidence, streamed.confidence, atol=1e-5)
    assert replayed.steps_run == streamed.steps_run == int(streamed.exit_step.sum())
    assert len(set(streamed.exit_step.tolist())) > 1  # the threshold splits the samples: some exit early


@pytest.mark.parametrize("read_mode", ["per-sample", "per-step"])
def test_replay_equals_streaming_on_a_chip_with_read_noise_for_two_batch_sizes(model, split, read_mode):
    device = MemristorConfig(read_noise=0.05, programming_noise=0.05, read_mode=read_mode)
    chip, _ = deploy(model, device, seed=7)
    recording = record_outputs(chip, split, batch_size=5, read_seed=11, show_progress=False)
    policy = SoftmaxConfidence(_threshold_inside(recording, 0.5))
    replayed = replay(recording.outputs, policy)
    for batch_size in (3, 8):  # neither the recording's batch size nor a divisor of the split
        streamed, _ = stream_early_stop(chip, batches_of(split, batch_size), policy, read_seed=11)
        assert len(set(streamed.exit_step.tolist())) > 1
        assert torch.equal(replayed.exit_step, streamed.exit_step)
        assert torch.equal(replayed.prediction, streamed.prediction)
    # the read noise is real: another read seed gives other outputs, the same seed the same ones
    again = record_outputs(chip, split, batch_size=5, read_seed=11, show_progress=False)
    other = record_outputs(chip, split, batch_size=5, read_seed=12, show_progress=False)
    assert torch.equal(again.outputs, recording.outputs)
    assert not torch.equal(other.outputs, recording.outputs)


@pytest.mark.parametrize("read_mode", ["per-sample", "per-step"])
def test_a_sample_alone_sees_what_it_sees_in_any_batch_under_read_noise(model, split, read_mode):
    # Exactly the same reads; the spiking layers' outputs are bit-identical (the pooled spikes the readout
    # sees), and the readout's float32 matrix product rounds differently by batch size (at ~1e-7).
    chip, _ = deploy(model, MemristorConfig(read_noise=0.1, read_mode=read_mode), seed=4)

    def record(**options):
        return record_outputs(chip, split, read_seed=3, hidden_layer="linear", show_progress=False, **options)

    together, in_fours = record(batch_size=21), record(batch_size=4)
    for sample in (0, 7, 20):
        alone = record(index=[sample])
        for other in (together, in_fours):
            assert torch.equal(alone.hidden[:, 0], other.hidden[:, sample])
            assert torch.allclose(alone.outputs[:, 0], other.outputs[:, sample], rtol=0, atol=1e-5)
    # a subset in another order: each sample keeps its own reads (keyed by its index in the split)
    picked = record(index=[9, 2, 15])
    assert torch.equal(picked.hidden, together.hidden[:, [9, 2, 15]])
    quiet = record_outputs(deploy(model, MemristorConfig(read_mode=read_mode), seed=4)[0], split,
                           show_progress=False).outputs
    assert (together.outputs - quiet).abs().max() > 1e-2  # the noise is real, far above the rounding


def test_per_sample_reads_differ_between_samples_and_steps(model, split):
    chip, _ = deploy(model, MemristorConfig(read_noise=0.1), seed=4)
    x = split.time_major([0]).expand(-1, 2, -1, -1, -1).contiguous()  # the same sample twice
    two = run_split(chip, [Batch(x, torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]))]).outputs
    assert not torch.equal(two[:, 0], two[:, 1])  # two samples: two independent reads
    shared, _ = deploy(model, MemristorConfig(read_noise=0.1, read_mode="per-step"), seed=4)
    both = run_split(shared, [Batch(x, torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]))]).outputs
    assert torch.equal(both[:, 0], both[:, 1])  # one read per step for the whole batch


def test_on_chip_accuracy_is_the_same_number_in_the_subnet_and_early_stop_chapters(model, split):
    chip, _ = deploy(model, MemristorConfig(read_noise=0.2), seed=5)
    subnet_chapter = evaluate(chip, split)  # training's evaluation, batch 256
    recording = record_outputs(chip, split, show_progress=False)  # the early-stop chapter's, batch 250
    full_t = threshold_sweep(recording, [1.0])[0].accuracy
    time_mean = (recording.outputs.mean(dim=0).argmax(dim=1) == recording.labels).double().mean().item()
    assert subnet_chapter["accuracy"] == time_mean
    assert full_t == pytest.approx(time_mean, abs=1e-6)  # the sweep averages in float32
    assert np.array_equal(subnet_chapter["predictions"], recording.outputs.mean(dim=0).argmax(dim=1).numpy())
    replayed = replay(recording.outputs, SoftmaxConfidence(1.0)).prediction  # threshold 1: argmax at T
    assert np.array_equal(replayed.numpy(), subnet_chapter["predictions"])
    in_threes = evaluate(chip, split, batch_size=3)
    assert np.array_equal(in_threes["predictions"], subnet_chapter["predictions"])


def test_batch_size_does_not_change_noiseless_outputs(model, split):
    a = record_outputs(model, split, batch_size=4, show_progress=False)
    b = record_outputs(model, split, batch_size=21, show_progress=False)
    assert torch.allclose(a.outputs, b.outputs, atol=1e-5)
    assert torch.equal(a.labels, torch.as_tensor(split.labels))


def test_full_t_sweep_equals_train_evaluate(model, split):
    recording = record_outputs(model, split, show_progress=False)
    full = threshold_sweep(recording, [1.0])[0]
    assert full.mean_exit == T and full.steps_saved == 0.0
    assert full.accuracy == pytest.approx(evaluate(model, split)["accuracy"], abs=1e-6)  # float32 mean


def test_sweep_values_by_hand():
    # two samples, two classes: sample 0 is confident at once, sample 1 never
    outputs = torch.tensor([[[4.0, 0.0], [0.0, 0.1]]] * 4)  # [T=4, B=2, classes=2]
    recording = Recording(outputs, torch.tensor([0, 0]))
    eager, never = threshold_sweep(recording, [0.8, 1.0])
    # sample 0: p = sigmoid(4 / 2) = 0.881 > 0.8 at t = 1; sample 1: p = sigmoid(0.05) = 0.512, exits at T
    assert (eager.mean_exit, eager.steps_saved, eager.accuracy) == (2.5, pytest.approx(1 - 2.5 / 4), 0.5)
    assert (never.mean_exit, never.steps_saved, never.accuracy) == (4.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="thresholds is empty"):
        threshold_sweep(recording, [])


def test_exits_rise_only_when_the_mean_exit_never_falls_and_ends_higher():
    def rows(*exits):   # listed from the highest threshold down: exits_rise sorts them
        return [SweepRow(t, 0.5, e, 1 - e / 4) for t, e in zip((1.0, 0.8, 0.5), exits)]
    assert exits_rise(rows(4.0, 2.5, 1.0)) and exits_rise(rows(4.0, 1.0, 1.0))
    assert not exits_rise(rows(1.0, 1.0, 1.0))                  # sure at once at every threshold
    assert not exits_rise(rows(4.0, 1.0, 2.0))                  # falls from θ = 0.5 to 0.8
    assert sweep_columns(rows(4.0, 2.5, 1.0)) == {"threshold": [1.0, 0.8, 0.5], "accuracy": [0.5] * 3,
                                                  "mean_exit": [4.0, 2.5, 1.0], "steps_saved": [0.0, 0.375, 0.75]}
    with pytest.raises(ValueError, match="rows has 1 thresholds; whether exits rise needs at least 2"):
        exits_rise(rows(4.0))


def test_hidden_layer_records_the_readout_input(model, split):
    index = np.array([3, 0, 7])
    recording = record_outputs(model, split, index=index, hidden_layer="linear", show_progress=False)
    assert torch.equal(recording.labels, torch.as_tensor(split.labels[index]))
    x = split.time_major(index)
    state = model.init_state(3)
    with torch.no_grad():
        for t in range(T):
            features, state = model.features(x[t], state)
            assert torch.allclose(recording.hidden[t], features)


def test_mean_until_exit_by_hand():
    per_step = torch.tensor([[1.0, 10.0], [3.0, 20.0], [5.0, 30.0]])  # [T=3, N=2]
    assert torch.allclose(mean_until_exit(per_step, torch.tensor([2, 3])), torch.tensor([2.0, 20.0]))
    features = per_step.unsqueeze(-1).expand(3, 2, 4)
    assert torch.allclose(mean_until_exit(features, torch.tensor([1, 1])), torch.tensor([[1.0] * 4, [10.0] * 4]))
    with pytest.raises(ValueError, match="exit_step must be"):
        mean_until_exit(per_step, torch.tensor([0, 3]))


def test_timed_sweep_measures_both_runs(model, split):
    batches = batches_of(split, 7)
    rows = timed_sweep(model, batches, [0.5, 1.0], repeats=2, show_progress=False)
    assert [r.threshold for r in rows] == [0.5, 1.0]
    assert rows[0].full_spread == rows[1].full_spread  # one measurement of the noise per sweep
    recording = record_outputs(model, split, batch_size=7, show_progress=False)
    assert rows[0].steps_saved == pytest.approx(steps_saved(replay(recording.outputs, SoftmaxConfidence(0.5)).exit_step, T))
    assert rows[1].steps_saved == 0.0
    row = TimedRow(0.8, seconds=3.0, full_seconds=10.0, steps_saved=0.8)
    assert row.time_saved == pytest.approx(0.7) and row.realised == pytest.approx(0.875)


@pytest.mark.parametrize("call, message", [
    (lambda m, s: record_outputs(m, s, hidden_layer="nope", show_progress=False), "hidden_layer='nope' is not a submodule"),
    (lambda m, s: record_outputs(m, s, batch_size=0, show_progress=False), "batch_size=0 must be a positive integer"),
    (lambda m, s: record_outputs(m, s, index=[0, 99], show_progress=False), r"index holds indices from 0 to 99; every index must be in \[0, 21\)"),
    (lambda m, s: timed_sweep(m, batches_of(s, 7), [0.5], repeats=0), "repeats=0 must be a positive integer"),
])
def test_bad_arguments_raise(model, split, call, message):
    with pytest.raises(ValueError, match=message):
        call(model, split)


def test_timed_sweep_on_a_noisy_chip_reports_the_replayed_saving(model, split):
    chip, _ = deploy(model, MemristorConfig(read_noise=0.05), seed=2)
    recording = record_outputs(chip, split, batch_size=6, read_seed=5, show_progress=False)
    threshold = _threshold_inside(recording, 0.5)
    (row,) = timed_sweep(chip, batches_of(split, 6), [threshold], repeats=2, read_seed=5, show_progress=False)
    expected = steps_saved(replay(recording.outputs, SoftmaxConfidence(threshold)).exit_step, T)
    assert 0 < expected and row.steps_saved == pytest.approx(expected)


def test_realised_fraction_is_the_slope_through_the_origin():
    rows = [TimedRow(0.3, 3.0, 10.0, 0.8), TimedRow(0.5, 6.0, 10.0, 0.5), TimedRow(0.9, 10.0, 10.0, 0.0)]
    # time saved 0.7 and 0.4 for steps saved 0.8 and 0.5: slope (0.56 + 0.2) / (0.64 + 0.25)
    assert realised_fraction(rows) == pytest.approx(0.76 / 0.89)
    exact = [TimedRow(t, 10.0 * (1 - s), 10.0, s) for t, s in ((0.3, 0.7), (0.5, 0.4))]
    assert realised_fraction(exact) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="saved steps"):
        realised_fraction([TimedRow(0.9, 10.0, 10.0, 0.0)])
