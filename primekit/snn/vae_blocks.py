"""Building blocks of the spiking VAE: spiking layers (map -> tdBN -> LIF), spiking MLPs, the latent choice,
the PSP filter and the loss.

A *spiking block* is a weight-source layer (:mod:`primekit.snn.subnet`, with a bias), a
:class:`~primekit.snn.tdbn.TDBatchNorm` and a LIF population (:data:`primekit.snn.neurons.VAE_LIF`:
``u = 0.25 u_prev (1 - o_prev) + x``, threshold 0.2). It runs either one step (``[B, ...]``, tdBN with its
running statistics) or all T steps folded into the batch (``[T, B, ...]``: one map and one tdBN over the
``T x B`` inputs, then the LIF's T steps), which is how the VAE trains.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from primekit.seeding import derive_seed, make_generator
from primekit.snn import fused
from primekit.snn.neurons import VAE_LIF, LIFParameters, LIFState, lif_step
from primekit.snn.subnet import SubnetLayer, SubnetLinear, init_scores
from primekit.snn.tdbn import TDBatchNorm
from primekit.snn.weight_sources import TrainableWeights

#: PSP filter time constant (steps) of the authors' loss: ``y_t = y_{t-1} + (u_t - y_{t-1}) / 2``.
PSP_TAU = 2.0


def init_bias(out_features: int, fan_in: int, seed: int) -> torch.Tensor:
    """torch's default bias initialisation, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, from ``seed``."""
    bound = 1.0 / math.sqrt(fan_in)
    return torch.empty(out_features).uniform_(-bound, bound, generator=make_generator(seed))


def lif_sequence(currents: torch.Tensor, neuron: LIFParameters = VAE_LIF) -> torch.Tensor:
    """Spikes ``[T, B, ...]`` of a fresh LIF population driven by ``currents`` ``[T, B, ...]`` (one fused kernel
    per direction where :func:`primekit.snn.fused.fusable`, else step by step)."""
    if fused.fusable(neuron, currents):
        return fused.lif_sequence(currents, neuron)
    state, spikes = None, []
    for current in currents:
        s, state = lif_step(current, state, neuron)
        spikes.append(s)
    return torch.stack(spikes)


class SpikingBlock(nn.Module):
    """``layer`` (a subnet layer with bias) -> tdBN -> LIF.

    Args:
        layer: the map (conv, transposed conv or linear) over a weight source.
        norm: its tdBN.
        neuron: the LIF parameters.
    """

    def __init__(self, layer: SubnetLayer, norm: TDBatchNorm, neuron: LIFParameters = VAE_LIF):
        super().__init__()
        if not isinstance(layer, SubnetLayer):
            raise ValueError(f"layer must be a primekit SubnetLayer, got {type(layer).__name__}")
        self.layer, self.norm, self.neuron = layer, norm, neuron

    def current(self, x: torch.Tensor, running: bool = False) -> torch.Tensor:
        """The normalised input current of the neurons for inputs ``[N, ...]`` (``running``: use the running
        statistics even in training mode, without updating them)."""
        return self.norm(self.layer(x), running)

    def step(self, x: torch.Tensor, state: LIFState | None, running: bool = False):
        """One step: ``[B, ...]`` -> spikes ``[B, ...]`` and the LIF state (fused without gradients)."""
        current = self.current(x, running)
        if not torch.is_grad_enabled() and fused.fusable(self.neuron, current):
            return fused.lif_step_fused(current, state, self.neuron)
        return lif_step(current, state, self.neuron)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """All steps at once: ``[T, B, ...]`` -> spikes ``[T, B, ...]`` (tdBN over batch, space and time)."""
        steps, batch = x.shape[:2]
        currents = self.current(x.flatten(0, 1)).unflatten(0, (steps, batch))
        return lif_sequence(currents, self.neuron)


