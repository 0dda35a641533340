"""Energy projection: operation counts of the running network, priced on a digital and a hybrid system.

One import for the chapter and the tests: the counters (forward hooks, per layer, step and sample) live in
:mod:`primekit.energy_counts`, the cited, configurable energy model in :mod:`primekit.energy_model`. They are
separate modules so that editing a price never invalidates the cached counts (primekit's cache keys a
result by the source of the modules its computation imports).
"""

from .energy_counts import (
    CELLS_PER_WEIGHT,
    KINDS,
    PRIME_ROLES,
    CountRecording,
    CountTable,
    CrossbarMapping,
    LayerRole,
    OperationCounter,
    OperationCounts,
    count_operations,
    default_roles,
    record_counts,
    record_trained_counts,
    subnet_layers,
)
from .energy_model import (
    ADC_PJ_BY_BITS,
    COMPONENTS,
    LEVERS,
    PAPER_RATIO_NMNIST,
    PRECISIONS,
    SYSTEMS,
    EnergyBreakdown,
    EnergyConfig,
    EnergyRow,
    Lever,
    Price,
    SensitivityRow,
    constant_table,
    counts_at,
    efficiency_ratio,
    energy,
    energy_sweep,
    prices,
    sensitivity,
    unit_prices,
    with_adc,
    with_precision,
)

__all__ = [
    "CELLS_PER_WEIGHT", "KINDS", "PRIME_ROLES", "CountRecording", "CountTable", "CrossbarMapping", "LayerRole",
    "OperationCounter", "OperationCounts", "count_operations", "default_roles", "record_counts",
    "record_trained_counts", "subnet_layers",
    "ADC_PJ_BY_BITS", "COMPONENTS", "LEVERS", "PAPER_RATIO_NMNIST", "PRECISIONS", "SYSTEMS", "EnergyBreakdown",
    "EnergyConfig", "EnergyRow", "Lever", "Price", "SensitivityRow", "constant_table", "counts_at",
    "efficiency_ratio", "energy", "energy_sweep", "prices", "sensitivity", "unit_prices", "with_adc",
    "with_precision",
]
