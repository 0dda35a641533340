"""The shipped reference files: checked by SHA-256, loaded by one loader each, and nothing read beside the repo."""

import shutil

import numpy as np
import pytest
import torch

from primekit import paths, reference
from primekit.data.events import read_reference_recording
from primekit.snn.models import load_released_model


def test_the_reference_files_are_the_published_ones():
    for name, entry in reference.REFERENCE_FILES.items():
        path = reference.reference_path(name)
        assert path.is_relative_to(paths.repo_root() / "data" / "reference")
        assert reference.sha256_of(path) == entry.sha256


def test_the_recording_loader_gives_the_known_recording():
    events = read_reference_recording()
    assert len(events) == 4325 and int(events["p"].sum()) == 2145
    assert (int(events["t"][0]), int(events["t"][-1])) == (654, 311_175)  # microseconds: 310.5 ms of events
    assert np.all(np.diff(events["t"].astype(np.int64)) >= 0)


def test_the_checkpoint_loader_gives_the_released_scores():
    """Every layer holds the state dict's scores as stored and its weights times 0.01 (read here with torch.load)."""
    model = load_released_model()
    state = torch.load(reference.reference_path("released-classifier"), map_location="cpu", weights_only=True)
    for name, prefix in (("conv0", "features.conv0"), ("conv1", "features.conv1"), ("linear", "classifier.linear0")):
        layer = getattr(model, name)
        assert torch.equal(layer.scores.detach(), state[f"{prefix}.scores"].float()), name
        assert torch.allclose(layer.weight_source.read(), 0.01 * state[f"{prefix}.weight"].float(), rtol=1e-6), name


def test_a_changed_reference_file_is_refused_by_name(tmp_path, monkeypatch):
    copy = tmp_path / "reference"
    shutil.copytree(reference.reference_dir(), copy)
    target = copy / reference.REFERENCE_FILES["nmnist-sample"].relative_path
    data = bytearray(target.read_bytes())
    data[100] ^= 1
    target.write_bytes(bytes(data))
    monkeypatch.setattr(reference, "reference_dir", lambda: copy)
    with pytest.raises(reference.ReferenceDataError, match="sample_nmnist.bin has SHA-256"):
        reference.reference_path("nmnist-sample")
    target.unlink()
    with pytest.raises(reference.ReferenceDataError, match="is missing"):
        reference.reference_path("nmnist-sample")


def test_an_unknown_reference_name_is_refused():
    with pytest.raises(ValueError, match="name='sample'"):
        reference.reference_path("sample")


def test_opening_a_file_beside_the_repository_fails():
    beside = paths.repo_root().parent / "a-file-beside-the-repository.txt"
    with pytest.raises(paths.OutsideRepositoryError, match="beside the repository"):
        open(beside, "rb")
    inside = paths.repo_root() / "pyproject.toml"
    with open(inside, "rb") as handle:  # the repository itself stays readable
        assert handle.read(1)
