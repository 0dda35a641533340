"""Spiking networks: surrogate gradients, LIF neurons, the per-step model contract and its one time loop, subnet (top-k mask) layers, weight sources and the PRIME models.

May import: the top level and primekit.snn; never data, chip, inference, energy, experiments or plots (a chip reaches a model only as a weight source).
"""

from primekit._lazy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
