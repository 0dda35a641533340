"""The spiking VAE of PRIME's inpainting task (a reduced Fully Spiking VAE, FSVAE), one timestep at a time.

Architecture (the authors' ``Pruning_FSVAE``), for a damaged digit ``[B, 1, 32, 32]`` in [-1, 1] shown at every
step; every spiking layer is map (+ bias) -> tdBN (:mod:`primekit.snn.tdbn`) -> LIF
(:data:`~primekit.snn.neurons.VAE_LIF`: ``u = 0.25 u_prev (1 - o_prev) + x``, threshold 0.2):

==============  ================================================  ===================  =======
layer           map                                               output               weights
==============  ================================================  ===================  =======
``enc0..enc2``  conv k3 s2 p1, 1 -> 32 -> 32 -> 32                32x16x16 ... 32x4x4  pruned
``enc_linear``  flatten 512 -> linear 128                         128 spikes (e_t)     pruned
``posterior``   MLP 256 -> 256 -> 512 -> 128 k on [e_t, z_{t-1}]  128 k spikes         trained
``prior``       MLP 128 -> 256 -> 512 -> 128 k on z_{t-1}         128 k spikes         trained
``dec_linear``  linear 128 -> 512, viewed 32x4x4                  spikes               pruned
``dec0..dec2``  transposed conv k3 s2 p1 op1, 32 -> 32            8x8, 16x16, 32x32    pruned
``out``         transposed conv 32 -> 1, k3 s1 p1, no tdBN        membrane V_t         pruned
==============  ================================================  ===================  =======

``z_t`` (128 latent spikes) takes, for every channel, one of its ``k = 20`` posterior sub-neurons chosen
uniformly at random; the draw is keyed by (run seed, this model's ``sample_stream``, sample, step) through
:mod:`primekit.snn.draws`, so a sample's latent path does not depend on its batch and streaming equals replay.
The readout is ``xhat = tanh(A_t)`` with ``A_t = 0.8 A_{t-1} + V_t``, i.e. ``tanh(sum_s 0.8^(t-s) V_s)``: the
output of step t is the image the network gives if stopped at t, and at t = T it is the authors'
``tanh(sum_t 0.8^(T-1-t) V_t)``. (The authors' early exit re-runs the network on the input truncated to t
steps and weights it with the *first* t of the T coefficients, ``0.8^(T-1-s)``, which is ``0.8^(T-t) A_t``:
a readout shrunk by ``0.8^(T-t)`` before the tanh; :mod:`primekit.inference.consistency` offers it.)

Pruned weights are frozen, ``0.003 * N(0, 6.916^2)`` in software (:func:`software_sources`), or the formed
conductances of a chip with its own ``weight_scale``; 50 % kept by trained scores. Biases, tdBN and the
posterior and prior are trained. The prior is needed only by the training loss (it is the model of
``p(z_t | z_<t)``), so :meth:`SpikingVAE.step` does not run it.

Departures from the authors' code, all deliberate:

- training samples ``z_{<t}`` (the posterior's inputs) in a first, gradient-free pass whose tdBN uses the
  running statistics, and so does the prior's scheduled-sampling pass; the authors re-run the MLP on every
  prefix with prefix batch statistics (and so update the running statistics T - 1 extra times per batch). The
  second, differentiable pass is theirs: all T steps folded, batch statistics, the same sub-neuron choices, and
  as theirs it may pick a different ``z_t`` than the first pass did where the two normalisations differ;
- the LIF surrogate gradient is centred at the threshold (theirs at 0, see :data:`~primekit.snn.neurons.VAE_LIF`);
- the encoder's first conv and its tdBN run once per image when the input is the same at every step (an
  expanded tensor); the tdBN's statistics are then those over batch, space and time exactly, except that
  its running variance's unbiased correction uses ``B H W`` values instead of ``T B H W``.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple

import torch
from torch import nn

from primekit.checks import check_instance
from primekit.seeding import derive_seed
from primekit.snn import draws
from primekit.snn.neurons import VAE_LIF, LIFParameters
from primekit.snn.subnet import SubnetConv2d, SubnetConvTranspose2d, SubnetLinear, init_scores
from primekit.snn.tdbn import TDBatchNorm
from primekit.snn.timeloop import StepModule
from primekit.snn.vae_blocks import SpikingBlock, SpikingMLP, choose, init_bias, lif_sequence
from primekit.snn.weight_sources import GaussianWeights, TrainableWeights, WeightSource

LATENT, HIDDEN, K = 128, 32, 20
#: The authors' frozen-weight distribution for the VAE: ``0.003 * N(0, 6.91593^2)``.
VAE_STD, VAE_SCALE = 6.91593, 0.003
#: Retention of the readout's leaky accumulator (the authors' coefficients ``0.8^(T-1-t)``).
READOUT_RETENTION = 0.8
#: Weight shapes of the pruned layers (transposed convs in torch's ``[in, out, k, k]`` layout).
PRUNED_SHAPES = {
    "enc0": (HIDDEN, 1, 3, 3), "enc1": (HIDDEN, HIDDEN, 3, 3), "enc2": (HIDDEN, HIDDEN, 3, 3),
    "enc_linear": (LATENT, HIDDEN * 16), "dec_linear": (HIDDEN * 16, LATENT),
    "dec0": (HIDDEN, HIDDEN, 3, 3), "dec1": (HIDDEN, HIDDEN, 3, 3), "dec2": (HIDDEN, HIDDEN, 3, 3),
    "out": (HIDDEN, 1, 3, 3),
}
ENCODER, DECODER = ("enc0", "enc1", "enc2", "enc_linear"), ("dec_linear", "dec0", "dec1", "dec2")


class VAEState(NamedTuple):
    """The VAE's state (batch first). ``enc``, ``post``, ``dec``: LIF states of the encoder's four, the
    posterior's three and the decoder's four spiking layers; ``z``: the last latent spikes ``[B, 128]``;
    ``readout``: the leaky accumulator ``A_t`` ``[B, 1, 32, 32]``; ``steps``: steps taken ``[B]``."""

    enc: tuple
    post: tuple
    dec: tuple
    z: torch.Tensor | None
    readout: torch.Tensor | None
    steps: torch.Tensor


class VAEOutput(NamedTuple):
    """A folded pass over T steps: the readout ``xhat`` ``[B, 1, 32, 32]``, posterior and prior spikes
    ``q``, ``p`` ``[T, B, 128 k]``, latent spikes ``z`` ``[T, B, 128]``, output membranes ``v`` ``[T, B, 1, 32, 32]``."""

    xhat: torch.Tensor
    q: torch.Tensor
    p: torch.Tensor
    z: torch.Tensor
    v: torch.Tensor


def _fan_in(name: str, shape) -> int:
    return math.prod(shape[1:])


def software_sources(seed: int = 0) -> dict[str, WeightSource]:
    """Frozen software random weights ``0.003 * N(0, 6.916^2)`` per pruned layer (one child seed each)."""
    return {name: GaussianWeights(shape, VAE_STD, VAE_SCALE, derive_seed(seed, "vae-weights", name))
            for name, shape in PRUNED_SHAPES.items()}


def trainable_sources(seed: int = 0) -> dict[str, WeightSource]:
    """Trainable weights, Kaiming-uniform (a = sqrt(5)) as torch's layers: the weight-tuning baseline."""
    return {name: TrainableWeights(init_scores(shape, derive_seed(seed, "vae-weights", name)))
            for name, shape in PRUNED_SHAPES.items()}


