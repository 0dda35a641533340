"""The benchmark's preset-exit policy stops every sample exactly where told (so the bench measures what it says)."""

from __future__ import annotations

import re

import pytest
import torch

from primekit.bench import _PresetExits, bench_early_stop, bench_read_modes
from primekit.inference.early_stop import run_early_stop
from primekit.snn.timeloop import StepModule


class Echo(StepModule):
    def init_state(self, batch_size):
        return None

    def step(self, x_t, state):
        return x_t, state


def test_preset_exits_are_taken_exactly():
    exits = torch.tensor([3, 1, 5, 2, 5, 4])
    result = run_early_stop(Echo(), torch.randn(5, 6, 10), _PresetExits(exits))
    assert torch.equal(result.exit_step, exits)
    assert result.steps_run == int(exits.sum())


def test_bench_early_stop_reports_the_preset_saving():
    full, early = bench_early_stop(n_samples=8, batch_size=4, timesteps=4, mean_exit=2.0, repeats=1)
    assert full.rate == pytest.approx(8 / full.seconds) and early.rate == pytest.approx(8 / early.seconds)
    # the note's step saving is 1 - (mean exit in the name) / T, and the time figures agree with the rates
    mean_exit = float(re.search(r"mean exit ([\d.]+)", early.name).group(1))
    steps_saved = float(re.search(r"steps saved ([-\d.]+)%", early.note).group(1)) / 100
    assert steps_saved == pytest.approx(1 - mean_exit / 4, abs=0.006)
    time_saved = float(re.search(r"time saved ([-\d.]+)%", early.note).group(1)) / 100
    assert time_saved == pytest.approx(1 - early.seconds / full.seconds, abs=0.0006)
    assert 1 <= mean_exit <= 3  # exits drawn uniformly on 1..3


def test_bench_early_stop_refuses_a_mean_exit_it_cannot_draw():
    with pytest.raises(ValueError, match=r"mean_exit=9.0 must be in \[1, 5.5\]"):
        bench_early_stop(n_samples=4, mean_exit=9.0)


def test_bench_read_modes_reports_every_mode_and_the_ratio():
    results = bench_read_modes(batch_size=4, timesteps=2, repeats=1)
    assert [r.name.split(",")[1].split("[")[0].strip() for r in results[:3]] == \
        ["noiseless", "shared read", "per-sample reads"]
    assert [r.rate for r in results] == pytest.approx([4 / r.seconds for r in results])  # samples of batch 4 per s
    ratio = float(re.search(r"([\d.]+) x the shared read", results[2].note).group(1))
    assert ratio == pytest.approx(results[2].seconds / results[1].seconds, abs=0.006)
    share = float(re.search(r"(\d+)% of the per-sample run", results[3].note).group(1)) / 100
    assert share == pytest.approx(results[3].seconds / results[2].seconds, abs=0.006)
