"""Digital references side by side, and two readings of the efficiency ratio against the threshold.

"Digital hardware" is not one system. :func:`reference_grid` prices the *same* counted operations
(:mod:`primekit.energy.counts`) on the eight digital references of a 2 x 2 x 2 grid, each against the hybrid
system with the same number format for its digital part:

- **dataflow**: ``"event"`` (only the synaptic operations the non-zero inputs trigger, on kept weights) or
  ``"dense"`` (every multiply-accumulate of the dense layers);
- **arithmetic**: ``"fp32"`` or ``"int8"`` everywhere digital (synapses, neurons, pooling, partial sums; the
  hybrid's periphery too), Horowitz's 45 nm energies (:data:`primekit.energy.prices.PRECISIONS`);
- **memory**: compute only, or every weight fetch of the digital system and every membrane read and write
  (both systems) priced as an SRAM access. The energy of an access is given per 32-bit word (Horowitz's
  64-bit figure halved, :data:`primekit.energy.tables.SRAM_64BIT_PJ`) and scaled by the word width of the
  number format (:data:`WORD_BITS`: an 8-bit word costs a quarter of a 32-bit one), the same per-bit
  scaling that gives the 32-bit value.

:func:`bracket` says which cells lie just below and just above a target ratio (the paper's 37.83x): which
assumptions bracket it, with no constant tuned towards it.

:func:`ratio_readings` reads an energy sweep two ways: both systems stop at each sample's exit (our default),
or the hybrid stops early while the digital reference runs all T steps (the "maximal" reading, which
credits the hybrid system with the whole saving of early stop).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from primekit.checks import is_number
from primekit.energy import prices
from primekit.energy.count_records import CountTable
from primekit.energy.prices import DATAFLOWS, EnergyConfig, EnergyRow
from primekit.energy.tables import SRAM_64BIT_PJ, ratio_text
from primekit.tables import Table

#: Bits of one word (a weight or a membrane value) in each number format of ``prices.PRECISIONS``.
WORD_BITS = {"fp32": 32, "fp16": 16, "int32": 32, "int8": 8}
#: The grid's number formats and memory levels (pJ per 32-bit access; None: memory not priced).
GRID_PRECISIONS = ("fp32", "int8")
GRID_MEMORY = {"compute only": None, "8 KB SRAM": SRAM_64BIT_PJ["8 KB"] / 2}
#: How the tables name the two dataflows.
DATAFLOW_LABELS = {"event": "event-driven", "dense": "dense"}


def reference_config(config: EnergyConfig, dataflow: str, precision: str,
                     memory_pj: float | None) -> EnergyConfig:
    """``config`` with one grid cell's digital reference: the dataflow, the number format of all digital
    work (both systems) and the memory access energy per 32-bit word (None: memory not priced), scaled to
    the format's word width."""
    if dataflow not in DATAFLOWS:
        raise ValueError(f"dataflow={dataflow!r} must be one of {DATAFLOWS}")
    if precision not in WORD_BITS:
        raise ValueError(f"precision={precision!r} must be one of {list(WORD_BITS)}")
    changed = replace(prices.with_precision(config, synapses=precision, periphery=precision),
                      digital_dataflow=dataflow)
    if memory_pj is None:
        return replace(changed, include_memory=False)
    if not (is_number(memory_pj) and memory_pj > 0):
        raise ValueError(f"memory_pj={memory_pj!r} must be > 0 pJ per 32-bit access, or None (not priced)")
    return replace(changed, include_memory=True, sram_pj=memory_pj * WORD_BITS[precision] / 32)


@dataclass(frozen=True)
class GridCell:
    """One digital reference of the grid and the energies per image of both systems (pJ).

    ``digital_full_pj`` is the digital energy of the same reference running all T steps (None if no full-T
    counts were given).
    """

    dataflow: str
    precision: str
    memory: str
    digital_pj: float
    hybrid_pj: float
    digital_full_pj: float | None = None

    @property
    def label(self) -> str:
        return f"{DATAFLOW_LABELS[self.dataflow]}, {self.precision}, {self.memory}"

    @property
    def ratio(self) -> float:
        """Digital over hybrid energy, both on the same counts (both stop at the same step)."""
        return self.digital_pj / self.hybrid_pj

    @property
    def ratio_full_digital(self) -> float:
        """Digital energy over all T steps over the hybrid energy up to the exits (the "maximal" reading)."""
        if self.digital_full_pj is None:
            raise ValueError("this cell has no full-T digital energy; give reference_grid the full-T counts")
        return self.digital_full_pj / self.hybrid_pj


def reference_grid(table: CountTable, config: EnergyConfig = EnergyConfig(),
                   table_full: CountTable | None = None, *, dataflows: Sequence[str] = DATAFLOWS,
                   precisions: Sequence[str] = GRID_PRECISIONS,
                   memory: Mapping[str, float | None] = GRID_MEMORY) -> list[GridCell]:
    """Every combination of ``dataflows`` x ``precisions`` x ``memory`` levels, priced on the same ``table``
    (e.g. the counts up to the exits at θ); with ``table_full`` (the counts of all T steps) each cell also
    has the digital energy of running all T steps. The other constants are ``config``'s."""
    for name, values in (("dataflows", dataflows), ("precisions", precisions), ("memory", memory)):
        if len(values) == 0:
            raise ValueError(f"{name} is empty; give at least one level")
    cells = []
    for dataflow in dataflows:
        for precision in precisions:
            for label, memory_pj in memory.items():
                cfg = reference_config(config, dataflow, precision, memory_pj)
                full = None if table_full is None else prices.energy(table_full, cfg, "digital").total_pj
                cells.append(GridCell(dataflow, precision, label,
                                      prices.energy(table, cfg, "digital").total_pj,
                                      prices.energy(table, cfg, "hybrid").total_pj, full))
    return cells


