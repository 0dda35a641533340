"""A transparent energy model: a digital accelerator against a hybrid analogue-digital memristor system.

The PRIME paper reports that a projected hybrid analogue-digital system is 37.83x more energy efficient than
digital hardware on N-MNIST, but its energy model is not available. This one is **ours**: energy per image is
a sum over operation counts measured on the running network (:mod:`primekit.energy.counts`) times prices
built from published per-operation energies (each constant names its source, listed in the book's
bibliography). Every constant is a field of one frozen :class:`EnergyConfig`, with its unit and source in the field's metadata
(:func:`constant_table`), and can be changed.

Both systems run the same network and stop at the same step. They differ only in the synaptic products:

- **digital** (a 45 nm accelerator, Horowitz ISSCC 2014): every triggered synaptic operation is an
  arithmetic operation on a weight fetched from memory; an input of exactly 1 (a spike) needs only an
  accumulate, any other value (event counts, pooled spikes) a multiply-accumulate. ``digital_dataflow="dense"``
  executes every multiply-accumulate of the dense layers instead.
- **hybrid**: the weights stay in memristor crossbars. An input ``v`` drives its rows with a pulse ``v`` times
  the base read time (pulse-width coding, so a 1-bit row driver suffices), each cell on a driven row
  dissipates ``V^2 G t`` (kept pairs at ``g_kept_us``, RESET pairs at ``g_pruned_us``, two cells per pair), each
  driven row costs a row drive, and every output of every read is converted by an ADC (only reads with a driven
  row if ``adc_skips_empty_reads``); row tiles of a fan-in above the array size are added digitally.

Neuron updates (LIF: one multiply for the leak, one add for the input, one compare for the threshold,
costed as an add; derived from Horowitz 2014), pooling (``pool^2 - 1`` adds and one multiply per output) and, if
``include_memory``, membrane reads and writes are digital in both systems and priced alike. Energies are in
pJ; ``V^2 G t`` with V in volts, G in µS and t in ns is in fJ.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from primekit.checks import check_non_negative, check_positive, is_count
from primekit.energy.count_records import KINDS, CountTable
from primekit.energy.counts import CELLS_PER_WEIGHT, CountRecording
from primekit.inference.early_stop import EarlyStopResult, StopPolicy, replay
from primekit.inference.sweeps import default_policy

SYSTEMS = ("digital", "hybrid")
DATAFLOWS = ("event", "dense")
#: The paper's reported gain on N-MNIST (arXiv 2407.18625, abstract), hybrid analogue-digital vs digital.
PAPER_RATIO_NMNIST = 37.83

#: Horowitz ISSCC 2014, 45 nm: (add, multiply) energy in pJ by number format.
PRECISIONS = {"fp32": (0.9, 3.7), "fp16": (0.4, 1.1), "int32": (0.1, 3.1), "int8": (0.03, 0.2)}
#: ADC energy per conversion (pJ) by resolution: 4-10 bit from ISAAC's 8-bit 1.67 pJ (Shafiee et al. 2016) as
#: scaled in the Accelergy library (Wu et al. 2019); 14 bit: the lowest energy of the 13-15 ENOB SAR ADCs in
#: Murmann's ADC survey.
ADC_PJ_BY_BITS = {4: 0.79, 5: 0.99, 6: 1.20, 7: 1.42, 8: 1.67, 9: 1.97, 10: 2.38, 14: 78.0}


def _constant(default, unit: str, source: str):
    return field(default=default, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class EnergyConfig:
    """Every constant of the energy model, with its unit and source (see :func:`constant_table`).

    Digital numbers are Horowitz's 45 nm figures; ``digital_node_scale`` rescales all of them (both systems'
    digital parts) to another node. Energies are positive (``frontend_pj`` may be 0: folded into the ADC).
    """

    add_pj: float = _constant(0.9, "pJ", "Horowitz 2014, 45 nm: 32-bit float add. Digital synaptic accumulate")
    mult_pj: float = _constant(3.7, "pJ", "Horowitz 2014, 45 nm: 32-bit float multiply (MAC = add + multiply)")
    periphery_add_pj: float = _constant(0.9, "pJ", "Horowitz 2014: add of neuron updates, pooling and partial sums, both systems")
    periphery_mult_pj: float = _constant(3.7, "pJ", "Horowitz 2014: multiply of neuron leak and pooling scale, both systems")
    sram_pj: float = _constant(5.0, "pJ", "Horowitz 2014: 8 KB SRAM, 10 pJ per 64-bit read, halved for 32 bit")
    include_memory: bool = _constant(False, "-", "ours: price weight fetches (digital), membrane reads/writes (both)")
    digital_dataflow: str = _constant("event", "-", "ours: 'event': triggered synaptic ops; 'dense': every MAC")
    digital_node_scale: float = _constant(1.0, "ratio", "45 -> 40 nm: 1.0 (none) or about 0.87, interpolated from Stillmaker and Baas 2017")
    read_voltage_v: float = _constant(0.2, "V", "Liu et al. 2020 (ISSCC): analogue ReRAM read at 0.2 V")
    g_kept_us: float = _constant(20.0, "µS", "ours: mean conductance of a formed cell (primekit's device default; the macro's is not published)")
    g_pruned_us: float = _constant(0.5, "µS", "ours: conductance of a RESET cell (pruned pair; primekit's device default)")
    read_time_ns: float = _constant(10.0, "ns", "ours: the short end of measured ReRAM read times (Xue et al. 2019, 2020: 10-18 ns; Liu et al. 2020: 51 ns)")
    row_drive_pj: float = _constant(0.33, "pJ", "Shafiee et al. 2016 (ISAAC): 1-bit row driver per activation")
    adc_bits: int = _constant(8, "bit", "ours: a typical crossbar column ADC resolution, as in ISAAC (a label: adc_pj prices it)")
    adc_pj: float = _constant(1.67, "pJ", "Shafiee et al. 2016 (ISAAC): 8-bit 1.2 GS/s SAR ADC, per conversion")
    conversions_per_output: int = _constant(1, "-", "Liu et al. 2020: G+ and G- subtracted before one conversion (2: separately)")
    frontend_pj: float = _constant(0.0, "pJ", "ours: TIA / integrator per conversion; 0: folded into adc_pj (no primary figure found)")
    adc_skips_empty_reads: bool = _constant(False, "-", "ours: False: every column of every read is converted")

    def __post_init__(self) -> None:
        check_positive(self, "add_pj", "mult_pj", "periphery_add_pj", "periphery_mult_pj", "sram_pj",
                       "digital_node_scale", "read_voltage_v", "g_kept_us", "g_pruned_us", "read_time_ns",
                       "row_drive_pj", "adc_pj")
        check_non_negative(self, "frontend_pj")
        for name in ("adc_bits", "conversions_per_output"):
            value = getattr(self, name)
            if not (is_count(value) and value >= 1):
                raise ValueError(f"{name}={value!r} must be a positive integer")
        for name in ("include_memory", "adc_skips_empty_reads"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}={getattr(self, name)!r} must be True or False")
        if self.digital_dataflow not in DATAFLOWS:
            raise ValueError(f"digital_dataflow={self.digital_dataflow!r} must be one of {DATAFLOWS}")

    def cell_read_fj(self, g_us: float) -> float:
        """``V^2 G t`` of one cell for one base pulse (fJ: V^2 x µS x ns)."""
        return self.read_voltage_v ** 2 * g_us * self.read_time_ns

    @property
    def mac_pj(self) -> float:
        """A digital multiply-accumulate (at the configured node)."""
        return (self.add_pj + self.mult_pj) * self.digital_node_scale

    @property
    def lif_update_pj(self) -> float:
        """A digital LIF update: one multiply (leak) and two adds (input, threshold compare), in pJ."""
        return (self.periphery_mult_pj + 2 * self.periphery_add_pj) * self.digital_node_scale


def with_precision(config: EnergyConfig, synapses: str | None = None, periphery: str | None = None) -> EnergyConfig:
    """A copy with the digital synaptic arithmetic and/or the periphery (neurons, pooling, partial sums) in
    another number format of :data:`PRECISIONS` (``"fp32"``, ``"fp16"``, ``"int32"``, ``"int8"``)."""
    changes = {}
    for name, prefix in ((synapses, ""), (periphery, "periphery_")):
        if name is None:
            continue
        if name not in PRECISIONS:
            raise ValueError(f"precision {name!r} is not one of {list(PRECISIONS)}")
        changes[f"{prefix}add_pj"], changes[f"{prefix}mult_pj"] = PRECISIONS[name]
    return replace(config, **changes)


def with_adc(config: EnergyConfig, bits: int, energy_pj: float | None = None) -> EnergyConfig:
    """A copy with a ``bits``-bit ADC; its energy from :data:`ADC_PJ_BY_BITS` unless ``energy_pj`` is given."""
    if energy_pj is None:
        if bits not in ADC_PJ_BY_BITS:
            raise ValueError(f"bits={bits!r} has no tabulated energy (have {sorted(ADC_PJ_BY_BITS)}); give energy_pj")
        energy_pj = ADC_PJ_BY_BITS[bits]
    return replace(config, adc_bits=bits, adc_pj=energy_pj)


def constant_table(config: EnergyConfig = EnergyConfig()) -> list[tuple[str, Any, str, str]]:
    """``(name, value, unit, source)`` for every constant of ``config``."""
    return [(f.name, getattr(config, f.name), f.metadata["unit"], f.metadata["source"]) for f in fields(config)]


class Price(NamedTuple):
    """What one unit of a count ``kind`` costs, and which energy component it goes to (pJ)."""

    kind: str
    component: str
    pj: float


def _periphery_prices(config: EnergyConfig) -> list[Price]:
    """Digital work done alike in both systems: neurons, pooling, membrane memory."""
    scale = config.digital_node_scale
    prices = [Price("neuron_updates", "neurons", config.lif_update_pj),
              Price("integrator_updates", "neurons", config.periphery_add_pj * scale),
              Price("pool_outputs", "pooling", config.periphery_mult_pj * scale),
              Price("pool_adds", "pooling", config.periphery_add_pj * scale),
              Price("bias_adds", "neurons", config.periphery_add_pj * scale),
              Price("norm_ops", "neurons", (config.periphery_mult_pj + config.periphery_add_pj) * scale)]
    if config.include_memory:
        prices.append(Price("state_accesses", "state memory", config.sram_pj * scale))
    return prices


def prices(config: EnergyConfig, system: str) -> list[Price]:
    """The price list of ``system`` (``"digital"`` or ``"hybrid"``) under ``config``."""
    scale = config.digital_node_scale
    if system == "digital":
        if config.digital_dataflow == "dense":
            synaptic = [Price("dense_macs", "synaptic MACs", config.mac_pj)]
            fetched = "dense_macs"
        else:
            synaptic = [Price("spike_ops", "synaptic ACs", config.add_pj * scale),
                        Price("graded_ops", "synaptic MACs", config.mac_pj)]
            fetched = "weight_reads"
        if config.include_memory:
            synaptic.append(Price(fetched, "weight memory", config.sram_pj * scale))
        return synaptic + _periphery_prices(config)
    if system == "hybrid":
        conversions = "conversions_nonempty" if config.adc_skips_empty_reads else "conversions"
        per_pulse_pj = CELLS_PER_WEIGHT * 1e-3  # two cells per pair; fJ -> pJ
        crossbar = [Price("kept_pulses", "crossbar cells", per_pulse_pj * config.cell_read_fj(config.g_kept_us)),
                    Price("pruned_pulses", "crossbar cells", per_pulse_pj * config.cell_read_fj(config.g_pruned_us)),
                    Price("row_activations", "row drivers", config.row_drive_pj),
                    Price(conversions, "ADC", config.adc_pj * config.conversions_per_output),
                    Price("partial_sum_adds", "partial sums", config.periphery_add_pj * scale)]
        if config.frontend_pj > 0:
            crossbar.append(Price(conversions, "analogue front end",
                                  config.frontend_pj * config.conversions_per_output))
        return crossbar + _periphery_prices(config)
    raise ValueError(f"system={system!r} must be one of {SYSTEMS}")


#: Components in drawing order, per system.
COMPONENTS = {
    "digital": ("synaptic MACs", "synaptic ACs", "weight memory", "neurons", "pooling", "state memory"),
    "hybrid": ("crossbar cells", "row drivers", "ADC", "analogue front end", "partial sums", "neurons", "pooling",
               "state memory"),
}


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy of one system by layer and component, ``values[layer, component]`` in pJ."""

    system: str
    values: np.ndarray
    layers: tuple[str, ...]
    components: tuple[str, ...]

    @property
    def total_pj(self) -> float:
        return float(self.values.sum())

    def by_component(self) -> dict[str, float]:
        return {c: float(v) for c, v in zip(self.components, self.values.sum(axis=0))}

    def by_layer(self) -> dict[str, float]:
        return {layer: float(v) for layer, v in zip(self.layers, self.values.sum(axis=1))}


