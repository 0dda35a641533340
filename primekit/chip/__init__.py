"""The simulated memristor chip: the device (formation, RESET, programming and read noise), crossbars, and deploy (weights to conductances, a model on a chip).

May import: the top level, primekit.snn and primekit.chip.
"""

from primekit._lazy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
