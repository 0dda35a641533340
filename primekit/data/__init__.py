"""Data: N-MNIST events (reader, writer, offline emulator, statistics), frames, splits, MNIST digits and the profile's cached datasets.

May import: the top level (profiles, cache, seeding, paths, checks, progress) and primekit.data; never snn, chip, inference, energy, experiments or plots.
"""

from primekit._lazy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
