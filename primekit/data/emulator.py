"""An offline emulator of the N-MNIST recording protocol.

N-MNIST (Orchard et al. 2015) was recorded by an ATIS event camera (34 x 34 pixels used) looking at
MNIST digits on a monitor while a pan-tilt unit moved the camera through three saccades. Each pixel
reports an *event* (x, y, t, polarity) whenever its log intensity has changed by a contrast threshold
since its last event: ON when brighter, OFF when darker.

This module replays that protocol on real MNIST digits, one step of ``dt_ms`` at a time:

1. **Scene**: the digit as a *dark* figure on a bright background (intensity ``1 - contrast * ink``),
   blurred by the optics (Gaussian, ``blur_px``). In the recording's convention this is what the real
   files show: a pixel the stroke arrives at goes OFF, then ON when it leaves.
2. **Motion**: the image moves along a closed triangle, the displacements of Orchard's stabilisation
   code (down-right, up-right, then left back to the start: (3.5, 7), (7, 0), (0, 0) px with x right
   and y down), each saccade with a smooth bell-shaped speed profile (minimum jerk) and short pauses.
3. **Pixels**: each pixel keeps a reference log intensity; when the current value passes it by the
   pixel's threshold (ON and OFF thresholds with per-pixel mismatch, fixed for the one emulated sensor)
   it emits an event at the interpolated crossing time, moves the reference by one threshold and stays
   silent for a refractory period.
4. **Noise**: background events at a small rate per pixel, mostly ON, at random times.

Randomness (timing jitter, noise events) comes from per-sample generators seeded from the config seed
and the digit's index, so a digit's events never depend on which other digits are emulated with it.
Emulated data is labelled as emulated wherever the book uses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from primekit.checks import (
    check_finite,
    check_finite_numbers,
    check_indices,
    check_instance,
    check_integer,
    check_non_negative,
    check_positive,
)
from primekit.data.events import EVENT_DTYPE, SENSOR_SIZE
from primekit.progress import progress
from primekit.seeding import derive_seed

_DIGIT_PX = 28
_PAD_PX = 4  # room for the blur around the 28 x 28 digit


@dataclass(frozen=True)
class EmulatorConfig:
    """Parameters of the emulated recording (units in the names: px, ms, Hz; contrasts in log units).

    The defaults were chosen to resemble the real recording shipped in ``data/reference`` (see the Event
    data chapter, which compares the two); they are illustrative, not measured sensor parameters.
    """

    digit_origin_px: tuple[float, float] = (-0.3, 0.5)
    saccade_end_px: tuple[tuple[float, float], ...] = ((3.5, 7.0), (7.0, 0.0), (0.0, 0.0))
    saccade_ms: tuple[float, ...] = (95.0, 118.0, 85.0)
    pause_ms: float = 5.0
    start_ms: float = 2.0
    timing_jitter: float = 0.03
    contrast: float = 0.7
    blur_px: float = 1.0
    threshold_on: float = 0.13
    threshold_off: float = 0.13
    threshold_mismatch: float = 0.10
    refractory_ms: float = 1.0
    noise_rate_hz: float = 0.3
    noise_on_fraction: float = 0.8
    dt_ms: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("digit_origin_px", "saccade_end_px", "saccade_ms"):
            check_finite_numbers(name, getattr(self, name))
        if len(self.digit_origin_px) != 2 or any(len(end) != 2 for end in self.saccade_end_px):
            raise ValueError(f"digit_origin_px={self.digit_origin_px!r} and saccade_end_px={self.saccade_end_px!r} "
                             "must hold (x, y) pairs in pixels")
        check_integer("seed", self.seed, 0)
        check_positive(self, "pause_ms", "contrast", "threshold_on", "threshold_off", "dt_ms")
        check_non_negative(self, "start_ms", "timing_jitter", "blur_px", "threshold_mismatch", "refractory_ms",
                           "noise_rate_hz")
        if not self.contrast < 1:
            raise ValueError(f"contrast={self.contrast!r} must be < 1 (the digit cannot be darker than black)")
        check_non_negative(self, "noise_on_fraction")
        if not self.noise_on_fraction <= 1:
            raise ValueError(f"noise_on_fraction={self.noise_on_fraction!r} must be in [0, 1]")
        if len(self.saccade_ms) != len(self.saccade_end_px) or not self.saccade_ms:
            raise ValueError(
                f"saccade_ms has {len(self.saccade_ms)} entries but saccade_end_px has "
                f"{len(self.saccade_end_px)}: give one duration per saccade"
            )
        if any(not d > 0 for d in self.saccade_ms):
            raise ValueError(f"saccade_ms={self.saccade_ms!r} must all be > 0")
        if self.refractory_ms < self.dt_ms:
            raise ValueError(
                f"refractory_ms={self.refractory_ms!r} must be >= dt_ms={self.dt_ms!r}: the emulator emits at "
                f"most one event per pixel and step, so a shorter refractory period would lose events"
            )
        if not self.timing_jitter < 0.5:
            raise ValueError(f"timing_jitter={self.timing_jitter!r} must be < 0.5 (relative spread)")

    @property
    def duration_ms(self) -> float:
        """Nominal length of a recording: start, saccades and the pauses between them."""
        return self.start_ms + sum(self.saccade_ms) + self.pause_ms * (len(self.saccade_ms) - 1)


def minimum_jerk(fraction: np.ndarray) -> np.ndarray:
    """Position along a saccade (0 -> 1) at ``fraction`` of its duration: bell-shaped speed, zero at both ends."""
    s = np.clip(fraction, 0.0, 1.0)
    return s**3 * (10 - 15 * s + 6 * s**2)


def saccade_schedule(config: EmulatorConfig, rng: np.random.Generator) -> np.ndarray:
    """Start and end time (ms) of each saccade of one recording, ``[n_saccades, 2]``, with jitter."""
    jitter = 1 + config.timing_jitter * rng.standard_normal(len(config.saccade_ms))
    durations = np.asarray(config.saccade_ms) * np.clip(jitter, 0.5, 1.5)
    starts = config.start_ms + np.concatenate([[0.0], np.cumsum(durations[:-1] + config.pause_ms)])
    return np.stack([starts, starts + durations], axis=1)


def displacement_px(times_ms: np.ndarray, schedule: np.ndarray, config: EmulatorConfig) -> np.ndarray:
    """Image displacement (x right, y down, px) at ``times_ms`` for one saccade schedule, ``[len(t), 2]``."""
    corners = np.vstack([[0.0, 0.0], np.asarray(config.saccade_end_px, dtype=float)])
    position = np.zeros((len(times_ms), 2))
    position[:] = corners[0]
    for k, (start, end) in enumerate(schedule):
        progress_k = minimum_jerk((times_ms - start) / (end - start))[:, None]
        moving = times_ms >= start
        position[moving] = (corners[k] + progress_k * (corners[k + 1] - corners[k]))[moving]
    return position


def sensor_thresholds(config: EmulatorConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel ON and OFF thresholds ``[34, 34]`` of the one emulated sensor (mismatch fixed by seed)."""
    rng = np.random.default_rng(derive_seed(config.seed, "sensor-mismatch"))
    shape = SENSOR_SIZE[1], SENSOR_SIZE[0]
    spread = lambda: np.clip(1 + config.threshold_mismatch * rng.standard_normal(shape), 0.25, None)  # noqa: E731
    on = torch.tensor(config.threshold_on * spread(), dtype=torch.float32)
    off = torch.tensor(config.threshold_off * spread(), dtype=torch.float32)
    return on, off