class SpikingMLP(nn.Module):
    """An ordinary trained spiking MLP (the VAE's posterior and prior): linear -> tdBN (alpha 2) -> LIF per layer.

    The weights are trainable (:class:`~primekit.snn.weight_sources.TrainableWeights`, Kaiming-uniform as
    ``nn.Linear``, bias as ``nn.Linear``), never pruned.

    Args:
        sizes: layer widths, e.g. ``(256, 256, 512, 2560)``.
        seed: seed of the initial weights and biases.
        alpha: tdBN factor (the authors: 2).
    """

    def __init__(self, sizes: tuple[int, ...], seed: int, alpha: float = 2.0, neuron: LIFParameters = VAE_LIF):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError(f"sizes={sizes!r} needs at least an input and an output width")
        blocks = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            weights = TrainableWeights(init_scores((n_out, n_in), derive_seed(seed, "weight", i)))
            layer = SubnetLinear(weights, keep_ratio=1.0, bias=init_bias(n_out, n_in, derive_seed(seed, "bias", i)))
            blocks.append(SpikingBlock(layer, TDBatchNorm(n_out, alpha, neuron.threshold), neuron))
        self.blocks = nn.ModuleList(blocks)
        self.sizes = tuple(sizes)

    def step(self, x: torch.Tensor, states: tuple, running: bool = False) -> tuple[torch.Tensor, tuple]:
        new = []
        for block, state in zip(self.blocks, states):
            x, state = block.step(x, state, running)
            new.append(state)
        return x, tuple(new)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block.sequence(x)
        return x


def choose(spikes: torch.Tensor, choices: torch.Tensor, k: int) -> torch.Tensor:
    """The latent spikes: for every channel, the sub-neuron ``choices`` picks among its ``k``.

    ``spikes`` ``[..., C * k]`` (channel-major: channel ``c`` owns ``c*k ... c*k + k - 1``), ``choices``
    ``[..., C]`` integers in ``[0, k)`` -> ``[..., C]`` (differentiable in ``spikes``).
    """
    grouped = spikes.unflatten(-1, (-1, k))
    if choices.shape != grouped.shape[:-1]:
        raise ValueError(f"choices has shape {tuple(choices.shape)}, the spikes need {tuple(grouped.shape[:-1])}")
    return grouped.gather(-1, choices.unsqueeze(-1)).squeeze(-1)


def psp(rates: torch.Tensor, tau: float = PSP_TAU) -> torch.Tensor:
    """The authors' PSP filter over time (dimension 0): ``y_t = y_{t-1} + (u_t - y_{t-1}) / tau``, ``y_{-1} = 0``."""
    if not tau >= 1:
        raise ValueError(f"tau={tau!r} must be >= 1 (steps)")
    out, y = [], torch.zeros_like(rates[0])
    for u in rates:
        y = y + (u - y) / tau
        out.append(y)
    return torch.stack(out)


def mmd_loss(q_spikes: torch.Tensor, p_spikes: torch.Tensor, k: int) -> torch.Tensor:
    """The authors' "MMD" term: ``mean((psp(mean_k q) - psp(mean_k p))^2)``.

    ``q_spikes``, ``p_spikes``: posterior and prior spikes ``[T, B, C * k]``. The mean over the ``k``
    sub-neurons is each latent channel's firing probability at each step; the PSP filter smooths it over time.
    This is the squared distance between the two filtered rate vectors, i.e. an MMD with a *linear* kernel on
    one sample each (the FSVAE paper's MMD uses the same form), not a kernel two-sample estimate.
    """
    if q_spikes.shape != p_spikes.shape:
        raise ValueError(f"q_spikes {tuple(q_spikes.shape)} and p_spikes {tuple(p_spikes.shape)} must match")
    q_rate = q_spikes.unflatten(-1, (-1, k)).mean(-1)
    p_rate = p_spikes.unflatten(-1, (-1, k)).mean(-1)
    return torch.mean((psp(q_rate) - psp(p_rate)) ** 2)
