"""The comparison bench checks values, never timings: the peers run the same network as primekit."""

import pytest
import torch
import torch.nn.functional as F

from primekit import bench_compare
from primekit.snn.models import PRIMENet
from primekit.snn.neurons import LIFParameters
from primekit.snn.timeloop import run
from primekit.snn.weight_sources import FrozenWeights


@pytest.fixture(scope="module")
def setup():
    return bench_compare.make_setup(batch_size=6, timesteps=5, seed=3)


def _primekit_without_leaky_relu(setup):
    model = PRIMENet({n: FrozenWeights(w) for n, w in setup.weights.items()}, setup.keep_ratio,
                     neuron=LIFParameters(leaky_relu_slope=None))
    with torch.no_grad():
        for name, scores in setup.scores.items():
            getattr(model, name).scores.copy_(scores)
    return model


def test_primekit_entry_is_primenet_with_the_setup_scores(setup):
    model, logits = bench_compare.build("primekit", setup)
    assert isinstance(model, PRIMENet)
    assert torch.allclose(logits(setup.x), run(model, setup.x).outputs.mean(dim=0), atol=1e-5)
    for name, scores in setup.scores.items():
        assert torch.equal(getattr(model, name).scores.detach(), scores)


@pytest.mark.skipif(bool(bench_compare.peers_missing()), reason="the optional bench extra is not installed")
@pytest.mark.parametrize("peer", ["snnTorch", "SpikingJelly"])
def test_peers_give_primekits_logits_where_the_neuron_model_allows(setup, peer):
    """Without the LeakyReLU (which neither peer has) the three networks compute the same logits."""
    reference = _primekit_without_leaky_relu(setup)
    expected = run(reference, setup.x).outputs.mean(dim=0)
    model, logits = bench_compare.build(peer, setup)
    got = logits(setup.x)
    assert expected.abs().max() > 0.1  # the network is not silent
    assert torch.allclose(got, expected, atol=1e-5)
    if peer == "SpikingJelly":  # its reset is not detached either: the score gradients agree too
        got.square().sum().backward()
        expected.square().sum().backward()
        for name in setup.scores:
            mine = getattr(reference, name).scores.grad
            assert torch.allclose(getattr(model.masked, f"s_{name}").grad, mine, atol=1e-4 * mine.abs().max())


def test_the_limit_gives_all_three_weights_gradients_and_folding_changes_nothing(setup):
    step, step_logits = bench_compare.build("layers only (step)", setup)
    folded, folded_logits = bench_compare.build("layers only (folded)", setup)
    a, b = step_logits(setup.x), folded_logits(setup.x)
    assert torch.allclose(a, b, atol=1e-5)
    for model, out in ((step, a), (folded, b)):
        F.cross_entropy(out, setup.labels).backward()
        grads = [p.grad for p in model.parameters()]
        assert len(grads) == 3 and all(g is not None and g.abs().sum() > 0 for g in grads)
    for p, q in zip(step.parameters(), folded.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5 * q.grad.abs().max())
    for name, weight in zip(("conv0", "conv1", "linear"), folded.parameters()):  # masks pre-applied
        kept = (weight != 0).float().mean().item()
        assert kept == pytest.approx(setup.keep_ratio, abs=0.01), name


def test_unknown_implementation_is_named():
    with pytest.raises(ValueError, match="name='torch'"):
        bench_compare.build("torch", bench_compare.make_setup(2, 2))


def test_early_stop_rows_check_their_levels():
    with pytest.raises(ValueError, match="mean_exits"):
        bench_compare.early_stop_rows(mean_exits=(0,), timesteps=10)
