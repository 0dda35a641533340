"""Progress reports for long loops.

``$PRIMEKIT_PROGRESS`` chooses the kind:

- ``1`` (default): a plain-text tqdm bar on stderr, updated at most every 2 s (never a widget: a widget
  in a built HTML page would need a script from a CDN);
- ``summary``: no bar, one line per loop when it ends (what ``make book`` uses, so a rendered page shows
  "trained 63 batches in 21.4 s" instead of dozens of bar states);
- ``0``: nothing.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

from tqdm.std import tqdm

T = TypeVar("T")

PROGRESS_ENV = "PRIMEKIT_PROGRESS"
MODES = ("1", "summary", "0")


def progress_mode() -> str:
    """``"1"`` (bars), ``"summary"`` or ``"0"`` from ``$PRIMEKIT_PROGRESS`` (``false``/``no`` mean ``0``)."""
    value = os.environ.get(PROGRESS_ENV, "1").strip().lower()
    if value in ("0", "false", "no", "off"):
        return "0"
    if value == "summary":
        return "summary"
    if value in ("1", "true", "yes", "on", ""):
        return "1"
    raise ValueError(f"{PROGRESS_ENV}={value!r} is not allowed; use one of {MODES}")


def progress_enabled() -> bool:
    """False when progress reports are switched off."""
    return progress_mode() != "0"


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None, *, unit: str = "items",
             disable: bool = False, **kwargs) -> Iterable[T]:
    """Report progress through ``iterable`` on stderr, as ``$PRIMEKIT_PROGRESS`` says.

    ``unit`` names what one item is ("batches", "recordings"), so a summary says what it counted. Nothing is
    reported when ``disable`` is True; other keyword arguments go to tqdm.
    """
    mode = progress_mode()
    if disable or mode == "0":
        return iterable
    if mode == "summary":
        return _summary(iterable, desc, unit)
    options = dict(desc=desc, total=total, unit=f" {unit}", file=sys.stderr, mininterval=2.0, ascii=True,
                   dynamic_ncols=False, ncols=88)
    options.update(kwargs)
    return tqdm(iterable, **options)


def _summary(iterable: Iterable[T], desc: str, unit: str) -> Iterator[T]:
    start, count = time.perf_counter(), 0
    for item in iterable:
        count += 1
        yield item
    print(f"{desc or 'loop'}: {count:,} {unit} in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
