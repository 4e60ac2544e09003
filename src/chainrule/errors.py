"""The exceptions chainrule raises, so callers can catch each failure by what went wrong."""

from __future__ import annotations

from typing import Any


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose.

    Catch it to handle any failure chainrule reports, whatever its kind.

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.Network([2, 1], seed=0)
    >>> try:
    ...     net.predict([[1.0, 2.0, 3.0]])
    ... except cr.ChainruleError as error:
    ...     print(type(error).__name__)
    InputError
    """


class InputError(ChainruleError, ValueError):
    """Training or prediction data that cannot be used as given (shape, values, dtype).

    A `ValueError` too, so code that catches ``ValueError`` keeps working. The message names the
    problem and the fix.

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.Network([2, 1], seed=0)
    >>> try:
    ...     net.predict([[1.0, 2.0, 3.0]])
    ... except cr.InputError as error:
    ...     print(error)
    X has 3 columns but the network expects 2: pass the same features, ... as the network was built for
    """


class ModelFileError(ChainruleError, ValueError):
    """A model file that is not a readable chainrule model: wrong, truncated, foreign or newer.

    A `ValueError` too. A path with no file at all raises `FileNotFoundError` instead.

    Examples
    --------
    >>> import os, tempfile
    >>> import chainrule as cr
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "notes.npz")
    ...     with open(path, "w") as file:
    ...         _ = file.write("not a model")
    ...     try:
    ...         cr.load(path)
    ...     except cr.ModelFileError:
    ...         print("not a chainrule model")
    not a chainrule model
    """


class NotInitializedError(ChainruleError, RuntimeError):
    """A layer used before its parameters exist.

    A `RuntimeError` too. A layer gets its parameters from the `Network` it is put in (drawn
    from the network's seed) or from ``weights=`` when it is made.

    Examples
    --------
    >>> import numpy as np
    >>> import chainrule as cr
    >>> try:
    ...     cr.Dense(2, 3).forward(np.zeros((1, 2)))
    ... except cr.NotInitializedError:
    ...     print("no weights yet")
    no weights yet
    """


class DivergenceError(ChainruleError, FloatingPointError):
    """Training produced a NaN or infinite loss; the network keeps its last finite weights.

    A `FloatingPointError` too.

    Parameters
    ----------
    message : str
        What happened and what to try, as printed.
    epoch : int
        The epoch in which the loss stopped being finite, numbered as the message numbers it.
    history : History
        The per-epoch history recorded before the failure.

    Attributes
    ----------
    epoch : int
        The epoch in which the loss stopped being finite, numbered as the message numbers it.
    history : History
        The per-epoch history recorded before the failure.

    Examples
    --------
    A learning rate far too large makes the loss overflow:

    >>> import chainrule as cr
    >>> net = cr.Network([1, 1], activation="linear", seed=0)
    >>> try:
    ...     net.fit([[1.0], [2.0]], [1.0, 2.0], loss="mse", optimizer=cr.SGD(lr=1e6), epochs=50)
    ... except cr.DivergenceError as error:
    ...     print(error.epoch, len(error.history["loss"]))
    23 22
    """

    def __init__(self, message: str, *, epoch: int, history: Any) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.history = history


class TrainingWarning(UserWarning):
    """Training ran but is unlikely to be learning: saturated or dead layers, or not converged.

    A `UserWarning`, so Python's `warnings` filters apply (``simplefilter("error",
    cr.TrainingWarning)`` stops a bad run at once).

    Examples
    --------
    Three epochs are too few, and `train_table` says so:

    >>> import warnings
    >>> import chainrule as cr
    >>> rows = {"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "y": [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]}
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = cr.train_table(rows, target="y", epochs=3, validation_split=0)
    >>> [(w.category.__name__, str(w.message)[:34]) for w in caught]
    [('TrainingWarning', 'not converged: the training loss w')]
    """


class DataWarning(UserWarning):
    """Rows that were used, but not as given: categories unseen in training, cells filled in.

    A `UserWarning`, so Python's `warnings` filters apply.

    Examples
    --------
    A colour the model never saw is encoded as no colour at all, with a warning naming it:

    >>> import warnings
    >>> import chainrule as cr
    >>> rows = {"x": [0.0, 1.0, 2.0, 3.0], "colour": ["red", "blue", "red", "blue"],
    ...         "y": [0.0, 2.0, 4.0, 6.0]}
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", cr.TrainingWarning)
    ...     model = cr.train_table(rows, target="y", epochs=3, validation_split=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = model.predict({"x": [1.0], "colour": ["green"]})
    >>> print(caught[0].category.__name__, caught[0].message)
    DataWarning column 'colour': 1 row (row 1) has a category not seen in training ('green'; 2 known): ...
    """
