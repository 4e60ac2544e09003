"""Checks of the numbers users pass as settings (widths, rates, counts), scikit-learn style.

Each check raises a `ValueError` (a `TypeError` for the wrong kind of value) that names the
parameter, what it must be, and what it got, before anything is computed with it. Booleans
are refused where a number is expected: ``Network([10, True, 1])`` is a mistake, not a width.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]``; a bool, float or string is refused.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``True`` and ``2.0`` are not).
    ValueError
        If it lies outside ``[low, high]``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {_range_text(low, high, True, True)}, got {value}")
    return value


def check_float(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` in the range given; NaN, inf and bools are refused.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : real number
    low, high : float, optional
        Bounds; ``None`` leaves that side open.
    low_open, high_open : bool
        Exclude the bound itself (``lr > 0`` is ``low=0, low_open=True``).

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is NaN, infinite, or outside the range.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    number = float(value)
    inside = math.isfinite(number)
    if inside and low is not None:
        inside = number > low if low_open else number >= low
    if inside and high is not None:
        inside = number < high if high_open else number <= high
    if not inside:
        wanted = _range_text(low, high, not low_open, not high_open)
        raise ValueError(f"{name} must be a finite number {wanted}, got {value!r}")
    return number


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a ``bool`` (NumPy's included); anything else is refused."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def _range_text(low: float | None, high: float | None, low_closed: bool, high_closed: bool) -> str:
    if low is not None and high is not None:
        return f"in {'[' if low_closed else '('}{low}, {high}{']' if high_closed else ')'}"
    if low is not None:
        return f"{'>=' if low_closed else '>'} {low}"
    if high is not None:
        return f"{'<=' if high_closed else '<'} {high}"
    return "(any value)"
