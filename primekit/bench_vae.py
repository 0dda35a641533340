"""The inpainting VAE against its own layers-only limit: part of ``python -m primekit bench --compare``.

- ``primekit``: :class:`primekit.snn.vae.SpikingVAE` as :func:`primekit.experiments.inpainting_training.fit_vae`
  trains it (``forward_sequence``: the gradient-free pass that samples the latent inputs, then all T steps
  folded; loss MSE + MMD; AdamW), and inference through the one evaluation path (``run_split``, step by step);
- ``layers only``: the same maps (convolutions, transposed convolutions, linear layers of the encoder, posterior
  and decoder, and in training the prior) with their biases and tdBN, the latent choice of one of ``k``
  sub-neurons, the readout; no LIF neuron, masks pre-applied, every weight trainable. Step by step, the
  posterior reads the previous step's latent; time-folded (which cannot carry that recurrence) it reads zeros,
  the same arithmetic. The faster of the two is the limit.

No peer library is run here: snnTorch and SpikingJelly have no tdBN-normalised spiking VAE to compare like for
like, so the VAE's table has primekit and its limit only.
"""

from __future__ import annotations

import statistics
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from primekit.bench_compare import time_interleaved


def make_vae_setup(batch_size: int = 25, timesteps: int = 16, seed: int = 0):
    """The VAE with software weights from ``seed``, damaged inputs ``[T, B, 1, 32, 32]`` (one random image in
    [-1, 1] per sample, shown at every step, as an expanded view) and clean targets ``[B, 1, 32, 32]``."""
    from primekit.snn.vae import SpikingVAE, software_sources

    model = SpikingVAE(software_sources(seed), seed=seed)
    generator = torch.Generator().manual_seed(seed + 1)
    clean = torch.rand(batch_size, 1, 32, 32, generator=generator) * 2 - 1
    damaged = clean.clone()
    damaged[:, :, 12:20, 12:20] = -1.0
    return model, damaged.unsqueeze(0).expand(timesteps, *damaged.shape), clean


