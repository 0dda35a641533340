"""Inpainting inference by value: the consistency stop, re-run vs streaming, streaming = replay on a chip, metrics,
the MNIST IS and operation counts of transposed convolutions."""

import math

import pytest
import torch

from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.inference.consistency import ConsistencyStop, RerunVAE, consistency_scores
from primekit.inference.early_stop import replay
from primekit.inference.evaluate import Batch, run_split
from primekit.inference.inception import inception_score
from primekit.inference.inpainting_metrics import reconstruction_losses
from primekit.snn.timeloop import run
from tests.test_inpainting_model import calibrated_vae


def constant_images(levels):
    """Recorded reconstructions ``[T, B, 1, 10, 10]``: sample b at step t is the constant ``levels[b][t]``, so with
    100 pixels ``d_t = |levels[t] - levels[t-1]|`` exactly (dyadic values)."""
    values = torch.tensor(levels, dtype=torch.float32).T  # [T, B]
    return values[:, :, None, None, None].expand(*values.shape, 1, 10, 10).contiguous()


def test_consistency_stop_on_hand_sequences():
    outputs = constant_images([
        [0.5, 0.75, 0.875, 0.9375, 0.96875, 1.0],       # d = .5, .25, .125: stops at t = 3
        [0.5, 0.625, 0.75, 0.8125, 0.84375, 0.859375],  # d = .5, .125, .125 (tie), .0625, .03125: stops at t = 5
        [0.25, 0.5, 0.75, 1.0, 0.75, 0.5],              # d = .25 every step: ties, never stops -> T
        [0.5, 0.75, 0.875, 0.9375, 0.96875, 1.0],       # as the first, but eps below every d_t: never stops
    ])
    d = consistency_scores(outputs)
    assert torch.allclose(d[:, 0], torch.tensor([0.5, 0.25, 0.125, 0.0625, 0.03125, 0.03125]))
    result = replay(outputs[:, :3], ConsistencyStop(eps=0.2))
    assert result.exit_step.tolist() == [3, 5, 6]
    assert torch.equal(result.prediction[0], outputs[2, 0]) and torch.equal(result.prediction[1], outputs[4, 1])
    assert result.confidence[0] == pytest.approx(0.125)
    assert replay(outputs[:, 3:], ConsistencyStop(eps=0.01)).exit_step.tolist() == [6]
    assert replay(outputs[:, :1], ConsistencyStop(eps=0.2, min_step=4)).exit_step.tolist() == [4]


def test_consistency_stop_rejects_bad_parameters():
    with pytest.raises(ValueError, match="eps"):
        ConsistencyStop(eps=0)
    with pytest.raises(ValueError, match="min_step"):
        ConsistencyStop(min_step=2)
    with pytest.raises(ValueError, match="scale"):
        ConsistencyStop(scale=-1)
    with pytest.raises(ValueError, match="outputs"):
        consistency_scores(torch.zeros(3))


def test_inception_score_of_hand_predictions():
    identical = torch.zeros(20, 10)
    identical[:, 3] = 1
    assert inception_score(identical) == pytest.approx(1.0)
    ten = torch.eye(10).repeat(3, 1)
    assert inception_score(ten) == pytest.approx(10.0)
    assert inception_score(torch.full((5, 10), 0.1)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="probabilities"):
        inception_score(torch.ones(3, 10))


def test_reconstruction_losses_whole_and_damaged():
    clean = -torch.ones(2, 1, 32, 32)
    images = clean.clone()
    images[0, 0, 12:20, 12:20] = 1.0  # error 4 on the 64 damaged pixels
    losses = reconstruction_losses(images, clean)
    assert losses["damaged"].tolist() == [4.0, 0.0]
    assert losses["whole"][0].item() == pytest.approx(4.0 * 64 / 1024)
    with pytest.raises(ValueError, match="images"):
        reconstruction_losses(images[:, :, :28], clean)


@pytest.fixture(scope="module")
def vae():
    return calibrated_vae(seed=1)