def energy(counts: CountTable, config: EnergyConfig, system: str) -> EnergyBreakdown:
    """Energy (pJ) of ``counts`` on ``system``: the sum over kinds of count x price, by layer and component.

    Linear in every count by construction.
    """
    components = COMPONENTS.get(system)
    if components is None:
        raise ValueError(f"system={system!r} must be one of {SYSTEMS}")
    if not isinstance(counts, CountTable):
        raise ValueError(f"counts must be a CountTable (counts by layer and kind), got {type(counts).__name__}")
    if not isinstance(config, EnergyConfig):
        raise ValueError(f"config must be an EnergyConfig, got {type(config).__name__}")
    values = np.zeros((len(counts.layers), len(components)))
    for price in prices(config, system):
        values[:, components.index(price.component)] += counts.values[:, counts.kinds.index(price.kind)] * price.pj
    return EnergyBreakdown(system, values, counts.layers, components)


def efficiency_ratio(counts: CountTable, config: EnergyConfig) -> float:
    """Digital energy divided by hybrid energy for the same counts (the paper's "fold" gain)."""
    return energy(counts, config, "digital").total_pj / energy(counts, config, "hybrid").total_pj


def counts_at(recording: CountRecording, threshold: float,
              policy: Callable[[float], StopPolicy] = default_policy) -> tuple[CountTable, EarlyStopResult]:
    """Mean counts per image up to each sample's exit at ``threshold`` (replayed on the recorded outputs)."""
    result = replay(recording.outputs, policy(threshold))
    return recording.counts.per_image(result.exit_step), result