class VAELayersOnly(nn.Module):
    """The VAE's maps, norms, latent choice and readout without neurons (see the module docstring)."""

    def __init__(self, model, folded: bool):
        super().__init__()
        from primekit.snn.vae import DECODER, ENCODER

        self.folded, self.k = folded, model.k
        blocks = [model.encoder[n] for n in ENCODER] + list(model.posterior.blocks)
        self.maps, self.weights, self.biases, self.norms = [], nn.ParameterList(), nn.ParameterList(), nn.ModuleList()
        for block in blocks + list(model.prior.blocks) + [model.decoder[n] for n in DECODER] + [model.out]:
            layer = getattr(block, "layer", block)
            self.maps.append(layer.layer_map)
            self.weights.append(nn.Parameter(layer.effective_weight().detach().clone()))
            self.biases.append(nn.Parameter(layer.bias.detach().clone()))
            norm = getattr(block, "norm", None)
            self.norms.append(nn.Identity() if norm is None else type(norm)(norm.channels, norm.alpha, norm.threshold))
        self.n_encoder, self.n_posterior, self.n_prior = len(ENCODER), len(model.posterior.blocks), len(model.prior.blocks)

    def _layer(self, i: int, x: torch.Tensor) -> torch.Tensor:
        return self.norms[i](self.maps[i](x, self.weights[i], self.biases[i]))

    def _run(self, x: torch.Tensor, z_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Maps for one batch of frames ``[N, 1, 32, 32]``: output membranes, posterior outputs, latents."""
        h = x
        for i in range(self.n_encoder):
            h = self._layer(i, h.flatten(1) if i == self.n_encoder - 1 else h)
        q = torch.cat([h, z_prev], dim=1)
        for i in range(self.n_encoder, self.n_encoder + self.n_posterior):
            q = self._layer(i, q)
        z = q.unflatten(-1, (-1, self.k))[..., 0]  # one sub-neuron per channel: a gather, as the choice
        h = z
        first = self.n_encoder + self.n_posterior + self.n_prior
        for i in range(first, len(self.maps)):
            h = self._layer(i, h)
            if i == first:
                h = h.view(-1, 32, 4, 4)
        return h, q, z

    def _prior(self, z: torch.Tensor) -> torch.Tensor:
        for i in range(self.n_encoder + self.n_posterior, self.n_encoder + self.n_posterior + self.n_prior):
            z = self._layer(i, z)
        return z

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Readout ``[B, 1, 32, 32]``, posterior and prior outputs of frames ``[T, B, 1, 32, 32]``."""
        steps, batch = x.shape[:2]
        if self.folded:
            v, q, z = self._run(x.reshape(steps * batch, *x.shape[2:]), torch.zeros(steps * batch, 128))
            v, q, z = (t.unflatten(0, (steps, batch)) for t in (v, q, z))
        else:
            vs, qs, zs, z_t = [], [], [], torch.zeros(batch, 128)
            for x_t in x:
                v_t, q_t, z_t = self._run(x_t, z_t)
                vs.append(v_t), qs.append(q_t), zs.append(z_t)
            v, q, z = torch.stack(vs), torch.stack(qs), torch.stack(zs)
        p = self._prior(z.flatten(0, 1)).unflatten(0, (steps, batch)) if self.training else q
        weights = 0.8 ** torch.arange(steps - 1, -1, -1, dtype=v.dtype)
        return torch.tanh(torch.einsum("t,tb...->b...", weights, v)), q, p


def _vae_tasks(name: str, model, x: torch.Tensor, clean: torch.Tensor) -> tuple[Callable[[], None], Callable[[], None]]:
    from primekit.experiments.inpainting_training import vae_loss
    from primekit.inference.evaluate import Batch, run_split
    from primekit.snn.vae import LATENT

    if name == "primekit":
        net = model
        generator = torch.Generator().manual_seed(3)

        def train_step():
            net.train()
            choices = torch.randint(0, net.k, (x.shape[0], x.shape[1], LATENT), generator=generator)
            out = net.forward_sequence(x, choices, 0.0, generator)
            vae_loss(out.xhat, clean, out.q, out.p, net.k)["loss"].backward()
            optimizer.step(), optimizer.zero_grad()

        batch = Batch(x, clean, torch.arange(x.shape[1]))

        def inference():
            run_split(net, [batch], keep_outputs=False)
    else:
        net = VAELayersOnly(model, folded=name.endswith("(folded)"))

        def train_step():
            net.train()
            xhat, q, p = net(x)
            loss = F.mse_loss(xhat, clean) + (q.mean(0) - p.mean(0)).pow(2).mean()
            loss.backward()
            optimizer.step(), optimizer.zero_grad()

        def inference():
            net.eval()
            with torch.no_grad():
                net(x)
    optimizer = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    return train_step, inference


def compare_vae(batch_size: int = 25, timesteps: int = 16, repeats: int = 7) -> list[tuple[str, float, float, float, float]]:
    """Rows ``(name, train/s, train x limit, infer/s, infer x limit)`` of primekit's VAE and its layers-only
    variants; ratios are medians of the per-repeat ratios to the faster layers-only variant."""
    from primekit.snn.vae import SpikingVAE, software_sources

    names = ["primekit", "layers only (step)", "layers only (folded)"]
    tasks = {}
    for name in names:  # each gets its own copy: training changes the parameters
        _, x, clean = make_vae_setup(batch_size, timesteps)
        train, infer = _vae_tasks(name, SpikingVAE(software_sources(0), seed=0), x, clean)
        tasks[(name, "train")], tasks[(name, "infer")] = train, infer
    times = time_interleaved(tasks, repeats)
    median = {key: statistics.median(t) for key, t in times.items()}
    limit = {kind: min(names[1:], key=lambda n: median[(n, kind)]) for kind in ("train", "infer")}
    rows = []
    for name in names:
        ratio = {kind: statistics.median(lim / own for lim, own in zip(times[(limit[kind], kind)], times[(name, kind)]))
                 for kind in ("train", "infer")}
        rows.append((name, batch_size / median[(name, "train")], ratio["train"], batch_size / median[(name, "infer")],
                     ratio["infer"]))
    return rows


def vae_report(batch_size: int = 25, timesteps: int = 16, repeats: int = 7) -> str:
    """The VAE's part of ``bench --compare`` as text."""
    lines = [f"inpainting VAE, T = {timesteps}, batch {batch_size}, medians of {repeats} interleaved repeats "
             f"(samples/s; no peer library: see primekit.bench_vae)",
             f"{'implementation':<22} {'train/s':>9} {'x limit':>8} {'infer/s':>9} {'x limit':>8}"]
    for name, train, train_ratio, infer, infer_ratio in compare_vae(batch_size, timesteps, repeats):
        lines.append(f"{name:<22} {train:9.1f} {train_ratio:8.2f} {infer:9.1f} {infer_ratio:8.2f}")
    return "\n".join(lines)
