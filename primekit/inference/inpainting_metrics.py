"""Reconstruction metrics of the inpainting task, and the one way to get a VAE's reconstructions of a split.

Pixels are in [-1, 1]. The *reconstruction loss* is the mean squared error against the clean digit, over the
whole 32 x 32 image (the authors' ``F.mse_loss``, the quantity of Fig. 4b-d) and over the 64 damaged pixels
only (how well the hole is filled). Both are per sample, then averaged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from primekit.data.inpainting import damage_mask
from primekit.inference.early_stop import EarlyStopResult, StopPolicy
from primekit.inference.evaluate import BATCH_SIZE, run_split
from primekit.snn.timeloop import StepModule


class Reconstructions(NamedTuple):
    """Reconstructions of a split: ``images`` ``[N, 1, 32, 32]`` (at T, or at each sample's exit with a policy),
    ``early`` the exits (None without a policy), ``seconds`` the wall time in the network (s)."""

    images: torch.Tensor
    early: EarlyStopResult | None
    seconds: float


def reconstruct(model: StepModule, split, *, policy: StopPolicy | None = None, batch_size: int = BATCH_SIZE,
                read_seed: int = 0, index=None) -> Reconstructions:
    """The reconstructions of ``split`` (or its samples at ``index``) through the one evaluation path.

    Without a policy every sample runs all T steps and the last step's readout is kept (the other steps are
    not stored); with one (e.g. :class:`primekit.inference.consistency.ConsistencyStop`) the streaming run's
    reconstruction at each sample's exit.
    """
    if policy is not None:
        run = run_split(model, split, batch_size=batch_size, read_seed=read_seed, index=index, policy=policy)
        return Reconstructions(run.early.prediction, run.early, run.seconds)
    last: list[torch.Tensor] = []
    steps = split.timesteps

    def keep_last(info) -> None:
        if info.step == steps - 1:
            last.append(info.output.detach().to("cpu", copy=True))

    run = run_split(model, split, batch_size=batch_size, read_seed=read_seed, index=index, keep_outputs=False,
                    after_step=keep_last)
    return Reconstructions(torch.cat(last), None, run.seconds)


def reconstruction_losses(images: torch.Tensor, clean: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-sample MSE ``[N]`` of ``images`` against ``clean`` (both ``[N, 1, 32, 32]``): ``"whole"`` image and
    ``"damaged"`` square."""
    images, clean = torch.as_tensor(images), torch.as_tensor(clean)
    if images.shape != clean.shape or images.dim() != 4 or tuple(images.shape[1:]) != (1, 32, 32):
        raise ValueError(f"images {tuple(images.shape)} and clean {tuple(clean.shape)} must both be [N, 1, 32, 32]")
    error = (images.float() - clean.float()) ** 2
    mask = torch.from_numpy(damage_mask())
    return {"whole": error.flatten(1).mean(1), "damaged": error[:, 0][:, mask].mean(1)}


def mean_losses(images: torch.Tensor, clean) -> dict[str, float]:
    """:func:`reconstruction_losses` averaged over the samples."""
    clean = torch.from_numpy(np.asarray(clean)) if not isinstance(clean, torch.Tensor) else clean
    return {name: float(value.mean()) for name, value in reconstruction_losses(images, clean).items()}
