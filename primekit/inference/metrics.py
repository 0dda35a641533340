"""Classification metrics and embeddings: accuracy, confusion matrices, per-class means, t-SNE."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from primekit import cache
from primekit.checks import check_integer, is_number


def _as_labels(values, name: str) -> np.ndarray:
    array = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer class indices; got {array.dtype} {array.shape}")
    return array.astype(np.int64)


def accuracy(labels, predictions) -> float:
    """Fraction of ``predictions`` equal to ``labels``."""
    labels, predictions = _as_labels(labels, "labels"), _as_labels(predictions, "predictions")
    if labels.shape != predictions.shape or labels.size == 0:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} must be equal, non-empty")
    return float((labels == predictions).mean())


def confusion_matrix(labels, predictions, n_classes: int = 10, normalize: bool = False) -> np.ndarray:
    """Counts ``[true class, predicted class]``; with ``normalize`` each row sums to 1 (empty rows stay 0)."""
    labels, predictions = _as_labels(labels, "labels"), _as_labels(predictions, "predictions")
    if labels.shape != predictions.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} differ in shape")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (values.min() < 0 or values.max() >= n_classes):
            raise ValueError(f"{name} must lie in [0, {n_classes}); got [{values.min()}, {values.max()}]")
    counts = np.bincount(labels * n_classes + predictions, minlength=n_classes * n_classes)
    counts = counts.reshape(n_classes, n_classes)
    if not normalize:
        return counts
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def per_class_mean(values, labels, n_classes: int = 10) -> np.ndarray:
    """Mean of ``values`` over the samples of each class (NaN for a class without samples)."""
    labels = _as_labels(labels, "labels")
    values = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float64)
    if values.shape != labels.shape:
        raise ValueError(f"values {values.shape} and labels {labels.shape} must have the same shape")
    sums = np.bincount(labels, weights=values, minlength=n_classes)
    counts = np.bincount(labels, minlength=n_classes)
    return np.divide(sums, counts, out=np.full(n_classes, np.nan), where=counts > 0)


def tsne(features, *, seed: int, perplexity: float = 30.0, pca_dims: int = 50) -> np.ndarray:
    """A 2-D t-SNE embedding ``[N, 2]`` of ``features`` ``[N, D]``, cached by the features' contents.

    The features are first reduced to ``pca_dims`` principal components (the usual speed-up; t-SNE
    looks at neighbourhoods, which the leading components keep). Same features, seed and settings: the
    same embedding, loaded from the cache.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    array = np.ascontiguousarray(np.asarray(features.detach().cpu() if isinstance(features, torch.Tensor)
                                            else features, dtype=np.float32))
    if array.ndim != 2 or len(array) < 5:
        raise ValueError(f"features must be [N, D] with N >= 5; got shape {array.shape}")
    check_integer("pca_dims", pca_dims, 1)
    if not (is_number(perplexity) and 0 < perplexity < len(array)):
        raise ValueError(f"perplexity={perplexity!r} must be in (0, N = {len(array)})")
    fingerprint = hashlib.sha256(array.tobytes() + str(array.shape).encode()).hexdigest()[:16]
    key = {"seed": seed, "perplexity": perplexity, "pca_dims": pca_dims}

    def compute():
        reduced = array
        if array.shape[1] > pca_dims:
            reduced = PCA(pca_dims, random_state=seed).fit_transform(array)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(reduced)

    return np.asarray(cache.load_or_run("tsne", key, compute, data_fingerprint=fingerprint, verbose=False))
