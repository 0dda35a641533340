"""Weight sources and running a model on the simulated chip without changing its code."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import primekit
from primekit.chip import memristor
from primekit.chip.deploy import ChipWeights, deploy, reseed_reads
from primekit.chip.memristor import MemristorConfig
from primekit.snn.timeloop import StepModule
from primekit.snn.weight_sources import GaussianWeights, LayerMap, TrainableWeights

CONFIG = MemristorConfig()


class MaskedLinear(StepModule):
    """A minimal layer in the style of the subnet layers: weights from a source, an optional keep mask."""

    def __init__(self, source, keep=None):
        super().__init__()
        self.weight_source = source
        self.register_buffer("keep", keep)

    def keep_mask(self):
        return self.keep

    def effective_weight(self):
        w = self.weight_source.read()
        if self.keep is not None and not self.weight_source.includes_pruning:
            w = w * self.keep
        return w

    def init_state(self, batch_size):
        return None

    def step(self, x_t, state):  # the source applies the map (a chip adds its read noise)
        mask = None if self.keep is None or self.weight_source.includes_pruning else self.keep
        return self.weight_source.apply(x_t, LayerMap("linear"), mask), state


def test_gaussian_weights_have_the_paper_spread_and_are_frozen():
    source = GaussianWeights((400, 500), seed=1)
    n = source.weight.numel()
    assert abs(source.weight.std().item() - 0.06352) < 5 * 0.06352 / math.sqrt(2 * n)
    assert not any(p.requires_grad for p in source.parameters())
    assert torch.equal(source.read(), GaussianWeights((400, 500), seed=1).read())


def test_deploy_without_noise_or_pruning_reproduces_the_software_layer():
    layer = MaskedLinear(GaussianWeights((6, 8), seed=2))
    x = torch.rand(4, 3, 8)
    chip, report = deploy(layer, CONFIG, seed=0)
    assert report.clipped_cells[""] == 0 and report.reset_pairs[""] == 0 and report.pairs[""] == 48
    assert isinstance(chip.weight_source, ChipWeights)
    assert isinstance(layer.weight_source, GaussianWeights)  # the original is untouched
    assert torch.allclose(chip.run(x).outputs, layer.run(x).outputs, atol=1e-6)


def test_deployed_pruned_pairs_hold_the_reset_residual():
    pairs = memristor.form((6, 8), CONFIG, seed=3)
    keep = torch.rand(6, 8, generator=primekit.make_generator(0)) > 0.5
    layer = MaskedLinear(ChipWeights(pairs, CONFIG), keep)
    chip, report = deploy(layer, CONFIG, seed=1)
    assert report.reset_pairs[""] == int((~keep).sum())
    w_chip = chip.effective_weight()
    assert torch.equal(w_chip[keep], layer.effective_weight()[keep])  # formed conductances kept as they are
    residual = w_chip[~keep]
    assert (residual != 0).all() and residual.abs().max() < 6 * math.sqrt(2) * CONFIG.g_reset_spread_us * 0.01
    assert chip.weight_source.includes_pruning


def test_read_noise_is_redrawn_every_step_and_reproducible_after_reseeding():
    layer = MaskedLinear(GaussianWeights((5, 5), seed=4))
    chip, _ = deploy(layer, CONFIG.with_noise(read=0.05), seed=2)
    x = torch.ones(3, 1, 5).expand(3, 1, 5).contiguous()
    first = chip.run(x).outputs
    assert not torch.equal(first[0], first[1])  # same input, two timesteps: two different reads
    reseed_reads(chip, 7)
    a = chip.run(x).outputs
    reseed_reads(chip, 7)
    assert torch.equal(a, chip.run(x).outputs)


def test_programming_noise_is_fixed_per_chip_seed():
    layer = MaskedLinear(GaussianWeights((50, 40), seed=5))
    noisy = CONFIG.with_noise(programming=0.1)
    a, _ = deploy(layer, noisy, seed=3)
    b, _ = deploy(layer, noisy, seed=3)
    c, _ = deploy(layer, noisy, seed=4)
    assert torch.equal(a.effective_weight(), b.effective_weight())
    assert not torch.equal(a.effective_weight(), c.effective_weight())
    assert torch.equal(a.effective_weight(), a.effective_weight())  # no read noise: every read the same


def test_weight_tuned_weights_are_mapped_and_clipping_is_reported():
    initial = torch.tensor([[0.1, -0.1], [0.5, 0.0]])  # 0.5 needs 45 uS: beyond the 40 uS range
    layer = MaskedLinear(TrainableWeights(initial))
    chip, report = deploy(layer, CONFIG, seed=0)
    assert report.clipped_cells[""] == 2
    w = chip.effective_weight()
    assert torch.allclose(w[0], initial[0], atol=1e-6)
    assert w[1, 0].item() == pytest.approx(0.4, abs=1e-6)  # clipped to (40 - 0) uS x 0.01


def test_deploy_needs_a_layer_with_a_weight_source():
    with pytest.raises(ValueError, match="no layer with a weight_source"):
        deploy(nn.Linear(2, 2), CONFIG)