def damaged_inputs(batch=4, steps=6, seed=3):
    images = torch.rand(batch, 1, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    images[:, :, 12:20, 12:20] = -1
    return images.expand(steps, *images.shape).contiguous()


def test_rerun_agrees_with_streaming_where_it_must(vae):
    x = damaged_inputs(batch=2, steps=4)
    batch = [Batch(x, torch.zeros(2, dtype=torch.long), torch.arange(2))]
    streaming = run_split(vae, batch).outputs
    rerun = run_split(RerunVAE(vae, 4, redraw=False, truncated_readout=False), batch).outputs
    assert torch.allclose(rerun, streaming, atol=1e-6)  # same draws, same readout: the same images at every step
    truncated = run_split(RerunVAE(vae, 4, redraw=False), batch).outputs
    assert torch.allclose(truncated[-1], streaming[-1], atol=1e-6)  # at t = T the readouts agree
    accumulator = torch.atanh(streaming[1].clamp(-0.999999, 0.999999))
    assert torch.allclose(truncated[1], torch.tanh(0.8 ** (4 - 2) * accumulator), atol=1e-4)  # 0.8^(T-t) A_t
    redrawn = run_split(RerunVAE(vae, 4, truncated_readout=False), batch).outputs
    assert not torch.allclose(redrawn, streaming), "re-runs with fresh latent choices should differ"


def test_streaming_early_stop_equals_replay_under_chip_read_noise(vae):
    device = MemristorConfig(weight_scale=0.003, read_noise=0.05)
    chip, report = deploy(vae, device, seed=2, only=vae.pruned_layers())
    assert set(report.pairs) == set(vae.pruned_layers())
    x = damaged_inputs(batch=5, steps=8, seed=4)
    labels = torch.zeros(5, dtype=torch.long)
    recorded = run_split(chip, [Batch(x, labels, torch.arange(5))], read_seed=9).outputs
    for eps in sorted(set(consistency_scores(recorded)[2:].flatten().tolist())):  # an eps where exits differ
        policy = ConsistencyStop(eps=eps * 1.0001)
        expected = replay(recorded, policy)
        if len(set(expected.exit_step.tolist())) > 1:
            break
    batches = [Batch(x[:, :3], labels[:3], torch.arange(3)), Batch(x[:, 3:], labels[3:], torch.arange(3, 5))]
    streamed = run_split(chip, batches, policy=policy, read_seed=9).early
    assert torch.equal(streamed.exit_step, expected.exit_step)
    assert torch.allclose(streamed.prediction, expected.prediction)
    assert streamed.steps_run == int(expected.exit_step.sum())
    assert len(set(expected.exit_step.tolist())) > 1, "the test needs samples leaving at different steps"
    with pytest.raises(ValueError, match="only"):
        deploy(vae, device, only=["posterior.nonexistent"])


def test_counts_of_a_transposed_convolution():
    from primekit.energy.counts import count_operations
    from primekit.energy.count_records import KINDS
    from primekit.snn.subnet import SubnetConvTranspose2d
    from primekit.snn.timeloop import StepModule
    from primekit.snn.weight_sources import GaussianWeights

    class OneLayer(StepModule):
        def __init__(self):
            super().__init__()
            self.layer = SubnetConvTranspose2d(GaussianWeights((2, 3, 3, 3), seed=0), keep_ratio=1.0, stride=2,
                                               padding=1, output_padding=1, bias=True)

        def init_state(self, batch_size):
            return None

        def step(self, x_t, state):
            return self.layer(x_t), state

    x = torch.zeros(1, 1, 2, 4, 4)
    x[0, 0, 0, 1, 1] = 1.0  # one interior spike: it reaches 3 x 3 outputs of each of 3 channels
    _, counts = count_operations(OneLayer(), x)
    got = dict(zip(KINDS, counts.counts[0, 0, 0].tolist()))
    assert got["synaptic_ops"] == 27 and got["spike_ops"] == 27
    assert got["row_activations"] == 9   # 9 output positions each see the spike on one row
    assert got["conversions"] == 8 * 8 * 3 and got["bias_adds"] == 3 * 8 * 8
    assert got["conversions_nonempty"] == 9 * 3
    # dense scatter: every input element times its channel's 27 weights, minus outputs cropped by padding
    full = torch.nn.functional.conv_transpose2d(torch.ones(1, 2, 4, 4), torch.ones(2, 3, 3, 3), stride=2, padding=1,
                                                output_padding=1).sum().item()
    assert got["dense_macs"] == full
    assert math.isclose(got["neuron_updates"], 3 * 64)


def test_run_matches_run_split_for_the_vae(vae):
    x = damaged_inputs(batch=2, steps=3)
    assert torch.allclose(run(vae, x).outputs, run_split(vae, [(x, torch.zeros(2, dtype=torch.long))]).outputs)
