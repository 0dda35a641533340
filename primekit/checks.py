"""Parameter checks shared by the config dataclasses: one message format everywhere.

Every failure is a ValueError naming the parameter, its value and what is allowed, e.g.
``contrast=1.2 must be < 1``; booleans are not numbers here (``True`` is not a decay).
"""

from __future__ import annotations

import math

import numpy as np
import torch


def is_number(value) -> bool:
    """An int or float (Python or NumPy), but not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def is_count(value) -> bool:
    """An integer (Python or NumPy), but not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_positive(obj, *names: str) -> None:
    """Raise unless every attribute ``names`` of ``obj`` is a finite number > 0."""
    for name in names:
        value = getattr(obj, name)
        if not (is_number(value) and value > 0 and math.isfinite(value)):
            raise ValueError(f"{name}={value!r} must be a finite number > 0")


def check_non_negative(obj, *names: str) -> None:
    """Raise unless every attribute ``names`` of ``obj`` is a finite number >= 0."""
    for name in names:
        value = getattr(obj, name)
        if not (is_number(value) and value >= 0 and math.isfinite(value)):
            raise ValueError(f"{name}={value!r} must be a finite number >= 0")


def check_number(name: str, value, *, above: float | None = None, at_least: float | None = None,
                 at_most: float | None = None) -> float:
    """``value`` as a float; raise unless it is a finite number (NumPy scalars accepted) within the bounds."""
    bounds = [f"> {above}" if above is not None else "", f">= {at_least}" if at_least is not None else "",
              f"<= {at_most}" if at_most is not None else ""]
    allowed = "a finite number" + "".join(f" {b}" if i == 0 else f" and {b}" for i, b in
                                         enumerate(b for b in bounds if b))
    if not (is_number(value) and math.isfinite(value)) or (above is not None and not value > above) or (
            at_least is not None and not value >= at_least) or (at_most is not None and not value <= at_most):
        raise ValueError(f"{name}={value!r} must be {allowed}")
    return float(value)


def check_finite_numbers(name: str, values) -> None:
    """Raise unless ``values`` (a number or a nested tuple of them) holds only finite numbers."""
    flat = [values] if not isinstance(values, (tuple, list)) else [
        v for item in values for v in (item if isinstance(item, (tuple, list)) else (item,))]
    if not flat or any(not (is_number(v) and math.isfinite(v)) for v in flat):
        raise ValueError(f"{name}={values!r} must hold finite numbers")


def is_integer(value) -> bool:
    """An integer (Python or NumPy), but not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_integer(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int; raise unless it is an integer (NumPy integers accepted) in [minimum, maximum]."""
    allowed = "an integer" + (f" >= {minimum}" if minimum is not None else "") + (
        f" and <= {maximum}" if maximum is not None else "")
    if not is_integer(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name}={value!r} must be {allowed}")
    return int(value)


def check_choice(name: str, value, allowed) -> None:
    """Raise unless ``value`` is one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name}={value!r} must be one of {tuple(allowed)}")


def check_instance(name: str, value, kind: type | tuple, what: str) -> None:
    """Raise unless ``value`` is an instance of ``kind`` (``what`` names it for the message)."""
    if not isinstance(value, kind):
        raise ValueError(f"{name} must be {what}, got {type(value).__name__}")


def check_finite(name: str, values) -> None:
    """Raise if the array or tensor ``values`` holds NaN or infinite entries (saying how many)."""
    if isinstance(values, torch.Tensor):
        bad = int((~torch.isfinite(values)).sum()) if values.is_floating_point() else 0
    else:
        array = np.asarray(values)
        bad = int((~np.isfinite(array)).sum()) if array.dtype.kind in "fc" else 0
    if bad:
        raise ValueError(f"{name} holds {bad} NaN or infinite value{'s' if bad > 1 else ''}; every entry must be finite")


def check_indices(name: str, values, size: int | None = None) -> np.ndarray:
    """``values`` as an int64 array of indices >= 0 (and < ``size``); fractional or boolean values are refused."""
    array = np.asarray(values)
    if array.dtype.kind == "b":
        raise ValueError(f"{name} is a boolean mask; give integer indices (np.flatnonzero(mask)), or a mask of the "
                         f"split's length where a mask is accepted")
    if array.size and array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(f"{name} holds fractional or non-finite values; indices must be integers")
    elif array.size and array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer indices, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or (size is not None and array.max() >= size)):
        limit = f"in [0, {size})" if size is not None else ">= 0"
        raise ValueError(f"{name} holds indices from {array.min()} to {array.max()}; every index must be {limit}")
    return array
