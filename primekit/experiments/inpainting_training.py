"""Training the spiking VAE for MNIST inpainting by the three methods of the paper's Fig. 4c, cached.

=====================  ========================================================  =======
method                 the pruned layers' weights                                trained
=====================  ========================================================  =======
``weight-tuning``      Kaiming-uniform, trainable, no mask                       weights
``software-pruning``   frozen ``0.003 * N(0, 6.916^2)``, keep 50 %               scores
``memristor-pruning``  frozen, one formed chip's ``0.003 (G+ - G-)``, keep 50 %  scores
=====================  ========================================================  =======

In every method the biases, the tdBN parameters and the posterior and prior MLPs are trained too (as the
authors do). The chip of ``memristor-pruning`` is the book's device (:class:`~primekit.chip.memristor.
MemristorConfig`) with the VAE's own ``weight_scale`` 0.003 (:data:`VAE_MEMRISTOR`); its formed ``G+ - G-``
spread (6.36 µS) is the device's, close to the 6.916 of the authors' software weights.

Training (the authors' ``main_fsvae_denoise.py`` and ``MNIST.yaml``): loss = MSE(xhat, clean) + the "MMD"
(:func:`primekit.snn.vae_blocks.mmd_loss`), AdamW (lr 1e-3, weight decay 1e-3, no schedule), scheduled
sampling of the prior with probability ``p = 0.1 + 0.2 e / E`` at epoch ``e`` of ``E``; all T steps folded
into the batch (:meth:`primekit.snn.vae.SpikingVAE.forward_sequence`). Sub-neuron choices and the
scheduled-sampling coins come from a generator seeded by the profile's seed; a batch's choices never
influence another's. :func:`train_inpainting` caches the trained model and its history.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from primekit import cache, profiles
from primekit.checks import check_non_negative, check_positive, is_number
from primekit.chip.deploy import ChipWeights, deploy
from primekit.chip.memristor import MemristorConfig, form
from primekit.data.inpainting import InpaintingSplit, inpainting_digits
from primekit.inference.inception import DigitClassifier, digit_quality
from primekit.inference.inpainting_metrics import mean_losses, reconstruct
from primekit.progress import progress
from primekit.experiments.training import check_frozen, method_keep_ratio
from primekit.seeding import derive_seed, make_generator
from primekit.snn.vae import LATENT, PRUNED_SHAPES, VAE_SCALE, SpikingVAE, software_sources, trainable_sources
from primekit.snn.vae_blocks import mmd_loss

#: The methods of Fig. 4c, named as the classifier's (:data:`primekit.experiments.training.METHODS`).
INPAINTING_METHODS = ("weight-tuning", "software-pruning", "memristor-pruning")
#: The book's memristor device with the VAE's weight scale (network weight per µS of ``G+ - G-``).
VAE_MEMRISTOR = MemristorConfig(weight_scale=VAE_SCALE)


@dataclass(frozen=True)
class VAETrainConfig:
    """How one method is trained (the profile's ``inpainting`` sizes give epochs, batch size and T).

    Attributes:
        method: one of :data:`INPAINTING_METHODS`.
        lr, weight_decay: AdamW's (the authors: 1e-3, 1e-3).
        keep_ratio: fraction of weights kept by the pruning methods, in (0, 1] (None: the authors' 0.5);
            Weight Tuning keeps every weight and takes none.
        scheduled: the prior's scheduled-sampling probability at the first epoch and its limit at the last
            (the authors: 0.1 -> 0.3); (0, 0) turns it off.
        memristor: the device whose formed conductances give ``memristor-pruning``'s weights.
    """

    method: str
    lr: float = 1e-3
    weight_decay: float = 1e-3
    keep_ratio: float | None = None
    scheduled: tuple[float, float] = (0.1, 0.3)
    memristor: MemristorConfig = field(default_factory=lambda: VAE_MEMRISTOR)

    def __post_init__(self) -> None:
        if self.method not in INPAINTING_METHODS:
            raise ValueError(f"method={self.method!r} is not one of {INPAINTING_METHODS}")
        check_positive(self, "lr")
        check_non_negative(self, "weight_decay")
        if len(self.scheduled) != 2 or not all(is_number(p) and 0 <= p <= 1 for p in self.scheduled):
            raise ValueError(f"scheduled={self.scheduled!r} must be two probabilities (first epoch, limit)")
        object.__setattr__(self, "keep_ratio", method_keep_ratio(self.method, self.keep_ratio))

    def scheduled_p(self, epoch: int, epochs: int) -> float:
        """The authors' ``update_p``: ``p0 + (p1 - p0) epoch / epochs`` (epoch counted from 0)."""
        first, last = self.scheduled
        return first + (last - first) * epoch / epochs


def vae_chip_sources(memristor: MemristorConfig, seed: int) -> dict[str, ChipWeights]:
    """One formed chip per pruned layer (no programming or read noise: the conductances as formed)."""
    noiseless = memristor.with_noise(programming=0.0, read=0.0)
    return {name: ChipWeights(form(shape, noiseless, derive_seed(seed, "vae-chip", name)), noiseless)
            for name, shape in PRUNED_SHAPES.items()}


def build_vae(config: VAETrainConfig, seed: int) -> SpikingVAE:
    """The untrained VAE of ``config.method`` (weights, scores and initial parameters from ``seed``)."""
    if config.method == "weight-tuning":
        return SpikingVAE(trainable_sources(seed), keep_ratio=1.0, seed=seed)
    if config.method == "memristor-pruning":
        return SpikingVAE(vae_chip_sources(config.memristor, seed), config.keep_ratio, seed=seed)
    return SpikingVAE(software_sources(seed), config.keep_ratio, seed=seed)


def vae_loss(xhat: torch.Tensor, clean: torch.Tensor, q: torch.Tensor, p: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
    """The authors' loss: ``MSE(xhat, clean) + mmd_loss(q, p)``; returns ``loss``, ``reconstruction``, ``distance``."""
    reconstruction = F.mse_loss(xhat, clean)
    distance = mmd_loss(q, p, k)
    return {"loss": reconstruction + distance, "reconstruction": reconstruction, "distance": distance}


@dataclass
class VAEHistory:
    """Per epoch: mean training loss and its two terms, the test reconstruction losses (whole image and damaged
    square, full T, no early stop), seconds, and training speed (digits per second)."""

    loss: list = field(default_factory=list)
    reconstruction: list = field(default_factory=list)
    distance: list = field(default_factory=list)
    test_whole: list = field(default_factory=list)
    test_damaged: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    samples_per_second: list = field(default_factory=list)


def fit_vae(model: SpikingVAE, train: InpaintingSplit, test: InpaintingSplit | None, config: VAETrainConfig, *,
            epochs: int, batch_size: int, seed: int, show_progress: bool = True) -> VAEHistory:
    """Train ``model`` in place; frozen tensors are checked to stay bit-identical."""
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    frozen = {k: v.detach().clone() for k, v in model.state_dict().items() if k not in trainable}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                  betas=(0.9, 0.999), weight_decay=config.weight_decay)
    generator = make_generator(derive_seed(seed, "vae-training"))
    history, steps = VAEHistory(), train.timesteps
    for epoch in range(epochs):
        model.train()
        start, totals = time.perf_counter(), np.zeros(3)
        p_scheduled = config.scheduled_p(epoch, epochs)
        order = torch.randperm(len(train), generator=generator)
        batches = [order[i:i + batch_size] for i in range(0, len(train), batch_size)]
        for index in progress(batches, f"{config.method} epoch {epoch + 1}/{epochs}", unit="batches",
                                  disable=not show_progress):
            index = index.numpy()
            x, clean = train.time_major(index).to(model.device), train.targets(index).to(model.device)
            choices = torch.randint(0, model.k, (steps, len(index), LATENT), generator=generator).to(model.device)
            out = model.forward_sequence(x, choices, p_scheduled, generator)
            losses = vae_loss(out.xhat, clean, out.q, out.p, model.k)
            optimizer.zero_grad()
            losses["loss"].backward()
            optimizer.step()
            totals += [losses[n].item() * len(index) for n in ("loss", "reconstruction", "distance")]
        seconds = time.perf_counter() - start
        for name, total in zip(("loss", "reconstruction", "distance"), totals):
            getattr(history, name).append(total / len(train))
        history.seconds.append(seconds)
        history.samples_per_second.append(len(train) / seconds)
        if test is not None:
            losses = mean_losses(reconstruct(model, test).images, test.clean)
            history.test_whole.append(losses["whole"])
            history.test_damaged.append(losses["damaged"])
    check_frozen(model, frozen, ignore=("running_mean", "running_var"))
    model.eval()
    return history


def digits_fingerprint(*splits: InpaintingSplit) -> str:
    """A fingerprint of the digits themselves (so a cached model never outlives its data)."""
    return cache.fingerprint_arrays(*(array for split in splits for array in (split.clean, split.labels)))


@dataclass(frozen=True)
class TrainedVAE:
    """A trained VAE and its record."""

    method: str
    model: SpikingVAE
    history: VAEHistory
    train_seconds: float


def train_inpainting(method: str, profile: profiles.Profile | None = None, splits=None,
                     config: VAETrainConfig | None = None, show_progress: bool = True) -> TrainedVAE:
    """Train ``method`` on ``profile``'s inpainting digits, or load it from the cache."""
    profile = profile or profiles.get_profile()
    config = config or VAETrainConfig(method)
    if config.method != method:
        raise ValueError(f"config.method={config.method!r} differs from method={method!r}")
    splits = splits or inpainting_digits(profile)
    sizes = profile.inpainting
    key = {"profile": profile, "train": config}

    def compute():
        torch.manual_seed(derive_seed(profile.seed, "vae-torch"))
        model = build_vae(config, profile.seed).to(profile.torch_device())
        start = time.perf_counter()
        history = fit_vae(model, splits.train, splits.test, config, epochs=sizes.epochs,
                          batch_size=sizes.batch_size, seed=profile.seed, show_progress=show_progress)
        state = {name: tensor.cpu() for name, tensor in model.state_dict().items()}  # cached on the CPU
        return {"state": state, "history": history, "seconds": time.perf_counter() - start}

    stored = cache.load_or_run(f"inpainting-{method}", key, compute,
                               data_fingerprint=digits_fingerprint(splits.train, splits.test))
    model = build_vae(config, profile.seed)
    model.load_state_dict(stored["state"])
    model.to(profile.torch_device()).eval()
    return TrainedVAE(method, model, stored["history"], stored["seconds"])


@dataclass(frozen=True)
class TrainedClassifier:
    """The digit classifier of the MNIST IS (:mod:`primekit.inference.inception`) and its clean test accuracy."""

    model: DigitClassifier
    test_accuracy: float
    epochs: int


def train_digit_classifier(profile: profiles.Profile | None = None, splits=None, *, epochs: int = 8,
                           batch_size: int = 100, lr: float = 1e-3) -> TrainedClassifier:
    """Train :class:`~primekit.inference.inception.DigitClassifier` on the profile's clean training digits
    (Adam, cross-entropy), or load it from the cache; its accuracy is measured on the clean test digits."""
    profile = profile or profiles.get_profile()
    splits = splits or inpainting_digits(profile)
    key = {"profile": profile, "epochs": epochs, "batch_size": batch_size, "lr": lr}

    def compute():
        torch.manual_seed(derive_seed(profile.seed, "digit-classifier-torch"))
        model = DigitClassifier()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        generator = make_generator(derive_seed(profile.seed, "digit-classifier"))
        images, labels = splits.train.targets(), torch.from_numpy(splits.train.labels)
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(labels), generator=generator)
            for i in range(0, len(order), batch_size):
                index = order[i:i + batch_size]
                loss = F.cross_entropy(model(images[index]), labels[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        model.eval()
        quality = digit_quality(model, splits.test.targets(), splits.test.labels)
        return {"state": model.state_dict(), "accuracy": quality["accuracy"]}

    stored = cache.load_or_run("digit-classifier", key, compute,
                               data_fingerprint=digits_fingerprint(splits.train, splits.test))
    model = DigitClassifier()
    model.load_state_dict(stored["state"])
    return TrainedClassifier(model.eval(), stored["accuracy"], epochs)


def deploy_vae(model: SpikingVAE, *, read_noise: float = 0.0, programming_noise: float = 0.0, seed: int = 0,
               memristor: MemristorConfig = VAE_MEMRISTOR) -> SpikingVAE:
    """``model`` with its pruned layers on a simulated chip of ``memristor`` (the VAE's weight scale) with the
    given relative noises; the trained posterior and prior MLPs stay digital (see :func:`primekit.chip.deploy.deploy`)."""
    device = memristor.with_noise(programming=programming_noise, read=read_noise)
    chip, _ = deploy(model, device, seed, only=model.pruned_layers())
    return chip.eval()
