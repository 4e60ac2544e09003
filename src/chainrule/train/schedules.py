"""Learning-rate schedules: callables ``epoch -> learning rate``.

Every setting is checked when the schedule is made (a finite ``lr >= 0``, a positive
``factor``, ...), and the optimizer checks every value a schedule returns before the epoch
that uses it changes a weight, so a custom callable returning NaN fails with a `ValueError`.

Pass one as an optimizer's ``lr`` (``SGD(lr=StepDecay(0.1, 0.5, every=10))``); the training
loop sets the rate at the start of each epoch. Reduce-on-plateau depends on the monitored
loss, so it is a callback: `chainrule.train.callbacks.ReduceLROnPlateau`.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from chainrule.nn.checks import check_float, check_int


class Schedule(Protocol):
    """Anything that maps an epoch number (from 0) to a learning rate."""

    def __call__(self, epoch: int) -> float: ...


def power(base: float, exponent: int) -> float:
    """``base ** exponent``, infinite where Python's float power would overflow (and raise)."""
    try:
        return base**exponent
    except OverflowError:
        return math.inf


class StepDecay:
    """``lr * factor ** floor(epoch / every)``: drop by ``factor`` every ``every`` epochs.

    Parameters
    ----------
    lr : float
        The rate at epoch 0.
    factor : float
        The multiplier at each drop.
    every : int
        Epochs between drops.

    Examples
    --------
    >>> import chainrule as cr
    >>> schedule = cr.StepDecay(0.1, factor=0.5, every=10)
    >>> [schedule(epoch) for epoch in (0, 9, 10, 25)]
    [0.1, 0.1, 0.05, 0.025]
    >>> optimizer = cr.SGD(lr=schedule)  # the training loop sets the rate each epoch
    """

    def __init__(self, lr: float, factor: float = 0.5, every: int = 10) -> None:
        self.lr = check_float("lr", lr, 0.0)
        self.factor = check_float("factor", factor, 0.0, low_open=True)
        self.every = check_int("every", every, 1)

    def config(self) -> dict[str, Any]:
        """The schedule's description (stored in checkpoints, compared on resume).

        Returns
        -------
        dict
            The schedule's name and settings, as its constructor takes them.
        """
        return {"name": "step_decay", "lr": self.lr, "factor": self.factor, "every": self.every}

    def __call__(self, epoch: int) -> float:
        return self.lr * power(self.factor, epoch // self.every)


class ExponentialDecay:
    """``lr * rate ** epoch``.

    Parameters
    ----------
    lr : float
        The rate at epoch 0.
    rate : float
        The multiplier per epoch.

    Examples
    --------
    >>> import chainrule as cr
    >>> schedule = cr.ExponentialDecay(0.1, rate=0.5)
    >>> [schedule(epoch) for epoch in (0, 1, 3)]
    [0.1, 0.05, 0.0125]
    """

    def __init__(self, lr: float, rate: float = 0.96) -> None:
        self.lr = check_float("lr", lr, 0.0)
        self.rate = check_float("rate", rate, 0.0, low_open=True)

    def config(self) -> dict[str, Any]:
        """The schedule's description (stored in checkpoints, compared on resume).

        Returns
        -------
        dict
            The schedule's name and settings, as its constructor takes them.
        """
        return {"name": "exponential_decay", "lr": self.lr, "rate": self.rate}

    def __call__(self, epoch: int) -> float:
        return self.lr * power(self.rate, epoch)


class InverseTimeDecay:
    """``lr / (1 + decay * epoch)`` (scikit-learn's ``invscaling`` with power 1).

    Parameters
    ----------
    lr : float
        The rate at epoch 0.
    decay : float
        How fast the rate falls: it halves by epoch ``1 / decay``.

    Examples
    --------
    >>> import chainrule as cr
    >>> schedule = cr.InverseTimeDecay(0.1, decay=0.5)
    >>> [schedule(epoch) for epoch in (0, 2, 6)]
    [0.1, 0.05, 0.025]
    """

    def __init__(self, lr: float, decay: float = 0.01) -> None:
        self.lr = check_float("lr", lr, 0.0)
        self.decay = check_float("decay", decay, 0.0)

    def config(self) -> dict[str, Any]:
        """The schedule's description (stored in checkpoints, compared on resume).

        Returns
        -------
        dict
            The schedule's name and settings, as its constructor takes them.
        """
        return {"name": "inverse_time_decay", "lr": self.lr, "decay": self.decay}

    def __call__(self, epoch: int) -> float:
        return self.lr / (1.0 + self.decay * epoch)


class CosineDecay:
    """Half a cosine from ``lr`` down to ``min_lr`` over ``epochs`` epochs, then ``min_lr``.

    Parameters
    ----------
    lr : float
        The rate at epoch 0.
    epochs : int
        The length of the half cosine (at least 1).
    min_lr : float
        The rate at the end.

    Examples
    --------
    >>> import chainrule as cr
    >>> schedule = cr.CosineDecay(0.1, epochs=10, min_lr=0.01)
    >>> [round(schedule(epoch), 4) for epoch in (0, 5, 10, 20)]
    [0.1, 0.055, 0.01, 0.01]
    """

    def __init__(self, lr: float, epochs: int, min_lr: float = 0.0) -> None:
        self.lr = check_float("lr", lr, 0.0)
        self.epochs = check_int("epochs", epochs, 1)
        self.min_lr = check_float("min_lr", min_lr, 0.0, self.lr)

    def config(self) -> dict[str, Any]:
        """The schedule's description (stored in checkpoints, compared on resume).

        Returns
        -------
        dict
            The schedule's name and settings, as its constructor takes them.
        """
        return {"name": "cosine_decay", "lr": self.lr, "epochs": self.epochs, "min_lr": self.min_lr}

    def __call__(self, epoch: int) -> float:
        t = min(epoch, self.epochs) / self.epochs
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + math.cos(math.pi * t))