def _blurred_canvas(digits: np.ndarray, blur_px: float) -> torch.Tensor:
    """Ink in [0, 1] of each digit on a canvas padded by ``_PAD_PX``, blurred: ``[B, 1, H, W]``."""
    ink = torch.as_tensor(digits, dtype=torch.float32).reshape(-1, 1, _DIGIT_PX, _DIGIT_PX) / 255.0
    canvas = F.pad(ink, (_PAD_PX,) * 4)
    if blur_px > 0:
        radius = max(1, math.ceil(3 * blur_px))
        offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
        kernel = torch.exp(-0.5 * (offsets / blur_px) ** 2)
        kernel = kernel / kernel.sum()
        # shifted sums, not conv2d: conv2d picks its algorithm by batch size and a digit's blur would then
        # depend on how many digits share its chunk (last-bit differences move events by 1 µs)
        canvas = _blur_along(canvas, kernel, dim=-1)
        canvas = _blur_along(canvas, kernel, dim=-2)
    return canvas


def _blur_along(canvas: torch.Tensor, kernel: torch.Tensor, dim: int) -> torch.Tensor:
    """Zero-padded 1-D convolution of ``canvas`` with the symmetric ``kernel`` along ``dim``, elementwise."""
    radius = (len(kernel) - 1) // 2
    size = canvas.shape[dim]
    padded = F.pad(canvas, (radius, radius) if dim == -1 else (0, 0, radius, radius))
    out = torch.zeros_like(canvas)
    for k, weight in enumerate(kernel):
        out += weight * padded.narrow(dim, k, size)
    return out


