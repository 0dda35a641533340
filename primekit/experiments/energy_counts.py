"""Operation counts of the book's trained networks, cached: the pipeline behind the Energy chapter.

:func:`record_trained_counts` trains (or loads) a method's network with
:func:`primekit.experiments.training.train_method`, optionally puts it on a simulated chip
(:func:`primekit.chip.deploy.deploy`), and records every sample's operation counts per layer and step over
the test split with :func:`primekit.energy.counts.record_counts`. The result is cached by the profile,
the method, the chip and the data, so that editing a price in :mod:`primekit.energy.prices` never reruns
it. What each count means is documented in :mod:`primekit.energy.counts`.
"""

from __future__ import annotations

from primekit import cache, profiles
from primekit.chip.deploy import deploy
from primekit.chip.memristor import MemristorConfig
from primekit.data.datasets import nmnist_frames
from primekit.energy.count_records import OperationCounts
from primekit.energy.counts import CountRecording, CrossbarMapping, record_counts
from primekit.experiments import training as train


def record_trained_counts(method: str = "memristor-pruning", profile: profiles.Profile | None = None, *,
                          memristor: MemristorConfig = MemristorConfig(read_noise=0.02), chip_seed: int = 0,
                          read_seed: int = 0, mapping: CrossbarMapping = CrossbarMapping(),
                          on_chip: bool = True, splits=None) -> CountRecording:
    """Counts of a trained method on the profile's test split, cached (one full-T pass, then loaded).

    Args:
        method: a :data:`primekit.experiments.training.METHODS` name (trained, or loaded from the cache).
        profile: the run profile (default: :func:`primekit.get_profile`).
        memristor: the simulated chip (read noise relative, per read) used when ``on_chip``.
        chip_seed: seed of :func:`primekit.chip.deploy.deploy` (RESET spreads, programming noise).
        read_seed: seed of the chip's keyed reads (per sample and step, as :mod:`primekit.inference.evaluate`).
        mapping: the crossbar layout.
        on_chip: run the network deployed on the chip (True) or in software (False).
        splits: the profile's frames if already loaded (:func:`primekit.nmnist_frames`).
    """
    profile = profile or profiles.get_profile()
    splits = splits or nmnist_frames(profile)
    key = {"profile": profile, "method": method, "memristor": memristor if on_chip else None, "chip_seed": chip_seed,
           "read_seed": read_seed, "mapping": mapping}

    def compute():
        model = train.train_method(method, profile, splits).model
        if on_chip:
            model, _ = deploy(model, memristor, seed=chip_seed)
        recording = record_counts(model, splits.test, read_seed=read_seed, mapping=mapping)
        return {"outputs": recording.outputs, "labels": recording.labels, "counts": recording.counts.counts,
                "layers": recording.counts.layers}

    stored = cache.load_or_run(f"energy-counts-{method}", key, compute,
                               data_fingerprint=train.frames_fingerprint(splits.train, splits.test))
    return CountRecording(stored["outputs"], stored["labels"],
                          OperationCounts(stored["counts"], tuple(stored["layers"])))