@dataclass(frozen=True)
class EnergyRow:
    """One threshold: accuracy (fraction), mean exit step and energy per image of both systems (pJ)."""

    threshold: float
    accuracy: float
    mean_exit: float
    digital_pj: float
    hybrid_pj: float

    @property
    def ratio(self) -> float:
        """Digital over hybrid energy."""
        return self.digital_pj / self.hybrid_pj


def energy_sweep(recording: CountRecording, thresholds: Sequence[float], config: EnergyConfig = EnergyConfig(),
                 policy: Callable[[float], StopPolicy] = default_policy) -> list[EnergyRow]:
    """Energy per image of both systems at each early-stop threshold (the paper's Fig. 3f)."""
    if len(thresholds) == 0:
        raise ValueError("thresholds is empty; give at least one value in (0, 1]")
    rows = []
    for threshold in thresholds:
        table, result = counts_at(recording, threshold, policy)
        accuracy = (result.prediction == recording.labels).float().mean().item()
        rows.append(EnergyRow(float(threshold), accuracy, result.exit_step.float().mean().item(),
                              energy(table, config, "digital").total_pj, energy(table, config, "hybrid").total_pj))
    return rows


@dataclass(frozen=True)
class Lever:
    """One assumption of the model and the range it is swept over (field changes of :class:`EnergyConfig`)."""

    name: str
    low: Mapping[str, Any]
    high: Mapping[str, Any]
    low_label: str
    high_label: str
    source: str


