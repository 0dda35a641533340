"""Random draws keyed by (seed, stream, sample, step): a sample's randomness never depends on its batch.

Read noise on a chip (and, later, the spiking VAE's posterior sampling) must not depend on which other
samples share a batch, on the sample's position in it, or on when other samples leave it (streaming
early stop). So every such draw comes from a stream keyed by

- ``seed``: the run's seed (e.g. the ``read_seed`` of :func:`primekit.inference.evaluate.run_split`);
- ``stream``: who draws (a chip layer's own seed, a sampling layer's seed);
- ``sample``: the sample's index in its split (not its position in the batch);
- ``step``: the time index ``t`` (0 for the first frame).

The evaluation path tells the model, before each step, the split indices of the samples in the batch
and the step (:func:`keyed`, a context manager around ``model.step``); a layer that draws asks
:func:`current_keys` and calls :func:`normal` / :func:`uniform`, which return ``[B, *shape]`` with row
``b`` drawn from the stream of sample ``samples[b]``.

Implementation of :func:`normal` / :func:`uniform`: one torch CPU generator re-seeded per (sample, stream,
step) with a 64-bit mix (splitmix64) of the four keys folded to the 32 bits torch's Mersenne twister accepts,
then one ``torch.randn`` / ``torch.rand`` of the sample's values.

:func:`add_noise` (the chip's per-sample read, millions of values per step) is counter-based instead: value
``i`` of a sample is ``TABLE[16 bits of splitmix64(key + i // 4)]``, one 64-bit hash giving four values, where
``TABLE`` holds the 65,536 equiprobable quantiles of N(0, 1) rescaled to unit variance. So its values have
mean 0 and variance 1 exactly, are cut at +-4.2 sigma (probability 3e-5 for a true Gaussian), and cost one hash
per four values inside one pass that also forms ``mean + sqrt(variance) * z``: about 4x cheaper than
``torch.randn`` and its arithmetic (measured in ``python -m primekit bench``). Re-seeding costs about a microsecond, so the
draw costs about what one batched ``torch.randn`` of the same size costs (measured in
``python -m primekit bench``). Two different keys share a stream with probability 2^-32 per pair (the
seed width of torch's CPU generator); at 10^5 keys per run that is a handful of pairs of (sample, step,
layer) draws that repeat each other somewhere in a run, which no statistic of a run can see.
"""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator, NamedTuple

import numpy as np
import torch

from primekit.checks import check_integer

_MASK64 = (1 << 64) - 1


class DrawKeys(NamedTuple):
    """The keys of one step of one batch.

    Attributes:
        samples: ``[B]`` int64, each sample's index in its split (row ``b`` of the batch is sample ``samples[b]``).
        step: the time index (0 for the first frame).
        seed: the run's seed (an integer in [0, 2**64)).
    """

    samples: torch.Tensor
    step: int
    seed: int = 0


_current: ContextVar[DrawKeys | None] = ContextVar("primekit_draw_keys", default=None)