def _log_intensity(canvas: torch.Tensor, shift_px: torch.Tensor, config: EmulatorConfig) -> np.ndarray:
    """Log intensity seen by every sensor pixel, ``[S, B, 34 * 34]``, for shifts ``[S, B, 2]`` (px).

    One bilinear ``grid_sample`` for all S steps of all B digits (the canvas is shared across steps).
    """
    steps, batch = shift_px.shape[:2]
    size = canvas.shape[-1]
    width, height = SENSOR_SIZE[0], SENSOR_SIZE[1]
    origin_x = config.digit_origin_px[0] - _PAD_PX
    origin_y = config.digit_origin_px[1] - _PAD_PX
    # canvas coordinate seen by sensor pixel (x, y): x - origin - shift
    u = torch.arange(width, dtype=torch.float32) - origin_x - shift_px[..., 0:1]  # [S, B, W]
    v = torch.arange(height, dtype=torch.float32) - origin_y - shift_px[..., 1:2]  # [S, B, H]
    grid = torch.stack(
        [u[:, :, None, :].expand(steps, batch, height, width), v[:, :, :, None].expand(steps, batch, height, width)],
        dim=-1,
    ).reshape(steps * batch, height, width, 2)
    grid = grid / (size - 1) * 2 - 1  # align_corners=True: -1 is the first canvas pixel
    images = canvas.expand(steps, batch, 1, size, size).reshape(steps * batch, 1, size, size)
    ink = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return torch.log1p(-config.contrast * ink).reshape(steps, batch, height * width).numpy()


# ---------------------------------------------------------------------------------------------------
# For teaching: the emulator's intermediate quantities, computed exactly as emulate() computes them
# ---------------------------------------------------------------------------------------------------


def recording_schedule(index: int, config: EmulatorConfig = EmulatorConfig()) -> np.ndarray:
    """The saccade schedule ``[n_saccades, 2]`` (start, end in ms) that :func:`emulate` uses for the digit
    whose identity (``indices`` entry) is ``index``: each recording draws its own timing jitter."""
    rng = np.random.default_rng(derive_seed(config.seed, "recording", int(index)))
    return saccade_schedule(config, rng)


def nominal_schedule(config: EmulatorConfig = EmulatorConfig()) -> np.ndarray:
    """The saccade schedule ``[n_saccades, 2]`` (ms) without timing jitter: ``config.saccade_ms`` as given."""
    exact = replace(config, timing_jitter=0.0)
    return saccade_schedule(exact, np.random.default_rng(0))


