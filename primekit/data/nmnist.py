"""The real N-MNIST dataset through tonic, without ever downloading by surprise.

N-MNIST (Orchard et al. 2015) is MNIST recorded by an ATIS event camera making three saccades in front
of a screen: 60,000 training and 10,000 test recordings, one ``.bin`` file each (see
:mod:`primekit.data.events`). primekit reads it from tonic's layout under the data root::

    data/raw/NMNIST/Train/0/00002.bin ... data/raw/NMNIST/Train/9/...
    data/raw/NMNIST/Test/0/...          ... data/raw/NMNIST/Test/9/...

(the folder name's last character is the label, as tonic reads it).

**Why not plain** ``tonic.datasets.NMNIST(save_to=...)``: tonic considers the data present only if the
downloaded ``train.zip`` / ``test.zip`` is still next to the extracted folder *and* the folder holds at
least 10,000 ``.bin`` files; otherwise it starts a download. A user who extracted the folders and
deleted the archives (or a small test layout) would trigger a network access. :class:`RealNMNIST`
subclasses tonic's class and replaces only that check (the split folder must exist and hold ``.bin``
files) and the download (it raises :class:`~primekit.profiles.DataNotFoundError` instead). File discovery,
labels, ``first_saccade_only`` and ``stabilize`` stay tonic's; files are read with
:func:`primekit.data.events.read_nmnist_bin` (identical values to tonic's reader, but a damaged file fails
with its name instead of giving garbage).

Downloading is opt-in: :func:`fetch_nmnist` (``python -m primekit data fetch-nmnist``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np
import tonic
from tonic import download_utils
from tonic.datasets.nmnist import stabilize as _tonic_stabilize

from primekit import paths
from primekit.data.events import read_nmnist_bin
from primekit.profiles import DataNotFoundError, nmnist_dir
from primekit.progress import progress as _progress

#: Where N-MNIST is published (the page tonic's download links belong to).
NMNIST_HOME = "https://www.garrickorchard.com/datasets/n-mnist"

_SPLIT_FOLDERS = {True: tonic.datasets.NMNIST.train_folder, False: tonic.datasets.NMNIST.test_folder}


class NMNISTDownloadError(RuntimeError):
    """``fetch_nmnist`` could not download or extract N-MNIST (no network, bad archive...)."""


def split_dir(train: bool) -> Path:
    """The folder of one split: ``data/raw/NMNIST/Train`` or ``data/raw/NMNIST/Test``."""
    return nmnist_dir() / _SPLIT_FOLDERS[bool(train)]


def count_bin_files(train: bool) -> int | None:
    """Number of ``.bin`` files in one split's folder, or None if the folder does not exist."""
    folder = split_dir(train)
    if not folder.is_dir():
        return None
    return sum(1 for _ in folder.rglob("*.bin"))


def check_split(train: bool) -> Path:
    """The split's folder if it exists and holds ``.bin`` files, else :class:`DataNotFoundError`."""
    folder = split_dir(train)
    if not folder.is_dir():
        raise DataNotFoundError(
            f"the real N-MNIST {'training' if train else 'test'} set is not on disk: {folder} does not "
            f"exist. Put the extracted N-MNIST folders Train/ and Test/ under {folder.parent} (or run "
            f"`python -m primekit data fetch-nmnist` on a machine with a network); the emulated "
            f"N-MNIST needs no files."
        )
    if next(folder.rglob("*.bin"), None) is None:
        raise DataNotFoundError(f"{folder} exists but holds no .bin files; extract N-MNIST's "
                                f"{folder.name}/ folder (with its 0/ ... 9/ subfolders) there")
    return folder


class RealNMNIST(tonic.datasets.NMNIST):
    """The real N-MNIST split under ``data/raw/NMNIST``, as a tonic dataset that never downloads.

    ``dataset[i]`` is ``(events, label)``: events a structured array in
    :data:`primekit.data.events.EVENT_DTYPE` (x, y, t in us, p with 1 = ON), sorted by t, then passed through
    ``transform``; label an int 0-9. Loading is lazy (one file per item): the training split as events
    would need about 8 GB of memory.

    Args:
        train: True for ``Train/``, False for ``Test/``.
        first_saccade_only, stabilize, transform, target_transform, transforms: as in
            ``tonic.datasets.NMNIST``.

    Raises:
        DataNotFoundError: the split's folder is absent or holds no ``.bin`` file (names the folder).
    """

    def __init__(self, train: bool = True, *, first_saccade_only: bool = False, stabilize: bool = False,
                 transform=None, target_transform=None, transforms=None):
        check_split(train)
        try:
            super().__init__(save_to=str(paths.raw_dir()), train=train, first_saccade_only=first_saccade_only,
                             stabilize=stabilize, transform=transform, target_transform=target_transform,
                             transforms=transforms)
        except ValueError as error:  # tonic: int(<folder name>[-1]) failed
            raise ValueError(f"unexpected layout under {split_dir(train)} ({error}): every .bin file must sit "
                             f"in a folder whose name ends in its digit, e.g. {split_dir(train) / '3'}") from None

    # tonic's Dataset stores data under save_to/<class name>; ours must be .../NMNIST, not .../RealNMNIST.
    @property
    def location_on_system(self) -> str:
        return str(nmnist_dir())

    @location_on_system.setter
    def location_on_system(self, _value) -> None:  # tonic's Dataset.__init__ assigns it; ignored
        pass

    def _check_exists(self) -> bool:
        # tonic's check wants the .zip archive kept and >= 10,000 files; check_split() already ran.
        return split_dir(self.train).is_dir()

    def download(self) -> None:
        raise DataNotFoundError(f"{split_dir(self.train)} is missing and RealNMNIST never downloads; "
                                f"run `python -m primekit data fetch-nmnist`")

    @property
    def files(self) -> list[str]:
        """The ``.bin`` file of every item, in tonic's (sorted) order."""
        return list(self.data)

    @property
    def labels(self) -> np.ndarray:
        """The label of every item, int64 ``[N]``."""
        return np.asarray(self.targets, dtype=np.int64)

    def read_events(self, index: int) -> np.ndarray:
        """The raw events of item ``index`` (no saccade selection, stabilisation or transform)."""
        return read_nmnist_bin(self.data[index])

    def __getitem__(self, index):
        events = self.read_events(index)
        if self.first_saccade_only:
            events = events[events["t"] < 1e5]
        if self.stabilize:
            events = _tonic_stabilize(events)
        target = self.targets[index]
        if self.transform is not None:
            events = self.transform(events)
        if self.target_transform is not None:
            target = self.target_transform(target)
        if self.transforms is not None:
            events, target = self.transforms(events, target)
        return events, target

    def __repr__(self) -> str:
        return f"RealNMNIST(train={self.train}, {len(self)} files under {split_dir(self.train)})"


