"""Speed benchmarks: ``python -m primekit bench``.

Timings are medians over repeats after a warm-up, on however many threads torch uses here. Later
chapters add their networks; each entry reports samples (or neuron updates) per second.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch

from .neurons import LIF, PRIME_LIF
from .timeloop import run


@dataclass(frozen=True)
class BenchResult:
    """One benchmark line: ``rate`` items of ``unit`` per second (median of ``repeats`` runs)."""

    name: str
    seconds: float
    rate: float
    unit: str
    repeats: int

    def __str__(self) -> str:
        return f"{self.name:<44} {self.seconds * 1e3:9.2f} ms   {self.rate:12.4g} {self.unit}/s"


def time_call(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_lif(batch_size: int = 64, timesteps: int = 10, shape=(12, 32, 32), repeats: int = 5) -> list[BenchResult]:
    """LIF population the size of PRIME's first layer: forward, and forward + backward (BPTT)."""
    generator = torch.Generator().manual_seed(0)
    x = 0.3 * torch.rand(timesteps, batch_size, *shape, generator=generator)
    lif = LIF(PRIME_LIF, shape=shape)
    updates = timesteps * batch_size * x[0, 0].numel()

    def forward():
        with torch.no_grad():
            run(lif, x)

    def forward_backward():
        xg = x.clone().requires_grad_(True)
        run(lif, xg).outputs.sum().backward()

    results = []
    for name, fn in (("LIF forward", forward), ("LIF forward+backward", forward_backward)):
        seconds = time_call(fn, repeats)
        label = f"{name} [{timesteps}x{batch_size}x{'x'.join(map(str, shape))}]"
        results.append(BenchResult(label, seconds, updates / seconds, "neuron-updates", repeats))
    return results


def run_all(repeats: int = 5) -> list[BenchResult]:
    """Every benchmark primekit has."""
    return bench_lif(repeats=repeats)