def scene_log_intensity(
    digit: np.ndarray,
    times_ms: np.ndarray,
    config: EmulatorConfig = EmulatorConfig(),
    schedule: np.ndarray | None = None,
) -> np.ndarray:
    """Log intensity that every sensor pixel sees at ``times_ms``: float64 ``[len(times_ms), 34, 34]`` = ``[t, y, x]``.

    The scene of :func:`emulate` (the digit dark on a bright background, blurred, shifted along the
    saccade path and sampled bilinearly by the 34 x 34 pixels), for one digit. Values are
    ``log(1 - contrast * ink)``: 0 on the background, down to ``log(1 - contrast)`` on a full stroke.

    Args:
        digit: one MNIST image, ``[28, 28]`` or ``[784]``, 0-255.
        times_ms: times in ms (1-D).
        config: the emulated protocol.
        schedule: saccade start and end times ``[n_saccades, 2]`` (ms); None for
            :func:`nominal_schedule`. Pass ``recording_schedule(index, config)`` and the times
            ``k * config.dt_ms`` to get exactly the values :func:`emulate` thresholds for that digit.
    """
    digit = np.asarray(digit)
    if digit.shape not in ((_DIGIT_PX, _DIGIT_PX), (_DIGIT_PX * _DIGIT_PX,)):
        raise ValueError(f"digit must be [28, 28] or [784], got shape {digit.shape}")
    times_ms = np.asarray(times_ms, dtype=np.float64)
    if times_ms.ndim != 1:
        raise ValueError(f"times_ms must be 1-D, got shape {times_ms.shape}")
    schedule = nominal_schedule(config) if schedule is None else np.asarray(schedule, dtype=np.float64)
    canvas = _blurred_canvas(digit[None], config.blur_px)
    shifts = torch.tensor(displacement_px(times_ms, schedule, config)[:, None, :], dtype=torch.float32)
    width, height = SENSOR_SIZE[0], SENSOR_SIZE[1]
    return _log_intensity(canvas, shifts, config)[:, 0].reshape(len(times_ms), height, width).astype(np.float64)


def emulate(
    digits: np.ndarray,
    indices: np.ndarray | None = None,
    config: EmulatorConfig = EmulatorConfig(),
    *,
    chunk_size: int = 250,
    show_progress: bool = True,
) -> list[np.ndarray]:
    """Emulate N-MNIST recordings of MNIST ``digits`` (``[N, 28, 28]`` or ``[N, 784]``, 0-255).

    Args:
        digits: the images.
        indices: a stable identity per digit (e.g. its index in the MNIST file), used to seed its
            recording; defaults to ``0..N-1``.
        config: the emulated protocol and sensor.
        chunk_size: digits simulated together (memory vs speed; the result does not depend on it).

    Returns:
        one structured event array per digit (fields x, y, t in us, p; tonic's N-MNIST dtype), sorted by t.
    """
    check_instance("config", config, EmulatorConfig, "an EmulatorConfig")
    digits = np.asarray(digits)
    if digits.dtype.kind not in "iuf":
        raise ValueError(f"digits must hold numbers (intensities 0-255), got dtype {digits.dtype}")
    if digits.ndim == 2 and digits.shape[1] == _DIGIT_PX * _DIGIT_PX:
        digits = digits.reshape(-1, _DIGIT_PX, _DIGIT_PX)
    if digits.ndim != 3 or digits.shape[1:] != (_DIGIT_PX, _DIGIT_PX):
        raise ValueError(f"digits must be [N, 28, 28] or [N, 784], got shape {digits.shape}")
    check_finite("digits", digits)
    if digits.size and (digits.min() < 0 or digits.max() > 255):
        raise ValueError(f"digits must hold intensities in [0, 255], got [{digits.min()}, {digits.max()}]")
    if digits.size and 0 < digits.max() <= 1:
        raise ValueError(f"digits range from {digits.min()} to {digits.max()}: they look scaled to [0, 1], but the "
                         "emulator expects MNIST intensities 0-255 (multiply by 255)")
    indices = np.arange(len(digits)) if indices is None else check_indices("indices", indices)
    if indices.shape != (len(digits),):
        raise ValueError(f"indices must have one entry per digit ({len(digits)}), got shape {indices.shape}")
    chunk_size = check_integer("chunk_size", chunk_size, 1)

    thresholds = sensor_thresholds(config)
    starts = range(0, len(digits), chunk_size)
    chunks = progress(starts, desc="emulating N-MNIST", unit=f"chunks of {chunk_size} digits",
                                                     disable=not show_progress) if len(digits) else starts
    recordings: list[np.ndarray] = []
    for start in chunks:
        chunk = slice(start, start + chunk_size)
        recordings += _emulate_chunk(digits[chunk], indices[chunk], config, thresholds)
    return recordings


