"""The time-folded path (fused LIF over T, each map once over T x B) equals the step-by-step path."""

import pytest
import torch

from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.inference.evaluate import Batch, run_split
from primekit.snn import draws
from primekit.snn.fused import fusable, lif_pool_sequence, lif_pool_step, lif_sequence
from primekit.snn.models import PRIMENet, software_sources
from primekit.snn.neurons import LIF, PRIME_LIF, VAE_LIF, LIFParameters
from primekit.snn.surrogate import FastSigmoid
from primekit.snn.timeloop import run


@pytest.mark.parametrize("params", [PRIME_LIF, VAE_LIF, LIFParameters(leaky_relu_slope=0.0)])
def test_lif_sequence_equals_stepping_in_value_and_gradient(params):
    generator = torch.Generator().manual_seed(0)
    x = (0.4 * torch.randn(8, 5, 3, 7, 9, generator=generator)).requires_grad_(True)
    weights = torch.randn(8, 5, 3, 7, 9, generator=generator)
    stepped = run(LIF(params), x).outputs
    (stepped * weights).sum().backward()
    expected, x.grad = x.grad.clone(), None
    fused = lif_sequence(x, params)
    (fused * weights).sum().backward()
    assert 0 < stepped.mean() < 1 and torch.equal(fused, stepped)
    assert torch.allclose(x.grad, expected, atol=1e-5 * expected.abs().max())


def test_lif_sequence_names_what_it_cannot_run():
    assert not fusable(LIFParameters(surrogate=FastSigmoid()))
    with pytest.raises(ValueError, match="surrogate=FastSigmoid"):
        lif_sequence(torch.zeros(2, 3), LIFParameters(surrogate=FastSigmoid()))
    with pytest.raises(ValueError, match="dtype=torch.float64"):
        lif_sequence(torch.zeros(2, 3, dtype=torch.float64), PRIME_LIF)


@pytest.fixture(scope="module")
def frames():
    generator = torch.Generator().manual_seed(1)
    return torch.poisson(0.5 * torch.ones(6, 5, 2, 34, 34), generator=generator)


def test_primenet_folded_equals_stepped_in_outputs_and_score_gradients(frames):
    model = PRIMENet(software_sources(seed=4), seed=4)
    assert model.can_fold(frames)
    folded, stepped = model.folded_outputs(frames), run(model, frames).outputs
    assert torch.allclose(folded, stepped, atol=1e-5)
    assert torch.allclose(model.logits(frames), stepped.mean(dim=0), atol=1e-5)
    grads = []
    for outputs in (folded, stepped):
        model.zero_grad()
        outputs.mean(dim=0).square().sum().backward()
        grads.append([getattr(model, n).scores.grad.clone() for n in ("conv0", "conv1", "linear")])
    for a, b in zip(*grads):
        assert b.abs().sum() > 0 and torch.allclose(a, b, atol=1e-5 * b.abs().max())


def test_chips_with_read_noise_run_step_by_step_with_their_keyed_draws(frames):
    model = PRIMENet(software_sources(seed=4), seed=4).eval()
    noisy, _ = deploy(model, MemristorConfig(read_noise=0.05), seed=0)
    quiet, _ = deploy(model, MemristorConfig(read_noise=0.0), seed=0)
    assert not noisy.can_fold(frames) and quiet.can_fold(frames)
    samples = torch.arange(10, 15)
    batch = Batch(frames, torch.zeros(5, dtype=torch.long), samples)
    with torch.no_grad():
        state, expected = noisy.init_state(5), []
        for t in range(frames.shape[0]):
            with draws.keyed(samples, t, 7):
                out, state = noisy.step(frames[t], state)
            expected.append(out)
        assert torch.equal(run_split(noisy, [batch], read_seed=7).outputs, torch.stack(expected))
        with pytest.raises(ValueError, match="can_fold"):
            noisy.folded_outputs(frames)
        assert torch.allclose(quiet.folded_outputs(frames), run_split(quiet, [batch]).outputs, atol=1e-5)


@pytest.mark.parametrize("params", [PRIME_LIF, VAE_LIF])
def test_lif_pool_sequence_equals_lif_then_pool(params):
    generator = torch.Generator().manual_seed(2)
    x = (0.4 * torch.randn(5, 3, 4, 6, 8, generator=generator)).requires_grad_(True)
    weights = torch.randn(5, 3, 4, 3, 4, generator=generator)
    reference = torch.nn.functional.avg_pool2d(run(LIF(params), x).outputs.flatten(0, 1), 2).view(5, 3, 4, 3, 4)
    (reference * weights).sum().backward()
    expected, x.grad = x.grad.clone(), None
    pooled = lif_pool_sequence(x, params)
    (pooled * weights).sum().backward()
    assert torch.equal(pooled, reference)
    assert torch.allclose(x.grad, expected, atol=1e-5 * expected.abs().max())
    with pytest.raises(ValueError, match="even H and W"):
        lif_pool_sequence(torch.zeros(2, 1, 1, 3, 4), params)


