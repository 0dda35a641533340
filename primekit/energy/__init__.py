"""Energy projection: operation counts by forward hooks, and the cited prices of a digital and a hybrid analogue-digital system (separate modules, so a price edit keeps the cached counts).

May import: the top level, primekit.snn, primekit.chip, primekit.inference and primekit.energy.
"""

from primekit._lazy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
