"""The "MNIST Inception Score" of inpainted digits, and the accuracy of a digit classifier on them.

The Inception Score (Salimans et al., 2016) of generated images ``x`` is ``IS = exp(E_x KL(p(y|x) || p(y)))``,
``p(y)`` the mean of ``p(y|x)`` over the images: it is high when each image is confidently one class (sharp
``p(y|x)``) and the classes are used evenly (broad ``p(y)``); it lies in ``[1, classes]`` (1: every image gives
the same prediction; 10 for MNIST: ten classes used equally, each image certain).

The original uses ImageNet's Inception-v3 as the classifier. That network is not available offline and
knows nothing of digits, so **this is not the Inception Score of the literature**: here ``p(y|x)`` comes
from :class:`DigitClassifier`, a small convolutional network trained by primekit on the clean training digits
(:func:`primekit.experiments.inpainting_training.train_digit_classifier`, cached, its accuracy reported),
and the score is called the *MNIST IS*. Its values are comparable between methods and thresholds of this
book, not with published IS values. The same classifier's accuracy on inpainted digits measures whether the
filled-in square kept the digit's identity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DigitClassifier(nn.Module):
    """A small CNN for 32 x 32 digits in [-1, 1]: conv 5x5 1->16, ReLU, max-pool 2; conv 5x5 16->32, ReLU,
    max-pool 2; linear 2048 -> 10 (logits). About 66,000 parameters."""

    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(1, 16, 5, padding=2)
        self.conv1 = nn.Conv2d(16, 32, 5, padding=2)
        self.linear = nn.Linear(32 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 32, 32):
            raise ValueError(f"x must be digits [N, 1, 32, 32], got {tuple(x.shape)}")
        x = F.max_pool2d(F.relu(self.conv0(x)), 2)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return self.linear(x.flatten(1))


@torch.no_grad()
def class_probabilities(classifier: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """``p(y|x)`` ``[N, 10]`` of ``images`` ``[N, 1, 32, 32]`` (softmax of the classifier's logits, eval mode)."""
    classifier.eval()
    images = torch.as_tensor(images, dtype=torch.float32)
    return torch.cat([F.softmax(classifier(images[i:i + batch_size]), dim=1)
                      for i in range(0, len(images), batch_size)])


def inception_score(probabilities: torch.Tensor) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` of per-image class probabilities ``[N, classes]`` (rows sum to 1)."""
    p = torch.as_tensor(probabilities, dtype=torch.float64)
    if p.dim() != 2 or len(p) == 0:
        raise ValueError(f"probabilities must be [N, classes] with N >= 1, got shape {tuple(p.shape)}")
    if (p < 0).any() or not torch.allclose(p.sum(1), torch.ones(len(p), dtype=p.dtype), atol=1e-4):
        raise ValueError("probabilities must be non-negative rows summing to 1")
    marginal = p.mean(0, keepdim=True)
    kl = (torch.xlogy(p, p) - torch.xlogy(p, marginal.expand_as(p))).sum(1)
    return float(torch.exp(kl.mean()))


def digit_quality(classifier: nn.Module, images: torch.Tensor, labels) -> dict[str, float]:
    """The MNIST IS of ``images`` and the classifier's accuracy on them against ``labels``."""
    p = class_probabilities(classifier, images)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if labels.shape != (len(p),):
        raise ValueError(f"labels must be [{len(p)}], got shape {tuple(labels.shape)}")
    return {"mnist_is": inception_score(p), "accuracy": float((p.argmax(1) == labels).float().mean())}
