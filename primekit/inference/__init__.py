"""Inference over whole splits: early-stop policies, the one evaluation path (record or stream), threshold sweeps and metrics.

May import: the top level, primekit.data, primekit.snn, primekit.chip and primekit.inference.
"""

from primekit._lazy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
