"""primekit beside snnTorch and SpikingJelly on the PRIME N-MNIST network: ``python -m primekit bench --compare``.

Every implementation runs the same network (two subnet convolutions with LIF neurons, average pools, a
subnet linear readout into non-spiking integrators, logits = time mean) with the same frozen weights, the
same scores and masks, the same frames and batch, on the same torch threads, in one process:

- ``primekit``: :class:`primekit.snn.models.PRIMENet` as :func:`primekit.experiments.training.fit` trains it
  (``model.logits``), and inference through the one evaluation path (:func:`primekit.inference.evaluate.run_split`);
- ``snnTorch``: ``snntorch.Leaky`` (reset to zero, beta 0.2, threshold 0.2, a rectangle surrogate of
  half-width 0.5), one step at a time;
- ``SpikingJelly``: ``LIFNode`` (tau 1.25 without input decay, i.e. retention 0.2; hard reset to 0;
  ``PiecewiseLeakyReLU(w=0.5, c=0)``, the same rectangle), single-step mode, its torch (CPU) path;
- ``layers only``: the same convolutions, pools and linear map over T with no neuron and the masks
  pre-applied, the faster of step by step and time-folded; all three weight tensors get gradients. No SNN
  library can run the network faster than this.

The peers learn the mask the way primekit does: scores ``S`` with a top-k mask ``M`` and the straight-through
weight ``W * (M + |S| - |S|.detach())``, formed once per forward. Training is one step of cross entropy on
the time-mean logits, backward and Adam; inference is the forward pass without gradients. Timings are
medians of interleaved repeats (each repeat times every implementation once, in turn); a ratio to the limit
is the median of the per-repeat ratios; peak memory is the
peak resident set of a fresh subprocess per implementation that builds the network and runs two training
steps and one inference. The peers are optional (``pip install primekit[bench]``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from primekit.snn.subnet import topk_mask

#: Names of the implementations, in the table's order.
IMPLEMENTATIONS = ("primekit", "snnTorch", "SpikingJelly", "layers only")
#: What each peer cannot express of PRIME's neuron (the table's notes).
NOTES = {
    "snnTorch": "no LeakyReLU on the membranes; reset signal detached (snnTorch's rule); output: Leaky, beta 1, no reset",
    "SpikingJelly": "no LeakyReLU on the membranes; spikes at v >= threshold (PRIME: >); output integrator in plain torch",
    "layers only": "no neuron: the convolutions, pools and linear map alone, masks pre-applied",
}
NEURON = {"retention": 0.2, "threshold": 0.2, "half_width": 0.5}


@dataclass
class Setup:
    """The shared work: frozen weights, scores and keep ratio by layer, frames ``[T, B, 2, 34, 34]`` and labels."""

    weights: dict[str, torch.Tensor]
    scores: dict[str, torch.Tensor]
    keep_ratio: float
    x: torch.Tensor
    labels: torch.Tensor


def make_setup(batch_size: int = 64, timesteps: int = 10, seed: int = 0) -> Setup:
    """The PRIME network's software weights and initial scores from ``seed``, Poisson(0.5) frames from ``seed + 1``."""
    from primekit.snn.models import PRIMENet, software_sources

    model = PRIMENet(software_sources(seed=seed), seed=seed)
    layers = {"conv0": model.conv0, "conv1": model.conv1, "linear": model.linear}
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.poisson(0.5 * torch.ones(timesteps, batch_size, 2, 34, 34), generator=generator)
    labels = torch.randint(0, 10, (batch_size,), generator=generator)
    return Setup({n: m.weight_source.read().detach().clone() for n, m in layers.items()},
                 {n: m.scores.detach().clone() for n, m in layers.items()}, model.conv0.keep_ratio, x, labels)


