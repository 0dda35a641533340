"""Cached full-T runs of a given network on a split, keyed by the network's content, so a rebuild reruns nothing.

A chapter that evaluates a network it already has (a trained model, a deployed chip, the released model)
would otherwise rerun every evaluation at every book build. :func:`evaluate` and :func:`record_outputs` are
:func:`primekit.experiments.training.evaluate` and :func:`primekit.inference.evaluate.record_outputs` with the
result cached under a key made of the network's fingerprint (:func:`model_fingerprint`: its class, every
parameter and buffer, and every configuration object its modules hold, such as a chip's
:class:`~primekit.chip.memristor.MemristorConfig`), the arguments, the data and the code. The same network
on the same data loads; any change to a weight, a conductance, the read noise or the code recomputes.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
from torch import nn

from primekit import cache
from primekit.experiments import training
from primekit.inference import evaluate as inference
from primekit.profiles import stable_hash


def model_fingerprint(model: nn.Module) -> str:
    """A hash of a network: module classes and names, parameters and buffers (bytes), and configurations.

    Configurations are the dataclass instances held as module attributes (e.g. a chip layer's device
    config) and plain numbers, strings and booleans (e.g. ``keep_ratio``, ``includes_pruning``).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    digest = hashlib.sha256()
    for name, module in model.named_modules():
        settings = {key: value for key, value in vars(module).items()
                    if not key.startswith("_") and key != "training"
                    and (dataclasses.is_dataclass(value) or isinstance(value, (bool, int, float, str, tuple)))}
        digest.update(f"{name}:{type(module).__qualname__}:{stable_hash(settings)}".encode())
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensor.detach().cpu().numpy()).tobytes())
    return digest.hexdigest()[:16]


def evaluate(model: nn.Module, split, *, read_seed: int = 0) -> dict:
    """:func:`primekit.experiments.training.evaluate` (accuracy and predictions, full T), cached."""
    key = {"model": model_fingerprint(model), "read_seed": read_seed}
    return cache.load_or_run("evaluate", key, lambda: training.evaluate(model, split, read_seed=read_seed),
                             data_fingerprint=training.frames_fingerprint(split))


def record_outputs(model: nn.Module, split, *, read_seed: int = 0, index=None,
                   hidden_layer: str | None = None) -> inference.Recording:
    """:func:`primekit.inference.evaluate.record_outputs` (every step's output, full T), cached."""
    chosen = None if index is None else np.asarray(index).tolist()
    key = {"model": model_fingerprint(model), "read_seed": read_seed, "index": chosen, "hidden_layer": hidden_layer}

    def compute():
        return inference.record_outputs(model, split, read_seed=read_seed, index=index, hidden_layer=hidden_layer,
                                        show_progress=False)

    return cache.load_or_run("record", key, compute, data_fingerprint=training.frames_fingerprint(split))
