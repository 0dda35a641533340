"""Training and evaluation of the PRIME network, and the five methods the paper compares (Fig. 3e).

=====================  ================================================  =======
method                 weights                                           trained
=====================  ================================================  =======
``weight-tuning``      Kaiming-uniform, trainable, no mask (BPTT)        weights
``software-pruning``   frozen ``0.01 * N(0, 6.352^2)``, keep 50 %        scores
``memristor-pruning``  frozen, one formed chip's ``0.01 (G+ - G-)``      scores
``random-software``    as software-pruning, mask of the initial scores   nothing
``random-memristor``   as memristor-pruning, mask of the initial scores  nothing
=====================  ================================================  =======

Training: Adam (lr 1e-3, weight decay 5e-4), cosine annealing over the epochs, cross-entropy on the
time-mean logits; only the parameters that require gradients change (asserted for the frozen weights).
:func:`train_method` caches the trained model and its history, keyed by the profile, the method's
config, the data and primekit's code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from primekit import cache, profiles
from primekit.checks import check_choice, check_instance, check_non_negative, check_positive, is_number
from primekit.chip.deploy import ChipWeights
from primekit.chip.memristor import MemristorConfig, form
from primekit.data.datasets import FrameSplit, nmnist_frames
from primekit.inference.evaluate import run_split
from primekit.progress import progress
from primekit.seeding import derive_seed, make_generator
from primekit.snn.timeloop import module_device
from primekit.snn.models import (
    WEIGHT_SHAPES,
    PRIMENet,
    kaiming_sources,
    software_sources,
)

#: The five methods of the paper's Fig. 3e, by the names used everywhere in primekit and the book.
METHODS = ("weight-tuning", "software-pruning", "memristor-pruning", "random-software", "random-memristor")
#: Methods whose weights come from a formed memristor chip.
CHIP_METHODS = ("memristor-pruning", "random-memristor")
#: Methods that are not trained (they keep the mask of their initial scores).
UNTRAINED_METHODS = ("random-software", "random-memristor")
#: The trained methods, compared under noise (Fig. 3g) and on the inpainting task (Fig. 4c).
TRAINED_METHODS = tuple(m for m in METHODS if m not in UNTRAINED_METHODS)


def method_keep_ratio(method: str, keep_ratio: float | None) -> float | None:
    """The keep ratio a method trains with: None for Weight Tuning (which keeps every weight and refuses one),
    else ``keep_ratio`` checked in (0, 1], PRIME's 0.5 when None."""
    if method == "weight-tuning":
        if keep_ratio is not None:
            raise ValueError(f"keep_ratio={keep_ratio!r} is for the pruning methods; Weight Tuning trains every weight "
                             "(leave keep_ratio=None)")
        return None
    keep_ratio = 0.5 if keep_ratio is None else keep_ratio
    if not (is_number(keep_ratio) and 0 < keep_ratio <= 1):
        raise ValueError(f"keep_ratio={keep_ratio!r} must be in (0, 1] (the fraction of weights kept)")
    return float(keep_ratio)


@dataclass(frozen=True)
class TrainConfig:
    """How one method is trained (the profile gives epochs, batch size and seed).

    Attributes:
        method: one of :data:`METHODS`.
        lr: Adam learning rate.
        weight_decay: Adam weight decay (L2), applied to whatever is trained.
        keep_ratio: fraction of weights kept by the pruning methods, in (0, 1] (None: PRIME's 0.5). Weight
            Tuning keeps every weight and takes none.
        memristor: the memristor device whose formed conductances give the chip methods' weights.
    """

    method: str
    lr: float = 1e-3
    weight_decay: float = 5e-4
    keep_ratio: float | None = None
    memristor: MemristorConfig = field(default_factory=MemristorConfig)

    def __post_init__(self) -> None:
        check_choice("method", self.method, METHODS)
        check_positive(self, "lr")
        check_non_negative(self, "weight_decay")
        check_instance("memristor", self.memristor, MemristorConfig, "a MemristorConfig")
        object.__setattr__(self, "keep_ratio", method_keep_ratio(self.method, self.keep_ratio))


def chip_sources(memristor: MemristorConfig, seed: int) -> dict[str, ChipWeights]:
    """One formed chip per layer (read noise off: training uses the formed conductances as they are)."""
    noiseless = memristor.with_noise(programming=0.0, read=0.0)
    return {name: ChipWeights(form(shape, noiseless, derive_seed(seed, "chip", name)), noiseless)
            for name, shape in WEIGHT_SHAPES.items()}


def build_model(train_config: TrainConfig, seed: int) -> PRIMENet:
    """The untrained network for ``train_config.method`` (weights and scores drawn from ``seed``)."""
    method = train_config.method
    if method == "weight-tuning":
        return PRIMENet(kaiming_sources(seed), keep_ratio=1.0, seed=seed)
    if method in CHIP_METHODS:
        return PRIMENet(chip_sources(train_config.memristor, seed), train_config.keep_ratio, seed=seed)
    return PRIMENet(software_sources(seed), train_config.keep_ratio, seed=seed)


