"""The exceptions chainrule raises, so callers can catch each failure by what went wrong."""

from __future__ import annotations

from typing import Any


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class InputError(ChainruleError, ValueError):
    """Training or prediction data that cannot be used as given (shape, values, dtype)."""


class ModelFileError(ChainruleError, ValueError):
    """A model file that is not a readable chainrule model: wrong, truncated, foreign or newer."""


class NotInitializedError(ChainruleError, RuntimeError):
    """A layer used before its parameters exist."""


class DivergenceError(ChainruleError, FloatingPointError):
    """Training produced a NaN or infinite loss; the network keeps its last finite weights.

    Parameters
    ----------
    message : str
    epoch : int
    history : History

    Attributes
    ----------
    epoch : int
        The epoch (counted from 0) in which the loss stopped being finite.
    history : History
        The per-epoch history of the epochs completed before it.
    """

    def __init__(self, message: str, *, epoch: int, history: Any) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.history = history


class TrainingWarning(UserWarning):
    """Training ran but is unlikely to be learning: saturated or dead layers."""


class DataWarning(UserWarning):
    """Rows that were used, but not as given: categories unseen in training, cells filled in."""
