"""Chapter-level pipelines whose results are cached: training the methods of Fig. 3e, noise sweeps, energy counts of trained networks.

May import: everything but primekit.plots.
"""

from primekit._lazy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
