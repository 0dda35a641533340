"""The VAE's layers-only limit computes the VAE's maps with the VAE's own weights."""

import pytest
import torch
import torch.nn.functional as F

from primekit import bench_vae
from primekit.snn.vae import SpikingVAE, software_sources


def test_the_vae_limit_holds_the_effective_weights_and_every_one_gets_a_gradient():
    model, x, clean = bench_vae.make_vae_setup(batch_size=3, timesteps=2)
    limit = bench_vae.VAELayersOnly(model, folded=True)
    # 9 pruned layers, 3 posterior and 3 prior layers
    assert len(limit.weights) == 15
    assert torch.equal(limit.weights[0], model.encoder["enc0"].layer.effective_weight())
    assert torch.equal(limit.weights[-1], model.out.effective_weight())
    kept = float((limit.weights[1] != 0).float().mean())
    assert abs(kept - model.keep_ratio) < 0.01  # masks pre-applied
    xhat, q, p = limit.train()(x)
    assert xhat.shape == clean.shape and q.shape == p.shape == (2, 3, 128 * model.k)
    (F.mse_loss(xhat, clean) + (q.mean(0) - p.mean(0)).pow(2).mean()).backward()
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in limit.weights)


def test_step_and_folded_limits_agree_on_the_first_step():
    """Folded, the posterior reads zeros where step by step it reads the last latent: at T = 1 both read zeros."""
    model, x, _ = bench_vae.make_vae_setup(batch_size=3, timesteps=1)
    step, folded = (bench_vae.VAELayersOnly(model, folded=f).eval() for f in (False, True))
    with torch.no_grad():
        assert torch.allclose(step(x)[0], folded(x)[0], atol=1e-6)


def test_compare_vae_rows_are_ratios_to_the_faster_limit():
    rows = bench_vae.compare_vae(batch_size=2, timesteps=2, repeats=1)
    assert [r[0] for r in rows] == ["primekit", "layers only (step)", "layers only (folded)"]
    for kind in (2, 4):
        assert max(rows[1][kind], rows[2][kind]) == 1.0  # the limit's ratio to itself


def test_compare_vae_rows_by_hand_from_given_timings(monkeypatch):
    """Rates are batch / median time; ratios the median per-repeat ratio to the faster layers-only variant."""
    times = {("primekit", "train"): [2.0, 4.0, 3.0], ("layers only (step)", "train"): [1.0, 1.0, 1.0],
             ("layers only (folded)", "train"): [0.5, 1.0, 0.8], ("primekit", "infer"): [1.0, 1.0, 1.0],
             ("layers only (step)", "infer"): [0.5, 0.25, 0.5], ("layers only (folded)", "infer"): [1.0, 1.0, 1.0]}
    monkeypatch.setattr(bench_vae, "time_interleaved", lambda tasks, repeats: times)
    rows = bench_vae.compare_vae(batch_size=2, timesteps=1, repeats=3)
    # train: folded (median 0.8) beats step (1.0); primekit's ratios 0.25, 0.25, 0.8 / 3 -> median 0.25
    # infer: step (median 0.5) is the limit; primekit's ratios 0.5, 0.25, 0.5 -> 0.5
    assert rows[0] == ("primekit", pytest.approx(2 / 3), pytest.approx(0.25), pytest.approx(2.0), pytest.approx(0.5))
    assert rows[1] == ("layers only (step)", pytest.approx(2.0), pytest.approx(0.8), pytest.approx(4.0), 1.0)
    assert rows[2] == ("layers only (folded)", pytest.approx(2.5), 1.0, pytest.approx(2.0), pytest.approx(0.5))
