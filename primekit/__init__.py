"""primekit: the tested library behind the PRIME book.

PRIME (Wang et al., arXiv 2407.18625; Science Advances 2025) trains spiking neural networks by choosing
which random memristor weights to keep, stops inference early when the network is confident, and
computes in memory. This package holds every computation the book shows; the notebooks import it.

The subpackages are the architecture, each layer importing only those before it:

- top level: ``profiles`` (run sizes), ``cache``, ``seeding``, ``paths``, ``checks``, ``progress``, ``tables``,
  ``reference`` (the real recording and the released checkpoint shipped in ``data/reference``), ``exercises``
  (the chapters' exercises: solutions run by the tests, student copies);
- :mod:`primekit.data`: N-MNIST events, the offline emulator, frames, splits, MNIST digits, the inpainting digits;
- :mod:`primekit.snn`: neurons, the per-step model contract, subnet layers, weight sources, models (the PRIME
  network, the spiking VAE of the inpainting task with its tdBN);
- :mod:`primekit.chip`: the memristor device and ``deploy`` (a model on a simulated chip);
- :mod:`primekit.inference`: early stop, the one evaluation path over a split, sweeps, metrics;
- :mod:`primekit.energy`: operation counts and prices;
- :mod:`primekit.experiments`: the cached chapter-level pipelines (training, noise sweeps);
- :mod:`primekit.plots`: one module of figures per chapter;
- :mod:`primekit.ledger`: what the book reproduced (one row per paper figure, the chapters' records, verdicts,
  ``python -m primekit reproduce``);
- ``chapter``, ``course`` (the teacher guide's plan), ``bench`` and the command line sit at the bottom and may
  import everything.

Submodules load on first attribute access (``primekit.snn.models`` works after ``import primekit``).
"""

import os

from primekit import paths
from primekit._lazy import lazy_submodules
from primekit.cache import fingerprint_files, load_or_run
from primekit.data.datasets import nmnist_events, nmnist_frames
from primekit.data.emulator import EmulatorConfig
from primekit.data.events import (
    EVENT_DTYPE,
    SENSOR_SIZE,
    read_nmnist_bin,
    write_nmnist_bin,
)
from primekit.data.frames import FrameSpec, to_frames
from primekit.inference.early_stop import (
    MarginConfidence,
    SoftmaxConfidence,
    run_early_stop,
)
from primekit.profiles import DataNotFoundError, Profile, get_profile, stable_hash
from primekit.progress import progress
from primekit.seeding import derive_seed, make_generator, seed_everything
from primekit.snn.neurons import (
    LIF,
    PRIME_LIF,
    VAE_LIF,
    IntegratorState,
    LIFParameters,
    LIFState,
    OutputIntegrator,
    integrator_step,
    lif_step,
)
from primekit.snn.surrogate import FastSigmoid, Rectangle
from primekit.snn.timeloop import (
    RunResult,
    StepModule,
    run,
    select_samples,
    stack_states,
)

__getattr__ = lazy_submodules(__name__)

if os.environ.get(paths.STRICT_ENV) == "1":  # the tests' guard, inherited by the book's notebook kernels
    paths.forbid_files_beside_repository()

__version__ = "0.1.0"

__all__ = [
    "MarginConfidence", "SoftmaxConfidence", "run_early_stop",
    "EVENT_DTYPE", "SENSOR_SIZE", "EmulatorConfig", "FrameSpec", "nmnist_events", "nmnist_frames",
    "read_nmnist_bin", "to_frames", "write_nmnist_bin",
    "DataNotFoundError", "FastSigmoid", "IntegratorState", "LIF", "LIFParameters", "LIFState",
    "OutputIntegrator", "PRIME_LIF", "Profile", "Rectangle", "RunResult", "StepModule", "VAE_LIF",
    "derive_seed", "fingerprint_files", "get_profile", "integrator_step", "lif_step", "load_or_run",
    "make_generator", "progress", "run", "seed_everything", "select_samples", "stable_hash", "stack_states",
]
