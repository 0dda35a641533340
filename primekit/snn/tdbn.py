"""Threshold-dependent batch normalisation (tdBN, Zheng et al., AAAI 2021), as the spiking VAE uses it.

For every channel (a feature map of a convolution, a feature of a linear layer)::

    y = alpha * V_th * (x - mean) / sqrt(var + eps) * gamma + beta

where ``mean`` and ``var`` are taken over the batch, the spatial positions **and the timesteps** (that is
what makes it "td"), ``V_th`` is the neurons' threshold (0.2: dimensionless membrane units), ``alpha`` a
per-layer constant (1 in the VAE's encoder and decoder, 2 in its prior and posterior MLPs), ``gamma`` and
``beta`` trained (init 1 and 0). Training uses the batch statistics (biased variance) and keeps running
averages with momentum 0.1 (the running variance unbiased, ``var * n / (n - 1)``), as torch's BatchNorm;
evaluation uses the running averages.

In primekit time is folded into the batch for training (inputs ``[T * B, C, ...]``): the statistics over
dimension 0 and the spatial dimensions are then those over batch, space and time. At inference the model
runs step by step (``[B, C, ...]`` per step) with the running statistics, which is the same map applied to
each step, so the folded and the stepwise passes agree in eval mode (tested).
"""

from __future__ import annotations

import torch
from torch import nn

from primekit.checks import is_number


class TDBatchNorm(nn.Module):
    """tdBN over ``channels`` (dimension 1 of the input; 2-D ``[N, C]`` or 4-D ``[N, C, H, W]``).

    Args:
        channels: number of channels (features).
        alpha: the per-layer factor (VAE: 1 in the encoder and decoder, 2 in the prior and posterior).
        threshold: the neurons' threshold V_th (membrane units).
        eps: added to the variance.
        momentum: weight of the newest batch in the running averages.
    """

    def __init__(self, channels: int, alpha: float = 1.0, threshold: float = 0.2, eps: float = 1e-5,
                 momentum: float = 0.1):
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels={channels!r} must be a positive integer")
        for name, value in (("alpha", alpha), ("threshold", threshold), ("eps", eps)):
            if not (is_number(value) and value > 0):
                raise ValueError(f"{name}={value!r} must be > 0")
        if not (is_number(momentum) and 0 < momentum <= 1):
            raise ValueError(f"momentum={momentum!r} must be in (0, 1]")
        self.channels, self.alpha, self.threshold, self.eps, self.momentum = channels, alpha, threshold, eps, momentum
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def _dims(self, x: torch.Tensor) -> list[int]:
        if x.dim() not in (2, 4) or x.shape[1] != self.channels:
            raise ValueError(f"x must be [N, {self.channels}] or [N, {self.channels}, H, W]; got {tuple(x.shape)}")
        return [0] + list(range(2, x.dim()))

    def statistics(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and biased variance of ``x`` over every dimension but the channel one."""
        dims = self._dims(x)
        var, mean = torch.var_mean(x, dim=dims, unbiased=False)
        return mean, var

    def forward(self, x: torch.Tensor, running: bool = False) -> torch.Tensor:
        """Normalise ``x``: with its own statistics in training mode (and update the running averages),
        with the running averages in eval mode or when ``running`` (then nothing is updated)."""
        dims = self._dims(x)
        if self.training and not running:
            mean, var = self.statistics(x)
            n = x.numel() // self.channels
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / max(n - 1, 1))
        else:
            mean, var = self.running_mean, self.running_var
        shape = [1, self.channels] + [1] * (len(dims) - 1)
        scale = (self.alpha * self.threshold) * self.weight / torch.sqrt(var + self.eps)
        return torch.addcmul((self.bias - mean * scale).view(shape), x, scale.view(shape))

    def extra_repr(self) -> str:
        return f"{self.channels}, alpha={self.alpha}, threshold={self.threshold}, momentum={self.momentum}"