def _check_keys(samples, step, seed) -> DrawKeys:
    samples = torch.as_tensor(samples)
    if samples.dim() != 1 or samples.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise ValueError(f"samples must be a 1-D integer tensor of split indices; got shape {tuple(samples.shape)}, "
                         f"dtype {samples.dtype}")
    if len(samples) and int(samples.min()) < 0:
        raise ValueError(f"samples must be split indices >= 0; got a minimum of {int(samples.min())}")
    for name, value in (("step", step), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= _MASK64:
            raise ValueError(f"{name}={value!r} must be an integer in [0, 2**64)")
    return DrawKeys(samples.long(), int(step), int(seed))


@contextmanager
def keyed(samples, step: int, seed: int = 0) -> Iterator[DrawKeys]:
    """Within the block, draws are keyed by ``samples`` (``[B]`` split indices), ``step`` and ``seed``."""
    token = _current.set(_check_keys(samples, step, seed))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current_keys() -> DrawKeys | None:
    """The keys set by the innermost :func:`keyed` block (None outside any)."""
    return _current.get()


def fallback_keys(batch_size: int, step: int, seed: int = 0) -> DrawKeys:
    """Keys for a model run outside the evaluation path: the batch position stands in for the split index.

    Reproducible, but a sample's draws then depend on its position in the batch; the evaluation path
    (:func:`primekit.inference.evaluate.run_split`) always sets real keys.
    """
    return _check_keys(torch.arange(check_integer("batch_size", batch_size, 1)), step, seed)


def _splitmix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _check_stream(stream) -> int:
    if isinstance(stream, bool) or not isinstance(stream, (int, np.integer)) or not 0 <= stream <= _MASK64:
        raise ValueError(f"stream={stream!r} must be an integer in [0, 2**64)")
    return int(stream)


def _base(seed: int, stream: int, step: int) -> np.ndarray:
    base = np.array([seed], dtype=np.uint64)
    for word in (stream, step):
        base = _splitmix(base ^ np.uint64(word))
    return base


def _fold32(mixed: np.ndarray) -> np.ndarray:
    return (mixed ^ (mixed >> np.uint64(32))) & np.uint64(0xFFFFFFFF)


def stream_seeds(keys: DrawKeys, stream: int) -> np.ndarray:
    """The 32-bit generator seed of every sample of ``keys`` for ``stream``: ``[B]`` uint64 values < 2**32."""
    stream = _check_stream(stream)
    with np.errstate(over="ignore"):
        mixed = _splitmix(_base(keys.seed, stream, keys.step) ^ keys.samples.numpy().astype(np.uint64))
    return _fold32(mixed)


_GENERATOR = torch.Generator()


def _fill(shape, stream: int, keys: DrawKeys | None, dtype: torch.dtype,
          draw: Callable[[torch.Tensor, torch.Generator], None]) -> torch.Tensor:
    keys = current_keys() if keys is None else keys
    if keys is None:
        raise ValueError("no draw keys are set: run the model through primekit.inference.evaluate.run_split, "
                         "or inside primekit.snn.draws.keyed(samples, step, seed)")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"shape={shape!r} must hold sizes >= 0")
    out = torch.empty((len(keys.samples), *shape), dtype=dtype)
    rows = out.view(len(keys.samples), -1)
    generator = _GENERATOR
    for b, seed in enumerate(stream_seeds(keys, stream).tolist()):
        generator.manual_seed(seed)
        draw(rows[b], generator)
    return out


