"""The early-stop chapter's wall-time measurement, measured once and cached with when and where it ran.

Timing a streaming early stop takes a minute of repeated runs and depends on the machine, so re-measuring
it at every book build only adds minutes and noise. :func:`timed_networks` measures the software baseline
(Software Pruning) and hardware PRIME (Memristor Pruning on a simulated chip with read noise) with
:func:`primekit.inference.sweeps.timed_sweep` and caches the rows together with the UTC time, the machine
and the thread count of the measurement, so the page can say when and on what the times were taken. The
key holds the profile, the thresholds, the chip, the seeds, the repeats, the data and the code: any change
re-measures.
"""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass
from typing import Mapping, Sequence

import torch

from primekit import cache, profiles
from primekit.checks import is_count
from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.data.datasets import nmnist_frames
from primekit.experiments.training import frames_fingerprint, train_method
from primekit.inference.evaluate import batches_of
from primekit.inference.sweeps import TimedRow, timed_sweep


@dataclass(frozen=True)
class TimingRecord:
    """Timed sweeps by network (``"software"``, ``"hardware"``) and where and when they were measured.

    Attributes:
        rows: the :class:`~primekit.inference.sweeps.TimedRow` list of each network (seconds, fractions).
        measured_at: UTC date and time of the measurement, ``YYYY-MM-DD HH:MM``.
        machine: processor and core count of the machine that measured.
        threads: torch CPU threads during the measurement.
        batch_size: samples per streamed batch.
    """

    rows: Mapping[str, list[TimedRow]]
    measured_at: str
    machine: str
    threads: int
    batch_size: int


def machine_description() -> str:
    """A short description of this machine: processor (or architecture) and number of cores."""
    processor = platform.processor() or platform.machine() or "unknown processor"
    return f"{processor}, {os.cpu_count()} cores, {platform.system()}"


def timed_networks(profile: profiles.Profile | None = None, splits=None, *, thresholds: Sequence[float],
                   read_noise: float, chip_seed: int, read_seed: int, repeats: int) -> TimingRecord:
    """Wall time of streaming early stop for the software baseline and hardware PRIME, cached.

    Args:
        profile, splits: the run profile and its N-MNIST frames (loaded when None).
        thresholds: early-stop thresholds in (0, 1) to time beside the full-T run.
        read_noise: relative read noise of the chip (0.02 = 2 %).
        chip_seed: programming seed of the chip (:func:`primekit.chip.deploy.deploy`).
        read_seed: seed of the keyed read noise.
        repeats: interleaved repeats per batch (the fastest counts).
    """
    if not (is_count(repeats) and repeats >= 1):
        raise ValueError(f"repeats={repeats!r} must be a positive integer")
    profile = profile or profiles.get_profile()
    splits = splits or nmnist_frames(profile)
    thresholds = tuple(float(t) for t in thresholds)
    memristor = MemristorConfig(read_noise=read_noise)
    key = {"profile": profile, "thresholds": thresholds, "memristor": memristor, "chip_seed": chip_seed,
           "read_seed": read_seed, "repeats": repeats}

    def compute() -> TimingRecord:
        software = train_method("software-pruning", profile, splits).model
        chip, _ = deploy(train_method("memristor-pruning", profile, splits).model, memristor, seed=chip_seed)
        batches = batches_of(splits.test)
        rows = {tag: timed_sweep(model, batches, thresholds, repeats=repeats, read_seed=read_seed)
                for tag, model in (("software", software), ("hardware", chip))}
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
        return TimingRecord(rows, now, machine_description(), torch.get_num_threads(), int(batches[0][0].shape[1]))

    return cache.load_or_run("early-stop-timing", key, compute,
                             data_fingerprint=frames_fingerprint(splits.train, splits.test))