class SpikingVAE(StepModule):
    """The inpainting VAE (see the module docstring).

    Args:
        sources: a weight source per pruned layer (:data:`PRUNED_SHAPES`).
        keep_ratio: fraction of weights kept in every pruned layer (1.0: no mask, weight tuning).
        k: sub-neurons per latent channel.
        neuron: LIF parameters of every spiking layer.
        seed: seed of the scores, biases and the posterior and prior weights; ``sample_stream``, the key of the
            latent choices in :mod:`primekit.snn.draws`, is derived from it.
    """

    def __init__(self, sources: dict[str, WeightSource], keep_ratio: float = 0.5, k: int = K,
                 neuron: LIFParameters = VAE_LIF, seed: int = 0):
        super().__init__()
        check_instance("sources", sources, Mapping, "a mapping from layer name to weight source")
        missing = set(PRUNED_SHAPES) - set(sources)
        if missing:
            raise ValueError(f"sources lacks layers {sorted(missing)}; give one for each of {list(PRUNED_SHAPES)}")
        for name, shape in PRUNED_SHAPES.items():
            if tuple(sources[name].shape) != shape:
                raise ValueError(f"sources[{name!r}] has shape {tuple(sources[name].shape)}, the layer needs {shape}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k={k!r} must be a positive integer (sub-neurons per latent channel)")
        self.k, self.neuron, self.keep_ratio = k, neuron, keep_ratio
        self.sample_stream = derive_seed(seed, "vae-latent-choice")

        def layer(name):
            shape = PRUNED_SHAPES[name]
            out = shape[1] if name.startswith("dec") and name != "dec_linear" or name == "out" else shape[0]
            options = dict(bias=init_bias(out, _fan_in(name, shape), derive_seed(seed, "vae-bias", name)))
            score_seed = derive_seed(seed, "vae-scores", name)
            if name.startswith("enc") and name != "enc_linear":
                return SubnetConv2d(sources[name], keep_ratio, score_seed, stride=2, padding=1, **options)
            if name in ("dec0", "dec1", "dec2"):
                return SubnetConvTranspose2d(sources[name], keep_ratio, score_seed, stride=2, padding=1,
                                             output_padding=1, **options)
            if name == "out":
                return SubnetConvTranspose2d(sources[name], keep_ratio, score_seed, stride=1, padding=1, **options)
            return SubnetLinear(sources[name], keep_ratio, score_seed, **options)

        def block(name):
            lay = layer(name)
            return SpikingBlock(lay, TDBatchNorm(lay.out_features, 1.0, neuron.threshold), neuron)

        self.encoder = nn.ModuleDict({name: block(name) for name in ENCODER})
        self.posterior = SpikingMLP((2 * LATENT, 2 * LATENT, 4 * LATENT, LATENT * k),
                                    derive_seed(seed, "vae-posterior"), neuron=neuron)
        self.prior = SpikingMLP((LATENT, 2 * LATENT, 4 * LATENT, LATENT * k), derive_seed(seed, "vae-prior"),
                                neuron=neuron)
        self.decoder = nn.ModuleDict({name: block(name) for name in DECODER})
        self.out = layer("out")

    # ----------------------------------------------------------------------------------------------- parts
    def pruned_layers(self) -> dict[str, nn.Module]:
        """The pruned layers by module name (those a chip holds: :func:`primekit.chip.deploy.deploy` ``only=``)."""
        names = {f"encoder.{n}.layer" for n in ENCODER} | {f"decoder.{n}.layer" for n in DECODER} | {"out"}
        return {name: m for name, m in self.named_modules() if name in names}

    def count_roles(self) -> dict[str, dict]:
        """What follows each subnet layer, for :mod:`primekit.energy.counts` (``LayerRole`` fields): tdBN and LIF
        after every layer but ``out``, whose membrane feeds the readout's leaky accumulator (an integrator)."""
        from primekit.snn.subnet import SubnetLayer

        return {name: ({"neuron": "integrator"} if name == "out" else {"neuron": "lif", "norm": True})
                for name, m in self.named_modules() if isinstance(m, SubnetLayer)}

    def choices(self, batch: int, step: int) -> torch.Tensor:
        """The sub-neuron index of every latent channel at ``step``, ``[B, 128]`` in ``[0, k)``: keyed draws
        (the evaluation path's keys; outside it the batch positions and ``step``)."""
        keys = draws.current_keys()
        keys = draws.fallback_keys(batch, step) if keys is None else draws.DrawKeys(keys.samples, step, keys.seed)
        u = draws.uniform((LATENT,), self.sample_stream, keys)  # drawn on the CPU, keyed: the same on any device
        return (u * self.k).long().clamp_(max=self.k - 1).to(self.device)

    def _encode_step(self, x_t, states, running=False):
        h, new = x_t, []
        for name, state in zip(ENCODER, states):
            if name == "enc_linear":
                h = h.flatten(1)
            h, state = self.encoder[name].step(h, state, running)
            new.append(state)
        return h, tuple(new)

    def _decode_step(self, z, states):
        h, new = z, []
        for name, state in zip(DECODER, states):
            h, state = self.decoder[name].step(h, state)
            new.append(state)
            if name == "dec_linear":
                h = h.view(-1, HIDDEN, 4, 4)
        return self.out(h), tuple(new)

    # ------------------------------------------------------------------------------------- per-step contract
    def init_state(self, batch_size: int) -> VAEState:
        return VAEState((None,) * 4, (None,) * 3, (None,) * 4, None, None,
                        torch.zeros(batch_size, dtype=torch.long))

    def step(self, x_t: torch.Tensor, state: VAEState) -> tuple[torch.Tensor, VAEState]:
        """One step: damaged digit ``[B, 1, 32, 32]`` -> the readout ``tanh(A_t)`` ``[B, 1, 32, 32]``."""
        if x_t.dim() != 4 or tuple(x_t.shape[1:]) != (1, 32, 32):
            raise ValueError(f"x_t must be one frame per sample, [B, 1, 32, 32]; got {tuple(x_t.shape)}")
        batch = x_t.shape[0]
        e, enc = self._encode_step(x_t, state.enc)
        z_prev = torch.zeros(batch, LATENT, dtype=x_t.dtype, device=x_t.device) if state.z is None else state.z
        q, post = self.posterior.step(torch.cat([e, z_prev], dim=1), state.post)
        step = int(state.steps[0]) if batch else 0
        z = choose(q, self.choices(batch, step), self.k)
        v, dec = self._decode_step(z, state.dec)
        readout = v if state.readout is None else READOUT_RETENTION * state.readout + v
        return torch.tanh(readout), VAEState(enc, post, dec, z, readout, state.steps + 1)

    # ------------------------------------------------------------------------------- folded (training) pass
    def encode_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder spikes ``e`` ``[T, B, 128]`` for inputs ``[T, B, 1, 32, 32]``, folded over time. An input that is
        the same at every step as an expanded view (stride 0 in time) has its first conv and tdBN computed once."""
        steps, batch = x.shape[:2]
        first = self.encoder["enc0"]
        if x.stride(0) == 0 and steps > 1:
            current = first.current(x[0])
            h = lif_sequence(current.unsqueeze(0).expand(steps, *current.shape), first.neuron)
        else:
            h = first.sequence(x)
        for name in ENCODER[1:]:
            if name == "enc_linear":
                h = h.flatten(2)
            h = self.encoder[name].sequence(h)
        return h

    def forward_sequence(self, x: torch.Tensor, choices: torch.Tensor | None = None, scheduled_p: float = 0.0,
                         generator: torch.Generator | None = None) -> VAEOutput:
        """All T steps folded into the batch (training; in eval mode equal to T calls of :meth:`step`).

        Args:
            x: inputs ``[T, B, 1, 32, 32]``.
            choices: sub-neuron choices ``[T, B, 128]``; None draws them as :meth:`step` does.
            scheduled_p: probability, per batch and step t >= 5, that the prior's input at t + 1 is the prior's
                own prediction (mean of its k sub-neurons > 0.5) instead of the posterior's sample (the authors'
                scheduled sampling; training mode only).
            generator: the source of the scheduled-sampling coin flips and tie-breaking noise.
        """
        steps, batch = x.shape[:2]
        if choices is None:
            choices = torch.stack([self.choices(batch, t) for t in range(steps)])
        e = self.encode_sequence(x)
        with torch.no_grad():  # pass 1: the latent inputs z_<t, step by step with the running statistics
            states, z_prev, inputs = (None,) * 3, torch.zeros(batch, LATENT, dtype=x.dtype, device=x.device), []
            for t in range(steps):
                inputs.append(z_prev)
                q_t, states = self.posterior.step(torch.cat([e[t].detach(), z_prev], 1), states, running=True)
                z_prev = choose(q_t, choices[t], self.k)
        q = self.posterior.sequence(torch.cat([e, torch.stack(inputs)], dim=2))
        z = choose(q, choices, self.k)
        prior_in = torch.cat([torch.zeros_like(z[:1]), z[:-1]]).detach()
        if self.training and scheduled_p > 0:
            prior_in = self._scheduled(prior_in, scheduled_p, generator)
        p = self.prior.sequence(prior_in)
        h = self.decoder["dec_linear"].sequence(z).unflatten(2, (HIDDEN, 4, 4))
        for name in DECODER[1:]:
            h = self.decoder[name].sequence(h)
        v = self.out(h.flatten(0, 1)).unflatten(0, (steps, batch))
        weights = READOUT_RETENTION ** torch.arange(steps - 1, -1, -1, dtype=v.dtype, device=v.device)
        xhat = torch.tanh(torch.einsum("t,tb...->b...", weights, v))
        return VAEOutput(xhat, q, p, z, v)

    @torch.no_grad()
    def _scheduled(self, prior_in: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
        prior_in, states = prior_in.clone(), (None,) * 3
        for t in range(prior_in.shape[0] - 1):
            out, states = self.prior.step(prior_in[t], states, running=True)
            if t >= 5 and torch.rand((), generator=generator).item() < p:
                rate = out.unflatten(-1, (-1, self.k)).mean(-1)
                noise = 1e-3 * torch.randn(rate.shape, generator=generator).to(rate.device)
                prior_in[t + 1] = (rate + noise > 0.5).to(prior_in.dtype)
        return prior_in
