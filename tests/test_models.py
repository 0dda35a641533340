"""The PRIME network: shapes of the contract, batch independence, and the authors' released model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import primekit
from primekit.data.events import REFERENCE_RECORDING_DIGIT, read_reference_recording
from primekit.data.frames import FrameSpec, to_frames
from primekit.reference import reference_path
from primekit.snn.models import (
    PRIMENet,
    load_released_model,
    read_released_checkpoint,
    software_sources,
)
from primekit.snn.timeloop import select_samples

# The released model on the real "4" (equal-count frames): running confidence softmax(ybar_t / 2).max for t = 1..10 on the real "4"
PAPER_CONFIDENCES = [0.330, 0.502, 0.630, 0.725, 0.793, 0.836, 0.873, 0.904, 0.927, 0.942]


def running_confidence(outputs: torch.Tensor) -> torch.Tensor:
    ybar = outputs.cumsum(0) / torch.arange(1, outputs.shape[0] + 1).view(-1, 1, 1)
    return torch.softmax(ybar / 2, dim=-1)


def test_released_model_reproduces_the_papers_confidences_on_the_real_sample():
    model = load_released_model()
    frames = to_frames(read_reference_recording(), FrameSpec(timesteps=10, rule="count"))
    x = torch.from_numpy(frames.astype(np.float32))[:, None]  # [T, B=1, 2, 34, 34]
    with torch.no_grad():
        outputs = model.run(x).outputs
    probabilities = running_confidence(outputs)[:, 0]
    assert probabilities.argmax(dim=-1).tolist() == [REFERENCE_RECORDING_DIGIT] * 10   # it reads the 4 shown
    assert np.allclose(probabilities.max(dim=-1).values.numpy(), PAPER_CONFIDENCES, atol=1e-3)
    first_exit = int(np.argmax(probabilities.max(dim=-1).values.numpy() > 0.8)) + 1  # steps from 1
    assert first_exit == 6


def test_released_checkpoint_keeps_half_of_each_layer():
    checkpoint = read_released_checkpoint(reference_path("released-classifier"))
    assert abs(checkpoint.weights["conv1"].std().item() - 6.352) < 0.2  # N(0, 6.352^2) frozen weights
    model = load_released_model()
    assert primekit.snn.subnet.kept_fractions(model) == {
        "conv0": primekit.snn.subnet.keep_count(600, 0.5) / 600,
        "conv1": primekit.snn.subnet.keep_count(19200, 0.5) / 19200,
        "linear": primekit.snn.subnet.keep_count(23040, 0.5) / 23040,
    }


def test_bad_checkpoint_files_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_released_checkpoint(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read as a torch state dict"):
        read_released_checkpoint(corrupt)
    partial = tmp_path / "partial.pt"
    torch.save({"features.conv0.weight": torch.zeros(12, 2, 5, 5)}, partial)
    with pytest.raises(ValueError, match="has no 'features.conv0.scores'"):
        read_released_checkpoint(partial)


def test_batch_equals_samples_alone_and_samples_can_leave_mid_run():
    model = PRIMENet(software_sources(seed=1), seed=2).eval()
    x = 3 * torch.rand(6, 4, 2, 34, 34, generator=primekit.make_generator(3))
    with torch.no_grad():
        full = model.run(x).outputs
        for b in range(4):
            assert torch.allclose(model.run(x[:, b:b + 1]).outputs[:, 0], full[:, b], atol=1e-5)
        # run 3 steps, drop samples 1 and 2, continue: the rest equals the full run
        state = model.init_state(4)
        for t in range(3):
            _, state = model.step(x[t], state)
        keep = torch.tensor([True, False, False, True])
        state = select_samples(state, keep)
        for t in range(3, 6):
            out, state = model.step(x[t, keep], state)
        assert torch.allclose(out, full[5, keep], atol=1e-6)


def test_logits_are_the_time_mean_of_the_output_membrane():
    model = PRIMENet(software_sources(seed=4)).eval()
    x = torch.rand(5, 2, 2, 34, 34, generator=primekit.make_generator(5))
    with torch.no_grad():
        assert torch.allclose(model.logits(x), model.run(x).outputs.mean(dim=0))


def test_bad_inputs_raise():
    model = PRIMENet(software_sources())
    with pytest.raises(ValueError, match=r"x_t must be one frame per sample, \[B, 2, 34, 34\]; got \(3, 34, 34\)"):
        model.step(torch.zeros(3, 34, 34), model.init_state(3))
    sources = software_sources()
    sources["linear"] = primekit.snn.weight_sources.GaussianWeights((10, 100))
    with pytest.raises(ValueError, match=r"sources\['linear'\] has shape \(10, 100\), the layer needs \(10, 2304\)"):
        PRIMENet(sources)
