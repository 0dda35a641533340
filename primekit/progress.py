"""Text progress bars for long loops.

Plain-text tqdm bars (never widgets: a widget in a built HTML page would need a script from a CDN).
Set ``PRIMEKIT_PROGRESS=0`` to silence them, e.g. in scripts that log to files.
"""

from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

from tqdm.std import tqdm

T = TypeVar("T")

PROGRESS_ENV = "PRIMEKIT_PROGRESS"


def progress_enabled() -> bool:
    """False when ``$PRIMEKIT_PROGRESS`` is ``0``, ``false`` or ``no``."""
    return os.environ.get(PROGRESS_ENV, "1").strip().lower() not in ("0", "false", "no")


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None, *, disable: bool = False,
             **kwargs) -> Iterable[T]:
    """Wrap ``iterable`` in a text progress bar on stderr (updated at most every 2 s).

    The bar is off when ``disable`` is True or ``$PRIMEKIT_PROGRESS`` is ``0``; other keyword
    arguments go to tqdm.
    """
    options = dict(desc=desc, total=total, file=sys.stderr, mininterval=2.0, ascii=True,
                   dynamic_ncols=False, ncols=88, disable=disable or not progress_enabled())
    options.update(kwargs)
    return tqdm(iterable, **options)
