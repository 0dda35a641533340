"""Benchmark (not a test): a whole test split on a chip with per-sample reads against one shared read per step.

    python tests/bench_read_modes_split.py [profile]     # default: book (its data and network from the cache)

Runs the trained Memristor Pruning network over the profile's whole test split, full T, 20 % read noise,
in both read modes, five interleaved repeats, and prints the median times and the median per-repeat ratio
(the issue's budget: per-sample reads cost at most 2x the shared read). ``python -m primekit bench`` has the
same comparison on one synthetic batch.
"""

from __future__ import annotations

import statistics
import sys
import time

import primekit
from primekit import profiles
from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.experiments.training import train_method
from primekit.inference.evaluate import record_outputs


def main(profile_name: str = "book", repeats: int = 5) -> dict[str, float]:
    profile = profiles.get_profile(profile_name)
    splits = primekit.nmnist_frames(profile)
    model = train_method("memristor-pruning", profile, splits).model
    chips = {mode: deploy(model, MemristorConfig(read_noise=0.2, read_mode=mode), seed=1)[0]
             for mode in ("per-step", "per-sample")}
    times: dict[str, list[float]] = {mode: [] for mode in chips}
    for _ in range(repeats):
        for mode, chip in chips.items():
            start = time.perf_counter()
            record_outputs(chip, splits.test, read_seed=3, show_progress=False)
            times[mode].append(time.perf_counter() - start)
    ratio = statistics.median(a / b for a, b in zip(times["per-sample"], times["per-step"]))
    result = {f"{mode} s": statistics.median(values) for mode, values in times.items()} | {"ratio": ratio}
    print(f"{len(splits.test)} test samples, T = {splits.test.spec.timesteps}, profile {profile.name}: "
          f"shared read {result['per-step s']:.3f} s, per-sample reads {result['per-sample s']:.3f} s, "
          f"{ratio:.2f} x")
    return result


if __name__ == "__main__":
    main(*sys.argv[1:2])
