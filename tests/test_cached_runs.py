"""Cached runs: the same network and data load, any change to the network recomputes."""

import numpy as np
import pytest
import torch

from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.data.datasets import FrameSplit
from primekit.data.frames import FrameSpec
from primekit.experiments import cached_runs, training
from primekit.inference import evaluate as inference
from primekit.snn.models import PRIMENet, software_sources


@pytest.fixture
def split():
    frames = np.random.default_rng(4).poisson(0.4, size=(5, 3, 2, 34, 34)).astype(np.uint8)
    return FrameSplit(frames, np.arange(5) % 10, FrameSpec(3), "synthetic")


def test_cached_evaluate_equals_the_direct_one_and_loads_the_second_time(split, capsys):
    model = PRIMENet(software_sources(0), keep_ratio=0.5, seed=0).eval()
    first = cached_runs.evaluate(model, split)
    assert "computed evaluate" in capsys.readouterr().err
    again = cached_runs.evaluate(model, split)
    assert "loaded evaluate" in capsys.readouterr().err
    direct = training.evaluate(model, split)
    assert first["accuracy"] == again["accuracy"] == direct["accuracy"]
    assert np.array_equal(again["predictions"], direct["predictions"])


def test_the_fingerprint_sees_weights_scores_and_chip_settings():
    model = PRIMENet(software_sources(0), keep_ratio=0.5, seed=0)
    base = cached_runs.model_fingerprint(model)
    assert cached_runs.model_fingerprint(PRIMENet(software_sources(0), keep_ratio=0.5, seed=0)) == base
    with torch.no_grad():
        model.conv0.scores[0, 0, 0, 0] += 1e-3
    assert cached_runs.model_fingerprint(model) != base
    quiet, _ = deploy(model, MemristorConfig(), seed=1)
    noisy, _ = deploy(model, MemristorConfig(read_noise=0.02), seed=1)   # same conductances, other read noise
    assert cached_runs.model_fingerprint(quiet) != cached_runs.model_fingerprint(noisy)


def test_cached_recording_keeps_the_chip_reads_and_the_index(split):
    chip, _ = deploy(PRIMENet(software_sources(0), keep_ratio=0.5, seed=0), MemristorConfig(read_noise=0.05), seed=1)
    cached = cached_runs.record_outputs(chip, split, read_seed=3, index=[0, 2])
    direct = inference.record_outputs(chip, split, read_seed=3, index=[0, 2], show_progress=False)
    assert torch.equal(cached.outputs, direct.outputs) and torch.equal(cached.labels, direct.labels)
    other = cached_runs.record_outputs(chip, split, read_seed=4, index=[0, 2])
    assert not torch.equal(other.outputs, cached.outputs)


def test_a_non_module_is_refused():
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        cached_runs.model_fingerprint("net")