def _emulate_chunk(digits, indices, config: EmulatorConfig, thresholds, steps_per_block: int = 32) -> list[np.ndarray]:
    rngs = [np.random.default_rng(derive_seed(config.seed, "recording", int(i))) for i in indices]
    schedules = [saccade_schedule(config, rng) for rng in rngs]
    end_ms = max(s[-1, 1] for s in schedules) + config.pause_ms
    n_steps = int(math.ceil(end_ms / config.dt_ms))
    times_ms = np.arange(n_steps + 1) * config.dt_ms
    shifts = torch.tensor(
        np.stack([displacement_px(times_ms, s, config) for s in schedules], axis=1), dtype=torch.float32
    )  # [steps + 1, B, 2]

    canvas = _blurred_canvas(digits, config.blur_px)
    n_pixels = SENSOR_SIZE[0] * SENSOR_SIZE[1]
    # flat pixel arrays over (sample, y, x); thresholds are the one sensor's, the same for every sample
    threshold_on = np.tile(thresholds[0].numpy().reshape(-1), len(digits)).astype(np.float64)
    threshold_off = np.tile(thresholds[1].numpy().reshape(-1), len(digits)).astype(np.float64)
    previous = _log_intensity(canvas, shifts[:1], config)[0].reshape(-1).astype(np.float64)
    reference = previous.copy()
    last_event_ms = np.full_like(previous, -np.inf)
    found = []  # (flat pixel, t_ms, is_on) of each step's events
    for block_start in range(1, n_steps + 1, steps_per_block):
        block = _log_intensity(canvas, shifts[block_start:block_start + steps_per_block], config)
        for j, current in enumerate(block):
            k = block_start + j
            current = current.reshape(-1).astype(np.float64)
            difference = current - reference
            candidates = np.flatnonzero((difference > threshold_on) | (difference < -threshold_off))
            # refractory: a pixel that fired less than refractory_ms ago stays silent
            fired = candidates[last_event_ms[candidates] <= times_ms[k] - config.refractory_ms]
            if fired.size:
                is_on = difference[fired] > 0
                level = reference[fired] + np.where(is_on, threshold_on[fired], -threshold_off[fired])
                change = current[fired] - previous[fired]
                with np.errstate(divide="ignore", invalid="ignore"):
                    fraction = np.where(change != 0, (level - previous[fired]) / change, 1.0)
                event_ms = times_ms[k - 1] + np.clip(fraction, 0.0, 1.0) * config.dt_ms
                event_ms = np.maximum(event_ms, last_event_ms[fired] + config.refractory_ms)
                reference[fired] = level
                last_event_ms[fired] = event_ms
                found.append((fired, event_ms, is_on))
            previous = current

    pixel, t_ms, on = (np.concatenate(parts) for parts in zip(*found)) if found else (
        np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=bool))
    sample, within = np.divmod(pixel, n_pixels)
    y, x = np.divmod(within, SENSOR_SIZE[0])
    recordings = []
    for j, rng in enumerate(rngs):
        mine = sample == j
        noise = _noise_events(rng, config, schedules[j][-1, 1] + config.pause_ms)
        xs = np.concatenate([x[mine], noise["x"]])
        ys = np.concatenate([y[mine], noise["y"]])
        ts = np.concatenate([np.round(t_ms[mine] * 1000.0), noise["t"]]).astype(np.int64)
        ps = np.concatenate([on[mine].astype(np.int64), noise["p"]])
        order = np.lexsort((xs, ys, ts))
        events = np.empty(len(order), dtype=EVENT_DTYPE)
        events["x"], events["y"], events["t"], events["p"] = xs[order], ys[order], ts[order], ps[order]
        recordings.append(events)
    return recordings


def _noise_events(rng: np.random.Generator, config: EmulatorConfig, end_ms: float) -> dict:
    """Background activity: Poisson events at ``noise_rate_hz`` per pixel, ``noise_on_fraction`` ON."""
    width, height = SENSOR_SIZE[0], SENSOR_SIZE[1]
    expected = config.noise_rate_hz * width * height * end_ms / 1000.0
    n = rng.poisson(expected)
    return {
        "x": rng.integers(0, width, n),
        "y": rng.integers(0, height, n),
        "t": np.round(rng.uniform(0.0, end_ms * 1000.0, n)).astype(np.int64),
        "p": (rng.random(n) < config.noise_on_fraction).astype(np.int64),
    }