#: The assumptions the sensitivity analysis sweeps, over ranges from the sources named in ``source``.
LEVERS = (
    Lever("digital synaptic arithmetic", dict(zip(("add_pj", "mult_pj"), PRECISIONS["int8"])),
          dict(zip(("add_pj", "mult_pj"), PRECISIONS["fp32"])), "int8", "fp32", "Horowitz 2014"),
    Lever("digital dataflow", {"digital_dataflow": "event"}, {"digital_dataflow": "dense"},
          "event-driven", "dense", "ours"),
    Lever("memory accesses priced", {"include_memory": True, "sram_pj": 5.0}, {"include_memory": True, "sram_pj": 50.0},
          "8 KB SRAM, 5 pJ", "1 MB SRAM, 50 pJ", "Horowitz 2014"),
    Lever("neuron and pooling arithmetic (both)",
          dict(zip(("periphery_add_pj", "periphery_mult_pj"), PRECISIONS["int8"])),
          dict(zip(("periphery_add_pj", "periphery_mult_pj"), PRECISIONS["fp32"])), "int8", "fp32", "Horowitz 2014"),
    Lever("ADC energy per conversion", {"adc_pj": 0.42}, {"adc_pj": 3.64}, "0.42 pJ", "3.64 pJ", "Murmann's ADC survey: 40 nm 8-bit-class SAR ADCs"),
    Lever("conversions per output", {"conversions_per_output": 1}, {"conversions_per_output": 2}, "1", "2", "Liu et al. 2020"),
    Lever("ADC on reads without a driven row", {"adc_skips_empty_reads": True}, {"adc_skips_empty_reads": False},
          "skipped", "converted", "ours"),
    Lever("analogue front end per conversion", {"frontend_pj": 0.0}, {"frontend_pj": 1.45}, "0 pJ", "1.45 pJ",
          "NeuRRAM (Wan et al. 2022) as modelled in the Accelergy library (Wu et al. 2019)"),
    Lever("read pulse width", {"read_time_ns": 10.0}, {"read_time_ns": 100.0}, "10 ns", "100 ns",
          "ours: Xue et al. 2019, 2020 (10-18 ns) to twice Liu et al. 2020 (51 ns)"),
    Lever("kept cell conductance", {"g_kept_us": 1.0}, {"g_kept_us": 100.0}, "1 µS", "100 µS", "ours: 1T1R analogue states"),
    Lever("read voltage", {"read_voltage_v": 0.1}, {"read_voltage_v": 0.3}, "0.1 V", "0.3 V", "Liu et al. 2020"),
    Lever("row driver energy", {"row_drive_pj": 0.1}, {"row_drive_pj": 0.42}, "0.1 pJ", "0.42 pJ", "Shafiee et al. 2016; Wu et al. 2019"),
    Lever("RESET cell conductance", {"g_pruned_us": 0.1}, {"g_pruned_us": 2.0}, "0.1 µS", "2 µS", "ours"),
    Lever("digital node 45 -> 40 nm", {"digital_node_scale": 0.87}, {"digital_node_scale": 1.0}, "0.87", "1.0",
          "Stillmaker and Baas 2017"),
)


