"""Metrics: confusion matrices and per-class means by hand; t-SNE deterministic and cached by content."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from primekit.inference.metrics import accuracy, confusion_matrix, per_class_mean, tsne


def test_confusion_matrix_by_hand():
    labels = [0, 0, 1, 2, 2, 2]
    predictions = [0, 1, 1, 2, 0, 2]
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert np.array_equal(confusion_matrix(labels, predictions, 3), expected)
    rows = confusion_matrix(np.array(labels), torch.tensor(predictions), 4, normalize=True)
    assert np.allclose(rows[:3].sum(axis=1), 1) and np.array_equal(rows[3], np.zeros(4))  # class 3 absent
    assert rows[2, 2] == pytest.approx(2 / 3)
    assert accuracy(labels, predictions) == pytest.approx(4 / 6)
    assert np.trace(confusion_matrix(labels, predictions, 3)) / len(labels) == accuracy(labels, predictions)


def test_per_class_mean_by_hand():
    means = per_class_mean([1.0, 3.0, 10.0], [0, 0, 2], n_classes=3)
    assert means[0] == 2.0 and np.isnan(means[1]) and means[2] == 10.0


@pytest.mark.parametrize("call, message", [
    (lambda: confusion_matrix([0, 5], [0, 1], 3), r"labels must lie in \[0, 3\)"),
    (lambda: confusion_matrix([0, 1], [0, 1, 1], 3), "differ in shape"),
    (lambda: confusion_matrix([0.5, 1.0], [0, 1], 3), "labels must be a 1-D array of integer"),
    (lambda: accuracy(np.array([], dtype=int), np.array([], dtype=int)), "must be equal, non-empty"),
    (lambda: per_class_mean([1.0], [0, 1]), "must have the same shape"),
    (lambda: tsne(np.zeros((3, 4)), seed=0), r"N >= 5"),
    (lambda: tsne(np.zeros((20, 4)), seed=0, perplexity=30), r"perplexity=30 must be in \(0, N = 20\)"),
])
def test_bad_inputs_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_tsne_separates_clusters_is_deterministic_and_cached(data_root):
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=20, size=(3, 60))
    features = np.concatenate([c + rng.normal(size=(20, 60)) for c in centres]).astype(np.float32)
    first = tsne(features, seed=1, perplexity=10, pca_dims=10)
    assert first.shape == (60, 2)
    stored = list((data_root / "cache" / "results").glob("tsne-*.pt"))
    assert len(stored) == 1
    assert np.array_equal(tsne(features, seed=1, perplexity=10, pca_dims=10), first)  # loaded
    # each point's nearest neighbour in the embedding belongs to its own cluster
    labels = np.repeat(np.arange(3), 20)
    distances = np.linalg.norm(first[:, None] - first[None], axis=-1) + np.eye(60) * 1e9
    assert (labels[distances.argmin(axis=1)] == labels).all()
    tsne(features + 1, seed=1, perplexity=10, pca_dims=10)  # other features: another entry
    assert len(list((data_root / "cache" / "results").glob("tsne-*.pt"))) == 2
