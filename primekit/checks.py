"""Parameter checks shared by the config dataclasses: one message format everywhere.

Every failure is a ValueError naming the parameter, its value and what is allowed, e.g.
``contrast=1.2 must be < 1``; booleans are not numbers here (``True`` is not a decay).
"""

from __future__ import annotations


def is_number(value) -> bool:
    """An int or float, but not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_count(value) -> bool:
    """An int, but not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive(obj, *names: str) -> None:
    """Raise unless every attribute ``names`` of ``obj`` is a number > 0."""
    for name in names:
        value = getattr(obj, name)
        if not (is_number(value) and value > 0):
            raise ValueError(f"{name}={value!r} must be > 0")


def check_non_negative(obj, *names: str) -> None:
    """Raise unless every attribute ``names`` of ``obj`` is a number >= 0."""
    for name in names:
        value = getattr(obj, name)
        if not (is_number(value) and value >= 0):
            raise ValueError(f"{name}={value!r} must be >= 0")
