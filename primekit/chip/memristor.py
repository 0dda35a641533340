"""A memristor chip: differential pairs, formation randomness, RESET, programming and read noise.

Every weight lives in a *differential pair* of memristor cells, ``w = weight_scale * (G+ - G-)``,
conductances in microsiemens (µS). The pipeline, one testable step each (after aihwkit's device
pipeline, with one knob per noise term):

1. :func:`form` - electroforming leaves every cell at a random conductance (quasi-normal, clipped to the
   device range). This randomness is not noise in PRIME: it *is* the random weight the network prunes.
   A cell's conductance is the sum of a device-to-device part (its own mean, fixed) and a cycle-to-cycle
   part (redrawn at every re-programming, see :func:`reprogram_cycles`).
2. :func:`reset_pruned` - pruned pairs are RESET: both cells go to the high-resistance state
   ``g_reset_us`` (small spread), so the pair's weight is near zero but not exactly zero.
3. :func:`program` - *programming noise*: writing pairs misses their targets by ``programming_noise``
   (fixed once per chip seed).
4. :func:`read` - *read noise*: every read (in an SNN, every timestep) sees a fresh ``read_noise``.

How a noise level acts is the device's ``noise_model`` (:data:`NOISE_MODELS`), the same for both noises:

- ``"cell-relative"`` (default): each cell, G+ and G- separately, moves by ``level * G * eps``: noise
  lives in devices, so a small weight held by two mid-range cells gets a large error;
- ``"weight-relative"``: the pair's weight moves by ``level * w * eps`` (split evenly between its two
  cells), as the authors' code adds ``w + sigma w eps`` to its weights before masking; a pruned (RESET,
  near-zero) weight carries almost none. Their code uses it as read noise; using it for programming too is
  our choice;
- ``"state-independent"``: each cell moves by a fixed ``level * g_mean_us`` µS whatever its state (5 % is
  1 µS with the defaults), so RESET cells are as noisy as any other.

Programming noise moves only the cells a method *writes* (``programming_targets``, see
:func:`primekit.chip.deploy.deploy`). :func:`equivalent_weight_noise` converts a level into the weight
spread it causes. Zero noise is the identity. The numbers in :class:`MemristorConfig` are illustrative defaults chosen so that ``G+ - G-`` has
the spread of the authors' software weights (std 6.352 µS); the paper reports neither its devices'
conductance range nor their noise magnitudes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from primekit.checks import check_finite, check_instance, check_integer, check_non_negative, check_positive, is_number
from primekit.seeding import derive_seed, make_generator

#: How a simulated chip reads a batch: every sample its own read, or one read shared by the batch.
READ_MODES = ("per-sample", "per-step")
#: How a noise level acts on a pair: relative to each cell, to the pair's weight, or fixed in µS per cell.
NOISE_MODELS = ("cell-relative", "weight-relative", "state-independent")
#: Which cells programming noise moves: those a method writes, or every cell (as-formed cells included).
PROGRAMMING_TARGETS = ("written", "every-cell")


@dataclass(frozen=True)
class MemristorConfig:
    """Device parameters (conductances in µS, voltages in V, noise levels relative, i.e. 0.05 = 5 %).

    Attributes:
        g_mean_us: mean conductance of a formed cell.
        g_device_spread_us: device-to-device std of each cell's own mean conductance.
        g_cycle_spread_us: cycle-to-cycle std around a cell's mean at each (re-)programming.
            Formed cells spread by ``sqrt(device^2 + cycle^2)`` = 4.5 µS with the defaults, so that
            ``G+ - G-`` has std 6.36 µS, the authors' software weights (N(0, 6.352^2)).
        g_min_us, g_max_us: the device's conductance range; conductances are clipped to it.
        g_reset_us: conductance of a RESET (high-resistance) cell.
        g_reset_spread_us: std of the RESET conductance.
        read_voltage_v: voltage applied to a row during a read (for currents and energy).
        weight_scale: network weight per µS of ``G+ - G-`` (the authors' code: 0.01).
        programming_noise: level of the deviation from the intended conductance, once per chip (0.05 = 5 %;
            what it is relative to is ``noise_model``).
        read_noise: level of the conductance fluctuation redrawn at every read (same units).
        noise_model: how both levels act (:data:`NOISE_MODELS`): ``"cell-relative"`` (std ``level * G`` per
            cell), ``"weight-relative"`` (std ``level * |w|`` per weight, the authors' code) or
            ``"state-independent"`` (std ``level * g_mean_us`` µS per cell).
        programming_targets: which cells programming noise moves (:data:`PROGRAMMING_TARGETS`):
            ``"written"`` (default): the cells a method writes - mapped (e.g. weight-tuned) weights and RESET
            pairs - while the as-formed cells Memristor Pruning keeps are never written and stay as formed;
            ``"every-cell"``: every cell, as-formed ones included, as if the whole array were re-written
            (the book's earlier model; it removes the difference between the methods by construction).
        read_mode: how a simulated chip reads a batch (see :class:`primekit.chip.deploy.ChipWeights`):
            ``"per-sample"`` (default) gives every sample its own read at every step, as a chip that
            processes the samples one by one; ``"per-step"`` draws one cell-level read per step for the
            whole batch (cheaper, but the samples of a batch then see correlated noise).
    """

    g_mean_us: float = 20.0
    g_device_spread_us: float = 4.0
    g_cycle_spread_us: float = 2.06
    g_min_us: float = 0.0
    g_max_us: float = 40.0
    g_reset_us: float = 0.5
    g_reset_spread_us: float = 0.05
    read_voltage_v: float = 0.2
    weight_scale: float = 0.01
    programming_noise: float = 0.0
    read_noise: float = 0.0
    read_mode: str = "per-sample"
    noise_model: str = "cell-relative"
    programming_targets: str = "written"

    def __post_init__(self) -> None:
        for name, allowed in (("read_mode", READ_MODES), ("noise_model", NOISE_MODELS),
                              ("programming_targets", PROGRAMMING_TARGETS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r} must be one of {allowed}")
        check_non_negative(self, "g_device_spread_us", "g_cycle_spread_us", "g_reset_spread_us",
                           "programming_noise", "read_noise", "g_min_us")
        check_positive(self, "read_voltage_v", "weight_scale")
        if is_number(self.g_max_us) and not math.isfinite(self.g_max_us):  # the noises: check_non_negative
            raise ValueError(f"g_max_us={self.g_max_us!r} must be finite")
        if not (is_number(self.g_max_us) and self.g_max_us > self.g_min_us):
            raise ValueError(f"g_max_us={self.g_max_us!r} must be > g_min_us={self.g_min_us!r}")
        for name in ("g_mean_us", "g_reset_us"):
            value = getattr(self, name)
            if not (is_number(value) and self.g_min_us <= value <= self.g_max_us):
                raise ValueError(f"{name}={value!r} must lie in the device range [{self.g_min_us}, {self.g_max_us}] uS")

    @property
    def g_formed_spread_us(self) -> float:
        """Std of a formed cell's conductance across the chip, ``sqrt(device^2 + cycle^2)``."""
        return math.hypot(self.g_device_spread_us, self.g_cycle_spread_us)

    @property
    def g_mid_us(self) -> float:
        """Middle of the device range: both cells of a zero weight sit here when weights are mapped."""
        return 0.5 * (self.g_min_us + self.g_max_us)

    def with_noise(self, *, programming: float | None = None, read: float | None = None) -> "MemristorConfig":
        """A copy with other noise levels (None keeps a level)."""
        changes = {"programming_noise": programming, "read_noise": read}
        return replace(self, **{name: value for name, value in changes.items() if value is not None})


@dataclass(frozen=True)
class Pairs:
    """Conductances of an array of differential pairs, ``g_plus`` and ``g_minus`` (µS), same shape.

    ``reset`` marks RESET pairs (bool, same shape), ``None`` if none are.
    """

    g_plus: torch.Tensor
    g_minus: torch.Tensor
    reset: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.g_plus.shape != self.g_minus.shape:
            raise ValueError(f"g_plus has shape {tuple(self.g_plus.shape)} but g_minus has {tuple(self.g_minus.shape)}")
        if self.reset is not None and self.reset.shape != self.g_plus.shape:
            raise ValueError(f"reset has shape {tuple(self.reset.shape)}, the pairs {tuple(self.g_plus.shape)}")

    shape = property(lambda self: self.g_plus.shape, doc="The shape of the array of pairs.")

    def weights(self, config: MemristorConfig) -> torch.Tensor:
        """The weights these pairs hold, ``weight_scale * (G+ - G-)``."""
        return pairs_to_weights(self.g_plus, self.g_minus, config)


def pairs_to_weights(g_plus: torch.Tensor, g_minus: torch.Tensor, config: MemristorConfig) -> torch.Tensor:
    """``weight_scale * (G+ - G-)`` (conductances in µS)."""
    return config.weight_scale * (g_plus - g_minus)


def weights_to_pairs(weights: torch.Tensor, config: MemristorConfig) -> tuple[Pairs, int]:
    """Map arbitrary (e.g. weight-tuned) weights onto pairs: ``G+/- = G_mid +/- w / (2 weight_scale)``.

    Conductances outside the device range are clipped to it; the number of clipped cells is returned
    so the caller can report it (a weight whose pair needs more than the range cannot be stored).
    """
    check_instance("weights", weights, torch.Tensor, "a torch.Tensor")
    check_finite("weights", weights)
    half = weights / (2.0 * config.weight_scale)
    wanted_plus, wanted_minus = config.g_mid_us + half, config.g_mid_us - half
    g_plus = wanted_plus.clamp(config.g_min_us, config.g_max_us)
    g_minus = wanted_minus.clamp(config.g_min_us, config.g_max_us)
    clipped = int((g_plus != wanted_plus).sum() + (g_minus != wanted_minus).sum())
    return Pairs(g_plus, g_minus), clipped


_normal = lambda shape, generator: torch.randn(shape, generator=generator)  # noqa: E731 (CPU draws: any device)

def form(shape, config: MemristorConfig = MemristorConfig(), seed: int = 0) -> Pairs:
    """Electroform a chip: every cell's conductance is random, ``N(g_mean, g_formed_spread)`` clipped.

    The same ``seed`` gives the same chip; device-to-device and cycle-to-cycle parts are drawn separately.
    """
    check_instance("config", config, MemristorConfig, "a MemristorConfig")
    shape = tuple(check_integer("shape", s, 1) for s in ((shape,) if is_number(shape) else shape))
    generator = make_generator(seed)
    cells = []
    for _ in range(2):  # G+ then G-
        device_mean = config.g_mean_us + config.g_device_spread_us * _normal(shape, generator)
        cells.append(device_mean + config.g_cycle_spread_us * _normal(shape, generator))
    g_plus, g_minus = (c.clamp(config.g_min_us, config.g_max_us) for c in cells)
    return Pairs(g_plus, g_minus)


def reprogram_cycles(n_cells: int, n_cycles: int, config: MemristorConfig = MemristorConfig(), seed: int = 0) -> torch.Tensor:
    """Conductances (µS) of ``n_cells`` cells re-programmed ``n_cycles`` times: ``[n_cycles, n_cells]``.

    Each cell keeps its own mean (device-to-device part) and each cycle redraws the cycle-to-cycle part,
    so a cell's mean over cycles spreads by ``g_device_spread_us`` across cells and its std over cycles
    is about ``g_cycle_spread_us``.
    """
    n_cells, n_cycles = check_integer("n_cells", n_cells, 1), check_integer("n_cycles", n_cycles, 1)
    generator = make_generator(seed)
    device_mean = config.g_mean_us + config.g_device_spread_us * _normal((n_cells,), generator)
    cycles = device_mean + config.g_cycle_spread_us * _normal((n_cycles, n_cells), generator)
    return cycles.clamp(config.g_min_us, config.g_max_us)


def reset_pruned(pairs: Pairs, keep: torch.Tensor, config: MemristorConfig = MemristorConfig(), seed: int = 0) -> Pairs:
    """RESET the pairs of pruned weights (``keep == False``): both cells to ``g_reset_us`` (+ spread).

    Kept pairs are unchanged. A RESET pair's weight is ``weight_scale * (G+ - G-)`` with both cells near
    ``g_reset_us``: close to zero (std ``sqrt(2) * g_reset_spread_us * weight_scale``), not exactly zero.
    """
    keep = torch.as_tensor(keep, dtype=torch.bool)
    if keep.shape != pairs.shape:
        raise ValueError(f"keep has shape {tuple(keep.shape)} but the pairs have {tuple(pairs.shape)}")
    generator = make_generator(seed)
    device = pairs.g_plus.device
    keep = keep.to(device)
    reset_plus = config.g_reset_us + config.g_reset_spread_us * _normal(pairs.shape, generator).to(device)
    reset_minus = config.g_reset_us + config.g_reset_spread_us * _normal(pairs.shape, generator).to(device)
    reset_plus = reset_plus.clamp(config.g_min_us, config.g_max_us)
    reset_minus = reset_minus.clamp(config.g_min_us, config.g_max_us)
    return Pairs(
        torch.where(keep, pairs.g_plus, reset_plus),
        torch.where(keep, pairs.g_minus, reset_minus),
        reset=~keep,
    )


def _check_level(name: str, level) -> float:
    if not (is_number(level) and math.isfinite(level) and level >= 0):
        raise ValueError(f"{name}={level!r} must be a finite number >= 0 (e.g. 0.05 for 5 %)")
    return float(level)


def cell_noise_std(g: torch.Tensor, level: float, config: MemristorConfig) -> torch.Tensor:
    """Std (µS) of each cell's noise at ``level`` under a cell model: ``level * G`` (cell-relative) or
    ``level * g_mean_us`` everywhere (state-independent). The weight-relative model has no per-cell std."""
    if config.noise_model == "cell-relative":
        return level * g
    if config.noise_model == "state-independent":
        return torch.full_like(g, level * config.g_mean_us)
    raise ValueError(f"noise_model={config.noise_model!r} acts on weights, not cells: use weight_noise_variance")


def weight_noise_variance(pairs: Pairs, level: float, config: MemristorConfig) -> torch.Tensor:
    """Each weight's noise variance at ``level`` (weight units^2), ignoring clipping at the device range.

    Cell models: ``kappa^2 (s(G+)^2 + s(G-)^2)`` with :func:`cell_noise_std` ``s``; weight-relative:
    ``(level * w)^2``.
    """
    level = _check_level("level", level)
    if config.noise_model == "weight-relative":
        return (level * pairs.weights(config)) ** 2
    stds = [cell_noise_std(g, level, config) for g in (pairs.g_plus, pairs.g_minus)]
    return config.weight_scale**2 * (stds[0] ** 2 + stds[1] ** 2)


def perturb(pairs: Pairs, level: float, generator: torch.Generator, config: MemristorConfig) -> Pairs:
    """One draw of noise at ``level`` on every pair, under ``config.noise_model``; clipped to the device range.

    Cell models: ``G + s(G) eps`` for every G+ cell, then every G- cell. Weight-relative: one ``eps`` per pair
    moves G+ up and G- down by ``level w eps / (2 kappa)``: ``w (1 + level eps)`` unless a cell clips.
    """
    level = _check_level("level", level)
    check_instance("pairs", pairs, Pairs, "Pairs (from form or weights_to_pairs)")
    if level == 0:
        return pairs
    if config.noise_model == "weight-relative":
        half = level * (pairs.g_plus - pairs.g_minus) * _normal(pairs.shape, generator).to(pairs.g_plus.device) / 2
        noisy = [pairs.g_plus + half, pairs.g_minus - half]
    else:  # drawn on the generator's (CPU) device: the same chip on any device
        noisy = [g + cell_noise_std(g, level, config) * _normal(g.shape, generator).to(g.device)
                 for g in (pairs.g_plus, pairs.g_minus)]
    return Pairs(*(g.clamp(config.g_min_us, config.g_max_us) for g in noisy), pairs.reset)


def program(pairs: Pairs, config: MemristorConfig = MemristorConfig(), seed: int = 0,
            written: torch.Tensor | None = None) -> Pairs:
    """Write ``pairs`` onto a chip: each written pair misses its target by one draw of ``programming_noise``
    (:func:`perturb`), fixed by ``seed`` (one chip).

    ``written``: bool mask of the pairs that are written (None: all). Unwritten pairs keep their values bit
    for bit; the draws are the same whatever the mask, so a pair's error depends only on the seed. Zero
    programming noise returns ``pairs`` unchanged.
    """
    check_instance("config", config, MemristorConfig, "a MemristorConfig")
    noisy = perturb(pairs, config.programming_noise, make_generator(seed), config)
    if written is None or noisy is pairs:
        return noisy
    written = torch.as_tensor(written, dtype=torch.bool).to(pairs.g_plus.device)
    if written.shape != pairs.shape:
        raise ValueError(f"written has shape {tuple(written.shape)} but the pairs have {tuple(pairs.shape)}")
    return Pairs(torch.where(written, noisy.g_plus, pairs.g_plus),
                 torch.where(written, noisy.g_minus, pairs.g_minus), pairs.reset)


def read(pairs: Pairs, config: MemristorConfig, generator: torch.Generator) -> Pairs:
    """One read of the array: one draw of ``read_noise`` (:func:`perturb`), redrawn at every call.

    Like programmed values, read values are clipped to the device range (a conductance cannot be negative).
    """
    check_instance("config", config, MemristorConfig, "a MemristorConfig")
    return perturb(pairs, config.read_noise, generator, config)


def crossbar_currents(voltages: torch.Tensor, pairs: Pairs) -> torch.Tensor:
    """Column currents (µA) of a crossbar of pairs: ``I_j = sum_i V_i (G+_ij - G-_ij)``.

    Ohm's law gives each cell's current ``V_i G_ij``; Kirchhoff's current law sums them on column j; the
    pair's two columns are subtracted. ``voltages``: ``[..., rows]`` in V; pairs ``[rows, columns]`` in µS.
    """
    check_instance("voltages", voltages, torch.Tensor, "a torch.Tensor [..., rows] (V)")
    if pairs.g_plus.dim() != 2:
        raise ValueError(f"a crossbar is 2-D [rows, columns]; the pairs have shape {tuple(pairs.shape)}")
    if voltages.shape[-1] != pairs.shape[0]:
        raise ValueError(
            f"voltages have {voltages.shape[-1]} rows but the crossbar has {pairs.shape[0]} (shape {tuple(pairs.shape)})"
        )
    return voltages @ pairs.g_plus - voltages @ pairs.g_minus


def equivalent_weight_noise(pairs: Pairs, level: float, config: MemristorConfig = MemristorConfig()) -> float:
    """The weight-level spread that noise ``level`` causes, relative to the weights' spread: the root-mean-square
    of :func:`weight_noise_variance` over the array divided by the std of the weights.

    Cell-relative noise ``level * G`` on both cells gives each weight a std ``kappa level sqrt(G+^2 + G-^2)``;
    because both cells sit near ``g_mean`` while their difference is small, a few percent of cell noise is a
    much larger fraction of the weights (about ``level * sqrt(g_mean^2 + s^2) / s`` for formed cells). The
    weight-relative model gives about ``level`` itself.
    """
    weights = pairs.weights(config)
    return float(weight_noise_variance(pairs, level, config).mean().sqrt() / weights.std())


@dataclass(frozen=True)
class ReadNoiseSweep:
    """Relative crossbar output errors at several read-noise levels (see :func:`crossbar_error_vs_read_noise`).

    ``levels``: the read-noise levels ``[L]`` (0.05 = 5 %); ``errors``: relative output error of every
    repeat, ``[L, R]`` (0.1 = 10 %).
    """

    levels: torch.Tensor
    errors: torch.Tensor

    @property
    def mean(self) -> torch.Tensor:
        """Mean relative error over repeats, ``[L]``."""
        return self.errors.mean(dim=1)

    @property
    def spread(self) -> torch.Tensor:
        """Standard deviation of the relative error over repeats, ``[L]`` (zeros for a single repeat)."""
        return torch.zeros_like(self.levels) if self.errors.shape[1] < 2 else self.errors.std(dim=1)


def relative_output_error(ideal: torch.Tensor, noisy: torch.Tensor) -> float:
    """``RMS(noisy - ideal) / RMS(ideal)`` over all entries (e.g. every column of every input vector)."""
    if ideal.shape != noisy.shape:
        raise ValueError(f"ideal has shape {tuple(ideal.shape)} but noisy has {tuple(noisy.shape)}")
    scale = ideal.double().pow(2).mean().sqrt()
    if scale == 0:
        raise ValueError("the ideal output is zero everywhere: a relative error is undefined")
    return float((noisy.double() - ideal.double()).pow(2).mean().sqrt() / scale)


def crossbar_error_vs_read_noise(pairs: Pairs, voltages: torch.Tensor, levels, repeats: int = 10,
                                 config: MemristorConfig = MemristorConfig(), seed: int = 0) -> ReadNoiseSweep:
    """How much read noise perturbs a crossbar's output currents, for each level in ``levels``.

    For every level and repeat the array is read once (:func:`read`) and all input vectors ``voltages``
    (``[B, rows]``, V) are applied to that read; the error is :func:`relative_output_error` against the
    noise-free currents (float64). Repeat ``r`` uses the same draws at every level (common random numbers),
    so without clipping the error is exactly proportional to the level.

    For one-hot inputs the expected squared error is the squared :func:`equivalent_weight_noise` (close to it
    for other inputs with zero-mean random weights).
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats={repeats!r} must be a positive integer")
    levels = [_check_level("level", float(level) if isinstance(level, torch.Tensor) else level) for level in levels]
    if not levels:
        raise ValueError("levels is empty: give at least one read-noise level")
    exact = Pairs(pairs.g_plus.double(), pairs.g_minus.double(), pairs.reset)
    voltages = voltages.double()
    ideal = crossbar_currents(voltages, exact)
    if ideal.pow(2).sum() == 0:
        raise ValueError("the noise-free output is zero everywhere (all voltages zero?): "
                         "a relative error is undefined")
    errors = torch.zeros(len(levels), repeats, dtype=torch.float64)
    for r in range(repeats):
        read_seed = derive_seed(seed, "crossbar-read", r)
        for i, level in enumerate(levels):
            noisy = read(exact, config.with_noise(read=level), make_generator(read_seed))
            errors[i, r] = relative_output_error(ideal, crossbar_currents(voltages, noisy))
    return ReadNoiseSweep(torch.tensor(levels, dtype=torch.float64), errors)
