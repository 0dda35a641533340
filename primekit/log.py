"""primekit's messages (the cache's "loaded"/"computed" lines) through :mod:`logging`, on stderr.

Interactive users see them; the book build silences them with ``$PRIMEKIT_LOG=warning``, so a rendered
page shows results, not bookkeeping. A warning (a corrupt cache entry being recomputed) is always shown.
Any program can also tune ``logging.getLogger("primekit")`` as usual.
"""

from __future__ import annotations

import logging
import os
import sys

LOG_ENV = "PRIMEKIT_LOG"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (a notebook kernel or pytest may replace it after import)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ assigns it; the property always reads sys.stderr
        pass


def log_level() -> int:
    """The level ``$PRIMEKIT_LOG`` names (``info`` when unset)."""
    value = os.environ.get(LOG_ENV, "info").strip().lower() or "info"
    if value not in LEVELS:
        raise ValueError(f"{LOG_ENV}={value!r} is not allowed; use one of {tuple(LEVELS)}")
    return LEVELS[value]


def get_logger(name: str) -> logging.Logger:
    """The logger ``primekit.<name>``; the package logger gets its stderr handler on first use."""
    root = logging.getLogger("primekit")
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("[%(name)s] %(message)s"))
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(log_level())
    return logging.getLogger(f"primekit.{name}")