@dataclass
class History:
    """Per-epoch training record: mean training loss, training accuracy, test accuracy, seconds."""

    loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)


def _batches(n: int, batch_size: int, generator: torch.Generator | None):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def evaluate(model: PRIMENet, split: FrameSplit, batch_size: int = 256, *, read_seed: int = 0) -> dict:
    """Accuracy and predictions of ``model`` on ``split`` (full T, no early stop): the argmax of the time-mean
    output, run through the one evaluation path (:func:`primekit.inference.evaluate.run_split`; ``read_seed``
    seeds a chip's keyed reads), so it equals the full-T accuracy of every other inference path."""
    run = run_split(model, split, batch_size=batch_size, read_seed=read_seed)
    predictions = run.outputs.mean(dim=0).argmax(dim=1).numpy()
    return {"accuracy": float((predictions == np.asarray(split.labels)).mean()), "predictions": predictions}


def _frozen_state(model: PRIMENet) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if not any(k == n for n, p in model.named_parameters() if p.requires_grad)}


def fit(model: PRIMENet, train: FrameSplit, test: FrameSplit, train_config: TrainConfig, *,
        epochs: int, batch_size: int, seed: int, show_progress: bool = True) -> History:
    """Train ``model`` in place; return its :class:`History`. Frozen tensors are checked to stay bit-identical."""
    frozen = _frozen_state(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    history = History()
    if not trainable or train_config.method in UNTRAINED_METHODS:
        history.test_accuracy.append(evaluate(model, test)["accuracy"])
        return history
    optimizer = torch.optim.Adam(trainable, lr=train_config.lr, weight_decay=train_config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    generator = make_generator(derive_seed(seed, "batches"))
    device = module_device(model)  # batches follow the model (the profile's device, see train_method)
    labels = torch.from_numpy(train.labels).to(device)
    n_batches = -(-len(train) // batch_size)
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        total_loss = correct = 0.0
        bar = progress(_batches(len(train), batch_size, generator), total=n_batches,
                       desc=f"{train_config.method} epoch {epoch + 1}/{epochs}", unit="batches",
                       disable=not show_progress)
        for index in bar:
            logits = model.logits(train.time_major(index.numpy()).to(device))
            loss = F.cross_entropy(logits, labels[index.to(device)])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(index)
            correct += (logits.argmax(dim=1) == labels[index.to(device)]).sum().item()
        schedule.step()
        history.loss.append(total_loss / len(train))
        history.train_accuracy.append(correct / len(train))
        history.test_accuracy.append(evaluate(model, test)["accuracy"])
        history.seconds.append(time.perf_counter() - start)
    check_frozen(model, frozen)
    return history


def check_frozen(model: torch.nn.Module, frozen: dict[str, torch.Tensor], ignore: tuple[str, ...] = ()) -> None:
    """Raise AssertionError if any tensor of ``frozen`` (state-dict name -> value before training) changed;
    names ending in one of ``ignore`` (e.g. tdBN's running statistics) are skipped."""
    state = model.state_dict()
    for key, before in frozen.items():
        if not key.endswith(ignore) and not torch.equal(state[key], before):
            raise AssertionError(f"frozen tensor {key} changed during training")


def frames_fingerprint(*splits: FrameSplit) -> str:
    """A fingerprint of the frames and labels themselves (so a cached model never outlives its data)."""
    return cache.fingerprint_arrays(*(array for split in splits for array in (split.frames, split.labels)))


@dataclass(frozen=True)
class TrainedMethod:
    """A trained (or untrained baseline) network and its record."""

    method: str
    model: PRIMENet
    history: History
    test_accuracy: float
    train_seconds: float


def train_method(method: str, profile: profiles.Profile | None = None, splits=None,
                 train_config: TrainConfig | None = None) -> TrainedMethod:
    """Train ``method`` on ``profile``'s N-MNIST frames, or load it from the cache."""
    profile = profile or profiles.get_profile()
    train_config = train_config or TrainConfig(method)
    if train_config.method != method:
        raise ValueError(f"train_config.method={train_config.method!r} differs from method={method!r}")
    splits = splits or nmnist_frames(profile)
    key = {"profile": profile, "train": train_config}

    def compute():
        model = build_model(train_config, profile.seed).to(profile.torch_device())
        start = time.perf_counter()
        history = fit(model, splits.train, splits.test, train_config, epochs=profile.epochs,
                      batch_size=profile.batch_size, seed=profile.seed)
        state = {name: tensor.cpu() for name, tensor in model.state_dict().items()}  # cached on the CPU
        return {"state": state, "history": history, "seconds": time.perf_counter() - start}

    stored = cache.load_or_run(f"train-{method}", key, compute,
                               data_fingerprint=frames_fingerprint(splits.train, splits.test))
    model = build_model(train_config, profile.seed)
    model.load_state_dict(stored["state"])
    model.to(profile.torch_device()).eval()
    history = stored["history"]
    return TrainedMethod(method, model, history, history.test_accuracy[-1], stored["seconds"])
