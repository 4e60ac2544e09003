"""Column scaling, ``(x - offset) / scale``, from statistics that merge across blocks of rows.

`Moments` holds what every scaling needs of a column (count, mean, sum of squared deviations,
least and greatest value); two blocks' moments merge exactly as one block's would (Chan's
pairwise update), so a table read in blocks scales as the whole table read at once. `Scaler`
turns moments into the offset and scale of a method; `Scaler.fit` is the one-block case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chainrule.errors import InputError

SCALINGS = ("standard", "minmax", "maxabs", "none")


@dataclass
class Moments:
    """Per-column statistics of rows, mergeable across blocks.

    Attributes
    ----------
    count : int
        Rows seen.
    mean, m2, low, high : ndarray of shape (n_columns,)
        The mean, the sum of squared deviations from it, the least and the greatest value.
    """

    count: int
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        """The moments of ``values`` (an array of shape (n_rows, n_columns)), as NumPy's std sees them."""
        n, k = values.shape
        if n == 0:
            return cls(0, np.zeros(k), np.zeros(k), np.full(k, np.inf), np.full(k, -np.inf))
        with np.errstate(over="ignore", invalid="ignore"):
            mean = values.mean(axis=0)
            deviation = values - mean
            return cls(n, mean, np.sum(deviation * deviation, axis=0), values.min(axis=0), values.max(axis=0))

    def merge(self, other: Moments) -> Moments:
        """The moments of both blocks' rows together (exact for one empty block)."""
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        n = self.count + other.count
        with np.errstate(over="ignore", invalid="ignore"):
            delta = other.mean - self.mean
            mean = self.mean + delta * (other.count / n)
            m2 = self.m2 + other.m2 + delta * delta * (self.count * other.count / n)
        return Moments(n, mean, m2, np.minimum(self.low, other.low), np.maximum(self.high, other.high))

    @property
    def std(self) -> np.ndarray:
        """The population standard deviation (NumPy's ``std`` with ``ddof=0``)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return np.sqrt(self.m2 / max(self.count, 1))


@dataclass
class Scaler:
    """``(x - offset) / scale`` per column; the statistics come from the training data."""

    method: str = "none"
    offset: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)

    @classmethod
    def fit(
        cls, values: np.ndarray, method: str, names: list[str] | None = None, option: str = "scale"
    ) -> Scaler:
        """Column statistics; `InputError` (naming the column and ``option``) if one overflows."""
        return cls.from_moments(Moments.of(values), method, names, option)

    @classmethod
    def from_moments(
        cls, moments: Moments, method: str, names: list[str] | None = None, option: str = "scale"
    ) -> Scaler:
        """The scaler of ``method`` for columns with these `Moments` (see `fit`)."""
        if method not in SCALINGS:
            raise ValueError(f"unknown scaling {method!r}; choose one of: {', '.join(SCALINGS)}")
        n = moments.mean.shape[0]
        size = np.maximum(np.abs(moments.low), np.abs(moments.high))
        with np.errstate(over="ignore", invalid="ignore"):
            if method == "none" or n == 0:
                offset, scale = np.zeros(n), np.ones(n)
            elif method == "standard":
                offset, scale = moments.mean, moments.std
            elif method == "minmax":
                offset, scale = moments.low, moments.high - moments.low
            else:  # maxabs
                offset, scale = np.zeros(n), size
        overflowed = np.flatnonzero(~(np.isfinite(offset) & np.isfinite(scale)))
        if overflowed.size:
            j = int(overflowed[0])
            raise InputError(
                f"column {names[j] if names else j!r} cannot be scaled with {option}={method!r}: its "
                f"values (up to {size[j]:.3g} in size) overflow float64 in its "
                "statistics, so the saved model could not predict. Divide the column by a power of ten, "
                "or choose "
                f"{option}='maxabs' (chainrule train --{option.replace('_', '-')} maxabs)"
            )
        scale = np.where(scale > 0, scale, 1.0)  # a constant column is left unscaled
        return cls(method, np.asarray(offset).tolist(), np.asarray(scale).tolist())

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - np.asarray(self.offset)) / np.asarray(self.scale)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return values * np.asarray(self.scale) + np.asarray(self.offset)
