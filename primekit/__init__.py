"""primekit: the tested library behind the PRIME book.

PRIME (Wang et al., arXiv 2407.18625; Science Advances 2025) trains spiking neural networks by choosing
which random memristor weights to keep, stops inference early when the network is confident, and
computes in memory. This package holds every computation the book shows; the notebooks import it.

Start with :func:`get_profile`, the LIF neurons in :mod:`primekit.neurons`, the model contract in
:mod:`primekit.timeloop`, and the N-MNIST data of a profile: :func:`nmnist_frames` (events in
:mod:`primekit.events`, the offline emulator in :mod:`primekit.emulator`, binning in :mod:`primekit.frames`).
"""

from . import (datasets, early_stop, emulator, energy, events, frames, inference, memristor, metrics, mnist, models,
               robustness, splits, subnet, train, weights)
from .cache import fingerprint_files, load_or_run
from .config import DataNotFoundError, Profile, get_profile, stable_hash
from .datasets import nmnist_events, nmnist_frames
from .early_stop import MarginConfidence, SoftmaxConfidence, run_early_stop
from .emulator import EmulatorConfig
from .events import EVENT_DTYPE, SENSOR_SIZE, read_nmnist_bin, write_nmnist_bin
from .frames import FrameSpec, to_frames
from .neurons import (
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
from .progress import progress
from .seeding import derive_seed, make_generator, seed_everything
from .surrogate import FastSigmoid, Rectangle
from .timeloop import RunResult, StepModule, run, select_samples, stack_states

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