def find_cell(cells: Sequence[GridCell], dataflow: str, precision: str, memory: str) -> GridCell:
    """The cell of ``cells`` with this dataflow, number format and memory level."""
    for cell in cells:
        if (cell.dataflow, cell.precision, cell.memory) == (dataflow, precision, memory):
            return cell
    have = [(c.dataflow, c.precision, c.memory) for c in cells]
    raise ValueError(f"(dataflow, precision, memory)={(dataflow, precision, memory)!r} is not in the grid "
                     f"{have}")


def grid_table(cells: Sequence[GridCell], theta: float) -> Table:
    """The grid: each reference, the energies per image at ``theta`` (µJ) and the ratio in both readings (the
    second only if the cells have full-T digital energies)."""
    if len(cells) == 0:
        raise ValueError("cells is empty; give at least one grid cell")
    full = all(c.digital_full_pj is not None for c in cells)
    header = ["digital dataflow", "arithmetic", "memory", "digital (µJ)", "hybrid (µJ)",
              f"ratio, both stop (θ = {theta:g})"] + (["ratio, digital runs all T"] if full else [])
    rows = [[DATAFLOW_LABELS[c.dataflow], c.precision, c.memory, f"{c.digital_pj / 1e6:.3g}",
             f"{c.hybrid_pj / 1e6:.3g}", ratio_text(c.ratio)]
            + ([ratio_text(c.ratio_full_digital)] if full else []) for c in cells]
    return Table.of(header, rows)


class Bracket(NamedTuple):
    """The entries just below and just above a target ratio: ``(label, ratio)`` each, None if none is."""

    target: float
    below: tuple[str, float] | None
    above: tuple[str, float] | None


def bracket(ratios: Mapping[str, float], target: float) -> Bracket:
    """The largest ratio below ``target`` and the smallest at or above it, with their labels."""
    if not (is_number(target) and target > 0):
        raise ValueError(f"target={target!r} must be a ratio > 0")
    if len(ratios) == 0:
        raise ValueError("ratios is empty; give at least one labelled ratio")
    bad = {k: v for k, v in ratios.items() if not (is_number(v) and math.isfinite(v) and v > 0)}
    if bad:
        raise ValueError(f"ratios must be finite numbers > 0; got {bad}")
    below = [(v, k) for k, v in ratios.items() if v < target]
    above = [(v, k) for k, v in ratios.items() if v >= target]
    return Bracket(float(target), (max(below)[1], max(below)[0]) if below else None,
                   (min(above)[1], min(above)[0]) if above else None)


def bracket_text(result: Bracket) -> str:
    """One sentence saying which entries bracket the target (or that all lie on one side)."""
    target = f"{result.target:g}x"
    if result.below and result.above:
        return (f"{target} lies between {ratio_text(result.below[1])} ({result.below[0]}) and "
                f"{ratio_text(result.above[1])} ({result.above[0]}).")
    if result.below:
        side, (label, ratio) = "less", result.below
    else:
        side, (label, ratio) = "more", result.above
    return f"Every reference gives {side} than {target}; the closest gives {ratio_text(ratio)} ({label})."


class ReadingRow(NamedTuple):
    """The ratio at one threshold in two readings: both systems stop at the exits (``same_stop``), or the
    digital reference runs all T steps (``full_digital``)."""

    threshold: float
    mean_exit: float
    same_stop: float
    full_digital: float


def ratio_readings(rows: Sequence[EnergyRow], digital_full_pj: float) -> list[ReadingRow]:
    """Both readings of an energy sweep (:func:`primekit.energy.prices.energy_sweep`), given the digital
    energy per image of the same reference over all T steps (pJ)."""
    if len(rows) == 0:
        raise ValueError("rows is empty; give at least one threshold's energies")
    if not (is_number(digital_full_pj) and digital_full_pj > 0):
        raise ValueError(f"digital_full_pj={digital_full_pj!r} must be > 0 pJ")
    for row in rows:
        if row.digital_pj > digital_full_pj * (1 + 1e-9):
            raise ValueError(f"digital_full_pj={digital_full_pj!r} is below the digital energy at θ = "
                             f"{row.threshold:g} ({row.digital_pj!r} pJ); give the same reference's "
                             "full-T energy")
    return [ReadingRow(r.threshold, r.mean_exit, r.ratio, digital_full_pj / r.hybrid_pj) for r in rows]


def readings_summary(readings: Sequence[ReadingRow], theta: float) -> dict[str, float]:
    """At ``theta``: the ratio in both readings (``same``, ``full``); over all thresholds: the range of the
    same-stop ratio and the largest full-T-digital ratio (``full_max``) with its threshold and mean exit."""
    if len(readings) == 0:
        raise ValueError("readings is empty; give ratio_readings()'s rows")
    at = [r for r in readings if r.threshold == theta]
    if not at:
        raise ValueError(f"theta={theta!r} is not among the thresholds {[r.threshold for r in readings]}")
    best = max(readings, key=lambda r: r.full_digital)
    same = [r.same_stop for r in readings]
    return {"same": at[0].same_stop, "full": at[0].full_digital, "same_min": min(same), "same_max": max(same),
            "full_max": best.full_digital, "full_max_theta": best.threshold, "full_max_exit": best.mean_exit}