class _MaskedWeights(nn.Module):
    """Frozen weights, trainable scores; ``weights()`` gives the straight-through masked weights (mask cached by
    the scores' version, as primekit does)."""

    def __init__(self, setup: Setup):
        super().__init__()
        self.keep_ratio = setup.keep_ratio
        for name in setup.weights:
            self.register_buffer(f"w_{name}", setup.weights[name].clone())
            self.register_parameter(f"s_{name}", nn.Parameter(setup.scores[name].clone()))
        self._cache: dict[str, tuple[int, torch.Tensor]] = {}

    def weights(self) -> list[torch.Tensor]:
        out = []
        for name in ("conv0", "conv1", "linear"):
            scores = getattr(self, f"s_{name}")
            cached = self._cache.get(name)
            if cached is None or cached[0] != scores._version:
                with torch.no_grad():
                    cached = self._cache[name] = (scores._version, topk_mask(scores, self.keep_ratio))
            magnitude = scores.abs()
            out.append(getattr(self, f"w_{name}") * (cached[1] + (magnitude - magnitude.detach())))
        return out


class _RectangleSpike(torch.autograd.Function):
    """``H(x) = 1 if x > 0``; backward: 1 where ``|x| < 0.5`` (PRIME's rectangle), for snnTorch's ``spike_grad``."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() < NEURON["half_width"]).to(grad.dtype) / (2 * NEURON["half_width"])


class SnnTorchNet(nn.Module):
    """The PRIME network with snnTorch ``Leaky`` neurons, stepped over time by hand (snnTorch's usual loop)."""

    def __init__(self, setup: Setup):
        import snntorch

        super().__init__()
        self.masked = _MaskedWeights(setup)
        self.lif0, self.lif1 = (snntorch.Leaky(beta=NEURON["retention"], threshold=NEURON["threshold"],
                                               spike_grad=_RectangleSpike.apply, reset_mechanism="zero")
                                for _ in range(2))
        self.out = snntorch.Leaky(beta=1.0, reset_mechanism="none")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w0, w1, w2 = self.masked.weights()
        mem0, mem1, mem2 = self.lif0.init_leaky(), self.lif1.init_leaky(), self.out.init_leaky()
        total = 0.0
        for x_t in x:
            s0, mem0 = self.lif0(F.conv2d(x_t, w0, padding=1), mem0)
            s1, mem1 = self.lif1(F.conv2d(F.avg_pool2d(s0, 2), w1), mem1)
            _, mem2 = self.out(F.linear(F.avg_pool2d(s1, 2).flatten(1), w2), mem2)
            total = total + mem2
        return total / x.shape[0]


class SpikingJellyNet(nn.Module):
    """The PRIME network with SpikingJelly ``LIFNode`` neurons in single-step mode (torch backend)."""

    def __init__(self, setup: Setup):
        logging.getLogger("torch._library.triton").setLevel(logging.ERROR)  # its import warns: no GPU compiler
        from spikingjelly.activation_based import neuron, surrogate

        super().__init__()
        self.masked = _MaskedWeights(setup)
        tau = 1.0 / (1.0 - NEURON["retention"])  # v <- v - v / tau + x: retention 1 - 1 / tau
        self.lif0, self.lif1 = (neuron.LIFNode(tau=tau, decay_input=False, v_threshold=NEURON["threshold"],
                                               v_reset=0.0, detach_reset=False, step_mode="s",
                                               surrogate_function=surrogate.PiecewiseLeakyReLU(
                                                   w=NEURON["half_width"], c=0.0))
                                for _ in range(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from spikingjelly.activation_based import functional

        functional.reset_net(self)
        w0, w1, w2 = self.masked.weights()
        v, total = 0.0, 0.0
        for x_t in x:
            s0 = self.lif0(F.conv2d(x_t, w0, padding=1))
            s1 = self.lif1(F.conv2d(F.avg_pool2d(s0, 2), w1))
            v = v + F.linear(F.avg_pool2d(s1, 2).flatten(1), w2)
            total = total + v
        return total / x.shape[0]


class LayersOnly(nn.Module):
    """The network's convolutions, pools and linear map over T with no neuron (masks pre-applied, weights
    trainable): ``folded`` runs each layer once over all ``T x B`` frames, else step by step."""

    def __init__(self, setup: Setup, folded: bool):
        super().__init__()
        self.folded = folded
        weights = {n: w * topk_mask(setup.scores[n], setup.keep_ratio) for n, w in setup.weights.items()}
        self.w0, self.w1, self.w2 = (nn.Parameter(weights[n].clone()) for n in ("conv0", "conv1", "linear"))

    def _layers(self, frames: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool2d(F.conv2d(frames, self.w0, padding=1), 2)
        return F.linear(F.avg_pool2d(F.conv2d(h, self.w1), 2).flatten(1), self.w2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps, batch = x.shape[:2]
        if self.folded:
            return self._layers(x.reshape(steps * batch, *x.shape[2:])).view(steps, batch, -1).mean(dim=0)
        return torch.stack([self._layers(x_t) for x_t in x]).mean(dim=0)


def peers_missing() -> list[str]:
    """The optional peer packages that are not installed (empty when both are)."""
    return [p for p in ("snntorch", "spikingjelly") if importlib.util.find_spec(p) is None]


def build(name: str, setup: Setup) -> tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]:
    """The module of implementation ``name`` and its logits function (frames -> ``[B, 10]``)."""
    if name == "primekit":
        from primekit.snn.models import PRIMENet
        from primekit.snn.weight_sources import FrozenWeights

        model = PRIMENet({n: FrozenWeights(w) for n, w in setup.weights.items()}, setup.keep_ratio)
        with torch.no_grad():
            for n in setup.scores:
                getattr(model, n).scores.copy_(setup.scores[n])
        return model, model.logits
    if name in ("layers only", "layers only (step)", "layers only (folded)"):
        model = LayersOnly(setup, folded=name.endswith("(folded)"))
        return model, model
    if name in ("snnTorch", "SpikingJelly"):
        model = (SnnTorchNet if name == "snnTorch" else SpikingJellyNet)(setup)
        return model, model
    raise ValueError(f"name={name!r} must be one of {IMPLEMENTATIONS + ('layers only (step)', 'layers only (folded)')}")


def _tasks(name: str, setup: Setup) -> tuple[Callable[[], None], Callable[[], None]]:
    """``(train_step, inference)`` of implementation ``name`` on ``setup``."""
    model, logits = build(name, setup)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def train_step():
        model.train()
        loss = F.cross_entropy(logits(setup.x), setup.labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    if name == "primekit":
        from primekit.inference.evaluate import Batch, run_split

        batch = Batch(setup.x, setup.labels, torch.arange(setup.x.shape[1]))

        def inference():
            run_split(model, [batch])
    else:
        def inference():
            model.eval()
            with torch.no_grad():
                logits(setup.x)
    return train_step, inference


def time_interleaved(tasks: dict[str, Callable[[], None]], repeats: int = 7, warmup: int = 2) -> dict[str, list[float]]:
    """Wall times (s) of every task, ``repeats`` rounds each timing every task once (order rotated per round)."""
    names = list(tasks)
    for _ in range(warmup):
        for name in names:
            tasks[name]()
    times = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            tasks[name]()
            times[name].append(time.perf_counter() - start)
    return times


def peak_memory_mb(name: str | None, batch_size: int, timesteps: int, threads: int) -> float:
    """Peak resident memory (MB, the process's ``VmHWM``) of a fresh Python that builds the setup and runs two
    training steps and one inference of ``name`` (``None``: only imports and builds the setup, the baseline).

    ``VmHWM`` belongs to the new process image; ``ru_maxrss`` would not do, Linux keeps it across ``exec``.
    """
    work = "" if name is None else "train, infer = b._tasks(%r, s); train(); train(); infer(); " % name
    code = ("import torch; torch.set_num_threads(%d); from primekit import bench_compare as b; "
            "s = b.make_setup(%d, %d); %s"
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
            % (threads, batch_size, timesteps, work))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    if result.returncode != 0:
        raise RuntimeError(f"the memory probe of {name!r} failed: {result.stderr.strip()[-500:]}")
    return int(result.stdout.split()[-1]) / 1024  # VmHWM is in kB


@dataclass(frozen=True)
class CompareRow:
    """One implementation: training and inference samples/s (medians), peak memory (MB), ratios to the limit."""

    name: str
    train_rate: float
    infer_rate: float
    peak_mb: float
    train_ratio: float
    infer_ratio: float
    note: str = ""


def compare(batch_size: int = 64, timesteps: int = 10, repeats: int = 7, memory: bool = True) -> list[CompareRow]:
    """The comparison table's rows (see the module docstring); the limit is the faster layers-only variant."""
    missing = peers_missing()
    if missing:
        raise RuntimeError(f"bench --compare needs {', '.join(missing)}: pip install 'primekit[bench]' "
                           f"(keep your torch pin, e.g. pip install -e '.[bench]' 'torch==2.13.0')")
    setup = make_setup(batch_size, timesteps)
    names = ["primekit", "snnTorch", "SpikingJelly", "layers only (step)", "layers only (folded)"]
    tasks, first = {}, {}
    for name in names:
        train, infer = _tasks(name, setup)
        tasks[(name, "train")], tasks[(name, "infer")] = train, infer
    for kind in ("train", "infer"):  # primekit's first calls load (or compile) its Numba kernels
        start = time.perf_counter()
        tasks[("primekit", kind)]()
        first[kind] = time.perf_counter() - start
    times = time_interleaved(tasks, repeats)
    rate = {key: batch_size / statistics.median(t) for key, t in times.items()}
    limits = {}
    for kind in ("train", "infer"):
        best = max(("layers only (step)", "layers only (folded)"), key=lambda n: rate[(n, kind)])
        limits[kind] = (rate[(best, kind)], best)
    threads = torch.get_num_threads()
    rows = [CompareRow("(import + setup only)", float("nan"), float("nan"),
                       peak_memory_mb(None, batch_size, timesteps, threads) if memory else float("nan"),
                       float("nan"), float("nan"), "peak memory of the baseline every subprocess starts from")]
    for name in names:
        peak = peak_memory_mb(name, batch_size, timesteps, threads) if memory else float("nan")
        note = NOTES.get("layers only" if name.startswith("layers") else name, "")
        if name == "primekit":
            note = (f"training and plain inference time-folded (fused LIF + pool kernels, Numba), through run_split "
                    f"(no hook or policy needs steps); first training step {first['train']:.2f} s, first inference "
                    f"{first['infer']:.2f} s (kernels compiled once, cached on disk; shrinking batches never recompile)")
        if name.startswith("layers"):
            chosen = [k for k in ("train", "infer") if limits[k][1] == name]
            note = f"{note}; the limit for {' and '.join(chosen) or 'neither'}"
        ratio = {kind: statistics.median(lim / own for lim, own in zip(times[(limits[kind][1], kind)],
                                                                           times[(name, kind)]))
                 for kind in ("train", "infer")}  # per round, so drifts of the machine's speed cancel
        rows.append(CompareRow(name, rate[(name, "train")], rate[(name, "infer")], peak, ratio["train"],
                               ratio["infer"], note))
    return rows


def format_table(rows: list[CompareRow]) -> str:
    """The rows as a plain-text table with its notes below."""
    lines = [f"{'implementation':<22} {'train/s':>9} {'x limit':>8} {'infer/s':>9} {'x limit':>8} {'peak MB':>8}"]
    def cell(value: float, width: int, digits: int) -> str:
        return f"{'-':>{width}}" if value != value else f"{value:{width}.{digits}f}"  # NaN: not measured

    for r in rows:
        lines.append(f"{r.name:<22} {cell(r.train_rate, 9, 1)} {cell(r.train_ratio, 8, 2)} "
                     f"{cell(r.infer_rate, 9, 1)} {cell(r.infer_ratio, 8, 2)} {cell(r.peak_mb, 8, 0)}")
    lines.append("notes:")
    lines.extend(f"  {r.name}: {r.note}" for r in rows if r.note)
    return "\n".join(lines)


class EarlyStopRow(NamedTuple):
    """Streaming early stop at one preset exit distribution: mean exit step, and the steps and wall time
    saved (fractions); ``time_saved / steps_saved`` is the realised share (1: every skipped step saved its time)."""

    mean_exit: float
    steps_saved: float
    time_saved: float


def early_stop_rows(mean_exits=(8, 6, 4, 2), n_samples: int = 500, batch_size: int = 250, timesteps: int = 10,
                    repeats: int = 7) -> list[EarlyStopRow]:
    """Streaming early stop on the PRIME network (random weights, Poisson input) through the evaluation path,
    each sample leaving at a preset exit (``mean_exit + {-2..2}``, clipped to 1..T), against the full-T run
    through the same code; times are medians of interleaved repeats."""
    from primekit.bench import _PresetExits
    from primekit.inference.early_stop import run_early_stop, steps_saved
    from primekit.snn.models import PRIMENet, software_sources

    if any(not 1 <= m <= timesteps for m in mean_exits):
        raise ValueError(f"mean_exits={mean_exits!r} must lie in [1, timesteps={timesteps}]")
    model = PRIMENet(software_sources(seed=0)).eval()
    generator = torch.Generator().manual_seed(2)
    x = torch.poisson(0.5 * torch.ones(timesteps, n_samples, 2, 34, 34), generator=generator)
    spread = torch.randint(-2, 3, (n_samples,), generator=generator)
    exits = {m: (m + spread).clamp(1, timesteps) for m in mean_exits}
    exits[timesteps + 1] = torch.full((n_samples,), timesteps)  # the full-T run, keyed apart from a level T

    def stream(e: torch.Tensor) -> Callable[[], None]:
        def go():
            for i in range(0, n_samples, batch_size):
                run_early_stop(model, x[:, i:i + batch_size], _PresetExits(e[i:i + batch_size]),
                               samples=torch.arange(i, min(i + batch_size, n_samples)))
        return go

    times = time_interleaved({m: stream(e) for m, e in exits.items()}, repeats, warmup=1)
    full = statistics.median(times[timesteps + 1])
    return [EarlyStopRow(float(exits[m].float().mean()), steps_saved(exits[m], timesteps),
                         1.0 - statistics.median(times[m]) / full) for m in mean_exits]


def run_compare(repeats: int = 7, batch_size: int = 64, timesteps: int = 10) -> str:
    """The whole report of ``python -m primekit bench --compare`` as text: the table and the early-stop rows."""
    rows = compare(batch_size, timesteps, repeats)
    lines = [f"PRIME N-MNIST network, T = {timesteps}, batch {batch_size}, {torch.get_num_threads()} threads, "
             f"medians of {repeats} interleaved repeats (samples/s); peak MB: one subprocess each",
             format_table(rows), "",
             "streaming early stop (preset exits, 500 samples, batch 250): wall time saved against steps saved"]
    for r in early_stop_rows(timesteps=timesteps, repeats=repeats):
        lines.append(f"  mean exit {r.mean_exit:4.2f}: steps saved {r.steps_saved:5.1%}, time saved "
                     f"{r.time_saved:5.1%}, realised {r.time_saved / r.steps_saved:.2f}")
    from primekit.bench_vae import vae_report  # it reuses this module's timing
    return "\n".join(lines + ["", vae_report(repeats=repeats)])