def test_inference_steps_are_fused_and_equal_the_autograd_step(frames):
    model = PRIMENet(software_sources(seed=4), seed=4).eval()
    with torch.no_grad():
        fused = run(model, frames).outputs
    plain = run(model, frames).outputs.detach()  # with gradients: lif_step and avg_pool2d
    assert torch.equal(fused, plain)
    with pytest.raises(ValueError, match="no_grad"):
        lif_pool_step(torch.zeros(1, 1, 2, 2, requires_grad=True), None, PRIME_LIF)


@pytest.mark.parametrize("read_noise", [0.0, 0.05])
def test_streaming_early_stop_without_state_copies_equals_samples_one_by_one(frames, read_noise):
    """Samples leave the batch by re-indexing the LIF states (PRIMEState.rows); each still sees its own state and
    its own keyed reads."""
    from primekit.bench import _PresetExits
    model, _ = deploy(PRIMENet(software_sources(seed=4), seed=4).eval(), MemristorConfig(read_noise=read_noise), seed=0)
    exits = torch.tensor([1, 4, 2, 6, 3])
    seen = {}
    batch = Batch(frames, torch.zeros(5, dtype=torch.long), torch.arange(5))
    together = run_split(model, [batch], policy=_PresetExits(exits), read_seed=3,
                         after_step=lambda info: seen.update({(int(s), info.step): o for s, o in
                                                              zip(info.samples, info.output)})).early
    assert torch.equal(together.exit_step, exits)
    for b in range(5):  # each sample alone, all T steps, keyed as sample b: the same outputs up to its exit
        alone = run_split(model, [Batch(frames[:, b:b + 1], torch.zeros(1, dtype=torch.long), torch.tensor([b]))],
                          read_seed=3).outputs[:, 0]
        for t in range(int(exits[b])):
            assert torch.allclose(seen[(b, t)], alone[t], atol=1e-5), (b, t)
        assert together.prediction[b] == alone[exits[b] - 1].argmax()


@pytest.mark.parametrize("params", [PRIME_LIF, VAE_LIF])
def test_fused_inference_step_equals_the_autograd_step_over_several_steps(params):
    from primekit.snn.fused import lif_step_fused
    from primekit.snn.neurons import lif_step

    generator = torch.Generator().manual_seed(5)
    currents = 0.4 * torch.randn(6, 7, 3, 5, generator=generator)
    fused_state = plain_state = None
    fired = 0.0
    for current in currents:
        with torch.no_grad():
            s_fused, fused_state = lif_step_fused(current, fused_state, params)
        s_plain, plain_state = lif_step(current, plain_state, params)
        assert torch.equal(s_fused, s_plain)
        assert torch.allclose(fused_state.v, plain_state.v, atol=1e-7)
        fired += float(s_plain.mean())
    assert 0 < fired / len(currents) < 1  # both branches of the threshold are exercised
    with pytest.raises(ValueError, match="no backward"):
        lif_step_fused(torch.zeros(2, 3, requires_grad=True), None, params)


def test_vae_steps_fused_without_gradients_equal_its_autograd_steps():
    from primekit.snn.vae import SpikingVAE, software_sources

    model = SpikingVAE(software_sources(2), seed=2).eval()
    generator = torch.Generator().manual_seed(3)
    x = (torch.rand(4, 1, 32, 32, generator=generator) * 2 - 1).expand(5, 4, 1, 32, 32)
    with torch.no_grad():
        fused = run(model, x).outputs
    with torch.enable_grad():  # the scores require gradients, so every block takes the autograd step
        plain = run(model, x).outputs.detach()
    assert plain.std() > 0 and torch.allclose(fused, plain, atol=1e-5)


def test_run_split_folds_a_plain_recording_and_steps_when_a_hook_or_policy_needs_steps(frames, monkeypatch):
    model = PRIMENet(software_sources(seed=6), seed=6).eval()
    batch = Batch(frames, torch.zeros(frames.shape[1], dtype=torch.long), torch.arange(frames.shape[1]))
    calls = []
    monkeypatch.setattr(PRIMENet, "folded_outputs", lambda self, x: calls.append(x) or torch.zeros(6, 5, 10))
    assert torch.equal(run_split(model, [batch]).outputs, torch.zeros(6, 5, 10)) and len(calls) == 1
    monkeypatch.undo()
    folded = run_split(model, [batch]).outputs
    handle = model.conv0.register_forward_hook(lambda *args: None)  # e.g. an operation counter
    stepped = run_split(model, [batch]).outputs
    handle.remove()
    assert folded.abs().max() > 0.1 and torch.allclose(folded, stepped, atol=1e-5)
