"""The early-stop chapter's timing: measured once, cached with when and where, equal to a direct timed sweep's exits."""

import re

import numpy as np
import pytest

import primekit
from primekit.data.datasets import FrameSplit, Splits
from primekit.data.frames import FrameSpec
from primekit.experiments import early_stop_timing, training
from primekit.snn.models import PRIMENet, software_sources


@pytest.fixture
def fake_training(monkeypatch):
    calls = []
    model = PRIMENet(software_sources(0), keep_ratio=0.5, seed=0).eval()

    def fake_train(method, profile=None, splits=None, train_config=None):  # no training in unit tests
        calls.append(method)
        return training.TrainedMethod(method, model, training.History(), 0.0, 0.0)

    monkeypatch.setattr(early_stop_timing, "train_method", fake_train)
    frames = np.random.default_rng(3).poisson(0.4, size=(6, 4, 2, 34, 34)).astype(np.uint8)
    split = FrameSplit(frames, np.arange(6) % 10, FrameSpec(4), "synthetic")
    return calls, Splits(split, split)


def test_timing_is_measured_once_and_says_when_and_where(fake_training):
    calls, splits = fake_training
    kwargs = dict(thresholds=(0.3, 0.5), read_noise=0.02, chip_seed=1, read_seed=2, repeats=1)
    profile = primekit.get_profile("tiny")
    first = early_stop_timing.timed_networks(profile, splits, **kwargs)
    again = early_stop_timing.timed_networks(profile, splits, **kwargs)
    assert calls == ["software-pruning", "memristor-pruning"]          # the second call loaded the cache
    assert again.rows["hardware"][0].seconds == first.rows["hardware"][0].seconds
    assert sorted(first.rows) == ["hardware", "software"]
    assert [r.threshold for r in first.rows["software"]] == [0.3, 0.5]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", first.measured_at)
    assert f"{__import__('os').cpu_count()} cores" in first.machine and first.batch_size == 6
    early_stop_timing.timed_networks(profile, splits, **dict(kwargs, repeats=2))
    assert len(calls) == 4                                              # another key: measured again


def test_timing_refuses_a_bad_repeat_count(fake_training):
    with pytest.raises(ValueError, match="repeats=0"):
        early_stop_timing.timed_networks(primekit.get_profile("tiny"), fake_training[1], thresholds=(0.5,),
                                         read_noise=0.02, chip_seed=1, read_seed=2, repeats=0)