@dataclass(frozen=True)
class SensitivityRow:
    """The efficiency ratio at both ends of one lever (the other constants at their defaults)."""

    lever: Lever
    ratio_low: float
    ratio_high: float
    ratio_default: float

    @property
    def span(self) -> float:
        """How much the lever moves the ratio: largest over smallest of the two ends and the default."""
        ratios = (self.ratio_low, self.ratio_high, self.ratio_default)
        return max(ratios) / min(ratios)


def sensitivity(counts: CountTable, config: EnergyConfig = EnergyConfig(),
                levers: Sequence[Lever] = LEVERS) -> list[SensitivityRow]:
    """The ratio at each end of every lever, one lever at a time, largest :attr:`SensitivityRow.span` first."""
    base = efficiency_ratio(counts, config)
    rows = [SensitivityRow(lever, efficiency_ratio(counts, replace(config, **lever.low)),
                           efficiency_ratio(counts, replace(config, **lever.high)), base) for lever in levers]
    return sorted(rows, key=lambda row: -row.span)


def unit_prices(config: EnergyConfig = EnergyConfig()) -> dict[str, dict[str, float]]:
    """What one unit of every count kind costs on each system (pJ, summed over components)."""
    out = {}
    for system in SYSTEMS:
        unit = {kind: 0.0 for kind in KINDS}
        for price in prices(config, system):
            unit[price.kind] += price.pj
        out[system] = unit
    return out