def load_real_nmnist(train: bool = True, indices: Sequence[int] | None = None, *,
                     progress: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
    """Read (a subset of) a real N-MNIST split into memory.

    Args:
        train: True for the training split, False for the test split.
        indices: which items (e.g. from :func:`primekit.data.splits.stratified_indices` of
            ``RealNMNIST(train).labels``); None reads all (the training split needs about 8 GB: prefer
            a subset, or :class:`RealNMNIST` with :func:`primekit.data.frames.frames_for_dataset`).
        progress: show a progress bar.

    Returns:
        ``(events, labels)``: a list of event arrays (:data:`~primekit.data.events.EVENT_DTYPE`) and int64 labels.

    Raises:
        DataNotFoundError: the split is not on disk (names the folder).
    """
    dataset = RealNMNIST(train)
    chosen = np.arange(len(dataset)) if indices is None else np.asarray(indices, dtype=np.int64)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= len(dataset)):
        bad = chosen[(chosen < 0) | (chosen >= len(dataset))][0]
        raise ValueError(f"indices holds {int(bad)}, outside [0, {len(dataset)}) for {dataset!r}")
    options = {} if progress else {"disable": True}
    events = [dataset.read_events(int(i)) for i in _progress(chosen, desc="reading N-MNIST", unit="files", **options)]
    return events, dataset.labels[chosen]


# ---------------------------------------------------------------------------------------------------
# Opt-in download
# ---------------------------------------------------------------------------------------------------


def _sources(train: bool) -> tuple[str, str, str]:
    cls = tonic.datasets.NMNIST
    return (cls.train_url, cls.train_filename, cls.train_md5) if train else (cls.test_url, cls.test_filename,
                                                                             cls.test_md5)


def offline_instructions() -> str:
    """What to do by hand when the download is impossible."""
    folder = nmnist_dir()
    return (f"download N-MNIST from {NMNIST_HOME} (train: {_sources(True)[0]} ; test: {_sources(False)[0]}) "
            f"on a machine with internet and extract Train/ and Test/ into {folder}")


def fetch_nmnist(train: bool = True, test: bool = True) -> Path:
    """Download and extract N-MNIST into ``data/raw/NMNIST`` with tonic's downloader (needs a network).

    Splits whose folder already exists are skipped. The archives stay next to the folders (tonic's own
    check looks for them there).

    Returns:
        The ``NMNIST`` folder.

    Raises:
        NMNISTDownloadError: no network, an interrupted download, a checksum mismatch or a bad
            archive; the message says what happened and how to install the files by hand.
    """
    folder = nmnist_dir()
    for is_train, wanted in ((True, train), (False, test)):
        if not wanted or split_dir(is_train).is_dir():
            continue
        url, filename, md5 = _sources(is_train)
        try:
            download_utils.download_and_extract_archive(url, str(folder), filename=filename, md5=md5)
        except OSError as error:  # URLError, HTTPError, timeouts, refused connections are all OSErrors
            raise NMNISTDownloadError(
                f"no network (or the server refused: {type(error).__name__}: {error}): {offline_instructions()}"
            ) from error
        except (RuntimeError, zipfile.BadZipFile, EOFError) as error:  # tonic: checksum; zipfile: damaged
            archive = folder / filename
            raise NMNISTDownloadError(
                f"the download of {filename} failed or is damaged ({type(error).__name__}: {error}); delete "
                f"{archive} and try again, or {offline_instructions()}"
            ) from error
        if not split_dir(is_train).is_dir():
            raise NMNISTDownloadError(f"{filename} was extracted but {split_dir(is_train)} did not appear; "
                                      f"{offline_instructions()}")
    return folder


def describe_nmnist() -> list[str]:
    """One line per split: where it is expected and how many files it has."""
    lines = []
    for train in (True, False):
        count = count_bin_files(train)
        state = "missing" if count is None else f"{count} .bin files"
        lines.append(f"N-MNIST {'Train' if train else 'Test '}: {split_dir(train)}  ({state})")
    return lines