def normal(shape, stream: int, keys: DrawKeys | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal values ``[B, *shape]``; row ``b`` from the stream of (seed, ``stream``, sample b, step).

    ``keys`` defaults to :func:`current_keys` (an error outside any :func:`keyed` block).
    """
    return _fill(shape, stream, keys, dtype, lambda row, g: torch.randn(row.shape, generator=g, dtype=dtype, out=row))


def uniform(shape, stream: int, keys: DrawKeys | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Uniform values on [0, 1), ``[B, *shape]``, keyed as :func:`normal`."""
    return _fill(shape, stream, keys, dtype, lambda row, g: torch.rand(row.shape, generator=g, dtype=dtype, out=row))


def shared_generator(stream: int, step: int, seed: int = 0) -> torch.Generator:
    """A generator keyed by (seed, ``stream``, ``step``) only: one draw shared by every sample of a step
    (a stream of its own, distinct from every per-sample stream)."""
    keys = _check_keys(torch.zeros(0, dtype=torch.long), step, seed)
    with np.errstate(over="ignore"):
        mixed = _splitmix(_splitmix(_base(keys.seed, _check_stream(stream), keys.step)) ^ np.uint64(_SHARED))
    generator = torch.Generator()
    generator.manual_seed(int(_fold32(mixed)[0]))
    return generator


_SHARED = 0x5348415245445F52  # "SHARED_R": the label of the batch-shared streams

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TABLE_BITS = 16


def _normal_table() -> np.ndarray:
    """The 2**16 equiprobable quantiles of N(0, 1), ``ndtri((k + 0.5) / 2**16)``, rescaled to unit variance."""
    size = 1 << _TABLE_BITS
    table = torch.special.ndtri((torch.arange(size, dtype=torch.float64) + 0.5) / size)
    return (table / table.pow(2).mean().sqrt()).numpy()


TABLE = _normal_table()


def _sample_keys(keys: DrawKeys, stream: int) -> np.ndarray:
    """The 64-bit counter base of every sample of ``keys`` for ``stream`` (``[B]`` uint64)."""
    stream = _check_stream(stream)
    with np.errstate(over="ignore"):
        return _splitmix(_splitmix(_base(keys.seed, stream, keys.step) ^ keys.samples.numpy().astype(np.uint64))
                         ^ np.uint64(_TABLE_KEY))


_TABLE_KEY = 0x5441424C455F4E31  # "TABLE_N1": table draws never share a stream with normal()


def table_normal_reference(n: int, sample_keys: np.ndarray) -> np.ndarray:
    """The table normals of :func:`add_noise`, ``[B, n]`` float64, computed with NumPy (the specification the
    compiled kernel is tested against)."""
    words = np.arange((n + 3) // 4, dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = _splitmix(sample_keys[:, None] + words[None, :] * _GOLDEN)  # [B, words]
    chunks = (mixed[:, :, None] >> (np.uint64(16) * np.arange(4, dtype=np.uint64))) & np.uint64(0xFFFF)
    return TABLE[chunks.reshape(len(sample_keys), -1)[:, :n].astype(np.int64)]


_KERNEL = None


def _kernel():
    """The compiled pass ``out = mean + sqrt(max(variance, 0)) * z`` (Numba, parallel over samples)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(parallel=True, cache=True, nogil=True)
        def noisy(mean, variance, out, sample_keys, table):  # pragma: no cover - compiled
            batch, n = mean.shape
            golden, mask = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xFFFF)
            for b in numba.prange(batch):
                for word in range((n + 3) // 4):
                    z = sample_keys[b] + np.uint64(word) * golden + golden  # splitmix64
                    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
                    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
                    z = z ^ (z >> np.uint64(31))
                    for k in range(4):
                        i = 4 * word + k
                        if i < n:
                            v = variance[b, i]
                            std = np.sqrt(v) if v > 0 else 0.0
                            out[b, i] = mean[b, i] + std * table[(z >> np.uint64(16 * k)) & mask]

        _KERNEL = noisy
    return _KERNEL


def add_noise(mean: torch.Tensor, variance: torch.Tensor, stream: int, keys: DrawKeys | None = None, *,
              out: torch.Tensor | None = None) -> torch.Tensor:
    """``mean + sqrt(max(variance, 0)) * z`` with ``z`` standard normal (the table normal described above),
    row ``b`` keyed by (seed, ``stream``, sample ``b``, step). ``mean`` and ``variance``: ``[B, ...]``, the same
    shape; ``out`` may be ``mean`` itself (in place). Without gradients only: see :func:`table_normal`."""
    keys = current_keys() if keys is None else keys
    if keys is None:
        raise ValueError("no draw keys are set: run the model through primekit.inference.evaluate.run_split, "
                         "or inside primekit.snn.draws.keyed(samples, step, seed)")
    if mean.shape != variance.shape or mean.shape[0] != len(keys.samples):
        raise ValueError(f"mean {tuple(mean.shape)} and variance {tuple(variance.shape)} must have the same shape, "
                         f"with one row per keyed sample ({len(keys.samples)})")
    out = torch.empty_like(mean) if out is None else out
    batch = mean.shape[0]
    flat = [t.reshape(batch, -1) for t in (mean.contiguous(), variance.contiguous())]
    sample_keys = _sample_keys(keys, stream)
    if _HAVE_NUMBA and mean.device.type == "cpu" and out.is_contiguous() and mean.dtype in (torch.float32, torch.float64):
        _kernel()(flat[0].numpy(), flat[1].numpy(), out.view(batch, -1).numpy(), sample_keys, TABLE)
        return out
    z = torch.from_numpy(table_normal_reference(flat[0].shape[1], sample_keys)).to(mean.device, mean.dtype)
    out.copy_((flat[0] + flat[1].clamp_min(0).sqrt() * z).view_as(mean))
    return out


def table_normal(shape, stream: int, keys: DrawKeys | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``z`` of :func:`add_noise` as a tensor ``[B, *shape]`` (for a path that needs gradients):
    ``add_noise(mean, variance, ...) == mean + sqrt(variance) * table_normal(...)``."""
    keys = current_keys() if keys is None else keys
    if keys is None:
        raise ValueError("no draw keys are set: run inside primekit.snn.draws.keyed(samples, step, seed)")
    shape = tuple(int(s) for s in shape)
    n = int(np.prod(shape, dtype=np.int64))
    z = table_normal_reference(n, _sample_keys(keys, stream))
    return torch.from_numpy(z).to(dtype).reshape(len(keys.samples), *shape)


_HAVE_NUMBA = importlib.util.find_spec("numba") is not None
