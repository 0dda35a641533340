"""The profile's device reaches every model, tensor and chip. No GPU here, so the forward paths run on PyTorch's
``meta`` device: a tensor created on the CPU inside a step (a draw, a state, a constant) and combined with the
model's tensors fails there, as it would on a GPU; and "auto" resolves to CUDA when CUDA is available."""

from __future__ import annotations

import pytest
import torch

from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.experiments.inpainting_training import VAETrainConfig, build_vae, deploy_vae
from primekit.experiments.training import TrainConfig, build_model
from primekit.snn import draws
from primekit.snn.timeloop import module_device

META = torch.device("meta")


def _steps(model, x, seed=0):
    state = model.init_state(x.shape[1])
    for t in range(x.shape[0]):
        with draws.keyed(torch.arange(x.shape[1]), t, seed):
            out, state = model.step(x[t], state)
    return out


@pytest.mark.parametrize("method", ["weight-tuning", "software-pruning", "memristor-pruning"])
@pytest.mark.parametrize("read_mode", [None, "per-sample", "per-step"])
def test_the_classifier_and_its_chips_step_on_the_models_device(method, read_mode):
    model = build_model(TrainConfig(method), seed=0)
    if read_mode is not None:   # a chip with read noise: keyed draws made on the CPU must follow the model
        model, _ = deploy(model, MemristorConfig(read_noise=0.1, programming_noise=0.05, read_mode=read_mode), seed=1)
    model = model.to(META)
    assert module_device(model) == META
    out = _steps(model, torch.zeros(2, 3, 2, 34, 34, device=META))
    assert out.device == META and tuple(out.shape) == (3, 10)


@pytest.mark.parametrize("chip", [False, True])
def test_the_vae_steps_on_the_models_device(chip):
    model = build_vae(VAETrainConfig("memristor-pruning"), seed=0)
    if chip:
        model = deploy_vae(model, read_noise=0.1, seed=2)
    model = model.to(META).eval()
    out = _steps(model, torch.zeros(2, 2, 1, 32, 32, device=META))
    assert out.device == META and tuple(out.shape) == (2, 1, 32, 32)
