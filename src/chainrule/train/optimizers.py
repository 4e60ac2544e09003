"""Optimizers: update parameter arrays in place from their gradients.

Optimizers are separate from layers: `step` receives the network's `Slot` list (each a
parameter array, its gradient array and whether weight decay applies) and changes the
parameters in place, keeping any state (momentum, moment estimates) in preallocated arrays.
The formulas follow PyTorch's, so runs can be compared step for step. An optimizer reads its
learning rate ``lr`` each time it steps, so a schedule or a callback that changes it takes
effect at the next step, whatever the optimizer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.nn import kernels
from chainrule.nn.checks import check_bool, check_float, check_int
from chainrule.nn.names import lookup, normalized
from chainrule.train.schedules import Schedule

Array = np.ndarray


@dataclass(frozen=True)
class Slot:
    """One trainable array: its name (``"0.W"``), the array, its gradient, and decay flag."""

    name: str
    param: Array
    grad: Array
    decay: bool


class Optimizer:
    """Base class: learning rate (a number or a `Schedule` of the epoch), L2 and L1 penalties.

    ``weight_decay`` adds ``weight_decay * W`` to the gradient of every weight matrix (not the
    biases, as scikit-learn's ``alpha``): L2 of strength ``weight_decay / 2 * sum(W**2)``;
    ``l1`` adds ``l1 * sign(W)``, the (sub)gradient of ``l1 * sum(|W|)`` (TF Playground's L1).

    Parameters
    ----------
    lr : float or Schedule
        The learning rate, or a schedule of the epoch; read at every step.
    weight_decay : float
        L2 decay added to the weight matrices' gradients (not the biases').
    learning_rate : float or Schedule, optional
        Keras' name for ``lr``; wins when given.
    l1 : float
        ``l1 * sign(W)`` added to the weight matrices' gradients (not the biases').

    Examples
    --------
    A subclass writes ``_update``, the rule for one array; `step` applies it to each slot
    (here a sign-descent rule, on one array with its gradient):

    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.train.optimizers import Slot
    >>> class SignDescent(cr.Optimizer):
    ...     name = "sign_descent"
    ...     def _update(self, param, grad, state):
    ...         param -= self.lr * np.sign(grad)
    >>> w = np.array([1.0, -2.0])
    >>> SignDescent(lr=0.5).step([Slot("0.W", w, np.array([0.3, -4.0]), decay=True)])
    >>> w
    array([ 0.5, -1.5])
    """

    name = ""

    def __init__(
        self,
        lr: float | Schedule = 0.01,
        weight_decay: float = 0.0,
        learning_rate: float | Schedule | None = None,
        l1: float = 0.0,
    ) -> None:
        if learning_rate is not None:  # the Keras spelling
            lr = learning_rate
        if callable(lr):
            self.schedule: Schedule | None = lr
            self.lr = check_float("lr (the schedule's value at epoch 0)", lr(0), 0.0)
        else:
            self.schedule = None
            self.lr = check_float("lr", lr, 0.0)
        self.base_lr = self.lr  # the configured rate; ``lr`` is the current one
        self.weight_decay = check_float("weight_decay", weight_decay, 0.0)
        self.l1 = check_float("l1", l1, 0.0)
        self.state: dict[str, dict[str, Array]] = {}
        self.iterations = 0

    def start_epoch(self, epoch: int) -> None:
        """Set the learning rate for ``epoch`` from the schedule, if there is one.

        Parameters
        ----------
        epoch : int
            The epoch about to start, from 0.

        Raises
        ------
        ValueError
            If the rate (from the schedule, or set by a callback) is negative, NaN or infinite:
            checked here, before the epoch changes any weight.
        """
        if self.schedule is not None:
            self.lr = check_float(f"lr (the schedule's value at epoch {epoch})", self.schedule(epoch), 0.0)
        elif not (math.isfinite(self.lr) and self.lr >= 0.0):  # a callback may have set it
            raise ValueError(f"lr must be a finite number >= 0, got {self.lr!r} at epoch {epoch}")

    def step(self, slots: list[Slot]) -> None:
        """Update every slot's parameter in place from its gradient dLoss/dparam.

        Parameters
        ----------
        slots : list of Slot
            The network's parameters with their gradients (`chainrule.Network.slots`).
        """
        self.iterations += 1
        states = self.state
        for slot in slots:
            state = states.get(slot.name)
            if state is None or state["scratch"].shape != slot.param.shape:
                state = self.state_for(slot)
            grad = slot.grad
            if (self.weight_decay or self.l1) and slot.decay:
                grad = state.setdefault("decayed", np.empty_like(slot.param))
                np.multiply(slot.param, self.weight_decay, out=grad)
                if self.l1:
                    grad += self.l1 * np.sign(slot.param)
                grad += slot.grad
            self._update(slot.param, grad, state)

    def state_for(self, slot: Slot) -> dict[str, Array]:
        """The state arrays of ``slot`` (velocity, moments, a scratch array), made on first use.

        Parameters
        ----------
        slot : Slot
            One trainable array; its state is kept under ``slot.name``.

        Returns
        -------
        dict of str to ndarray
            The slot's state, arrays of the parameter's shape (``"m"`` and ``"v"`` for Adam).
        """
        state = self.state.get(slot.name)
        if state is None or state["scratch"].shape != slot.param.shape:
            state = self.state[slot.name] = self._new_state(slot.param)
        return state

    def _new_state(self, param: Array) -> dict[str, Array]:
        return {"scratch": np.empty_like(param)}

    _WORK_ARRAYS = ("scratch", "decayed")

    def state_keys(self) -> tuple[str, ...]:
        """The persistent state each slot has once stepped (``("m", "v")`` for Adam).

        Returns
        -------
        tuple of str
            The state's keys; empty for plain SGD, which keeps none.
        """
        return ()

    def state_arrays(self) -> dict[str, Array]:
        """The persistent state (momentum, moment estimates) by ``"slot:key"``, for checkpoints.

        Returns
        -------
        dict of str to ndarray
            ``{"0.W:m": ..., "0.W:v": ...}`` (the arrays themselves, not copies).
        """
        return {
            f"{slot}:{key}": value
            for slot, state in self.state.items()
            for key, value in state.items()
            if key not in self._WORK_ARRAYS
        }

    def load_state(
        self, arrays: dict[str, Array], iterations: int, lr: float, slots: list[Slot] | None = None
    ) -> None:
        """Restore what `state_arrays`, ``iterations`` and ``lr`` described (copying the arrays).

        Parameters
        ----------
        arrays : dict of str to ndarray
            ``"slot:key"`` arrays, as `state_arrays` gives them.
        iterations : int
            Steps taken so far.
        lr : float
            The current learning rate.
        slots : list of Slot, optional
            The network's slots: when given, the state is checked against them first.

        Raises
        ------
        ValueError
            If ``slots`` are given and the state does not fit them (a missing or unknown slot or
            key, a wrong shape or dtype, NaN or infinite values), or ``iterations``/``lr`` are
            invalid. Nothing is changed then. Without ``slots`` nothing is checked (a roll-back
            restores exactly what it saved).
        """
        if slots is not None:  # from a file: check everything first
            iterations = check_int("iterations", iterations, 0)
            lr = check_float("lr", lr, 0.0)
            self.check_state(arrays, iterations, slots)
        state: dict[str, dict[str, Array]] = {}
        for name, value in arrays.items():
            slot, key = name.rsplit(":", 1)
            state.setdefault(slot, {})[key] = np.array(value)
        for values in state.values():
            values["scratch"] = np.empty_like(next(iter(values.values())))
        self.state, self.iterations, self.lr = state, iterations, lr

    def check_state(self, arrays: dict[str, Array], iterations: int, slots: list[Slot]) -> None:
        """Raise `ValueError` unless ``arrays`` is this optimizer's state for ``slots``.

        Parameters
        ----------
        arrays : dict of str to ndarray
            State arrays by ``"slot:key"``, as `state_arrays` gives them (read from a checkpoint).
        iterations : int
            The steps taken; no state is expected before the first.
        slots : list of Slot
            The network's parameters, whose shapes and dtypes the arrays must have.

        Raises
        ------
        ValueError
            For a missing or unexpected array, another shape or dtype, or non-finite values.
        """
        keys = self.state_keys()
        expected = {f"{slot.name}:{key}": slot.param for slot in slots for key in keys}
        if iterations == 0 or not keys:
            expected = {}
        missing, unknown = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
        if missing or unknown:
            raise ValueError(
                f"the {self.name} state after {iterations} steps needs arrays {sorted(expected)}; "
                f"missing {missing}, unexpected {unknown}"
            )
        for name, value in arrays.items():
            param = expected[name]
            if value.shape != param.shape or value.dtype != param.dtype:
                raise ValueError(
                    f"state array {name} is {value.dtype}{list(value.shape)}, its parameter "
                    f"{param.dtype}{list(param.shape)}"
                )
            if not np.isfinite(value).all():
                raise ValueError(f"state array {name} holds NaN or infinite values")

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The settings (not the state), stored in checkpoints and compared on resume.

        Returns
        -------
        dict
            The name, the configured ``lr`` (a number, or the schedule's description), weight
            decay and the optimizer's own hyper-parameters.
        """
        lr = self.schedule_config() if self.schedule is not None else self.base_lr
        out = {"name": self.name, "lr": lr, "weight_decay": self.weight_decay}
        return {**out, "l1": self.l1} if self.l1 else out  # absent at 0: older checkpoints resume

    def schedule_config(self) -> dict[str, Any]:
        """The schedule's description (``{"name": "custom"}`` for a plain callable).

        Returns
        -------
        dict
            The schedule's ``config()``, or ``{"name": "custom"}``.
        """
        describe = getattr(self.schedule, "config", None)
        return describe() if callable(describe) else {"name": "custom"}


class SGD(Optimizer):
    """Gradient descent ``p -= lr * g``, with optional (Nesterov) momentum.

    Momentum as in PyTorch: ``v = momentum * v + g``; ``p -= lr * v`` (or, with Nesterov,
    ``p -= lr * (g + momentum * v)``).

    Parameters
    ----------
    lr : float or Schedule
        The learning rate, or a schedule of the epoch; read at every step.
    momentum : float
        In [0, 1); 0 is plain gradient descent.
    nesterov : bool
        Nesterov's look-ahead form (needs a momentum).
    weight_decay, l1 : float
        L2 and L1 penalties on the weight matrices (not the biases; see `Optimizer`).
    learning_rate : float or Schedule, optional
        Keras' name for ``lr``; wins when given.

    Examples
    --------
    One step on one array with its gradient, then momentum over two steps:

    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.train.optimizers import Slot
    >>> w = np.array([1.0, -2.0])
    >>> cr.SGD(lr=0.1).step([Slot("0.W", w, np.array([0.5, 0.5]), decay=True)])
    >>> w  # w - 0.1 * g
    array([ 0.95, -2.05])
    >>> w, optimizer = np.array([1.0]), cr.SGD(lr=0.1, momentum=0.9)
    >>> for _ in range(2):  # v = 1, then 0.9 * 1 + 1
    ...     optimizer.step([Slot("0.W", w, np.array([1.0]), decay=True)])
    >>> w.round(6)  # 1 - 0.1 * 1 - 0.1 * 1.9
    array([0.71])
    """

    name = "sgd"

    def __init__(
        self,
        lr: float | Schedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        learning_rate: float | Schedule | None = None,
        l1: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate, l1)
        self.momentum = check_float("momentum", momentum, 0.0, 1.0, high_open=True)
        self.nesterov = check_bool("nesterov", nesterov)
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs a momentum > 0")

    def state_keys(self) -> tuple[str, ...]:
        return ("velocity",) if self.momentum else ()

    def _new_state(self, param: Array) -> dict[str, Array]:
        state = super()._new_state(param)
        if self.momentum:
            state["velocity"] = np.zeros_like(param)
        return state

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        if self.momentum:
            kernels.current().momentum_update(
                param, grad, state["velocity"], self.lr, self.momentum, self.nesterov, state["scratch"]
            )
        else:
            kernels.current().sgd_update(param, grad, self.lr, state["scratch"])

    def config(self) -> dict[str, Any]:
        return {**super().config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with PyTorch's bias correction and epsilon placement.

    Parameters
    ----------
    lr : float or Schedule
        The learning rate, or a schedule of the epoch; read at every step.
    beta1, beta2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    eps : float
        Added to the root of the second moment, > 0.
    weight_decay, l1 : float
        L2 and L1 penalties on the weight matrices (see `Optimizer`).
    learning_rate : float or Schedule, optional
        Keras' name for ``lr``.

    Examples
    --------
    Adam's first step moves each weight by about ``lr``, whatever the gradient's size:

    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.train.optimizers import Slot
    >>> w, optimizer = np.array([1.0, -2.0]), cr.Adam(lr=0.1)
    >>> optimizer.step([Slot("0.W", w, np.array([0.5, -30.0]), decay=True)])
    >>> w.round(6)
    array([ 0.9, -1.9])
    >>> optimizer.state_keys()
    ('m', 'v')
    """

    name = "adam"

    def __init__(
        self,
        lr: float | Schedule = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        learning_rate: float | Schedule | None = None,
        l1: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate, l1)
        self.beta1 = check_float("beta1", beta1, 0.0, 1.0, high_open=True)
        self.beta2 = check_float("beta2", beta2, 0.0, 1.0, high_open=True)
        self.eps = check_float("eps", eps, 0.0, low_open=True)

    def state_keys(self) -> tuple[str, ...]:
        return ("m", "v")

    def _new_state(self, param: Array) -> dict[str, Array]:
        return {**super()._new_state(param), "m": np.zeros_like(param), "v": np.zeros_like(param)}

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        kernels.current().adam_update(
            param,
            grad,
            state["m"],
            state["v"],
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            self.iterations,
            state["scratch"],
        )

    def config(self) -> dict[str, Any]:
        return {**super().config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class RMSprop(Optimizer):
    """RMSprop (Hinton): ``v = rho * v + (1 - rho) * g**2``; ``p -= lr * g / (sqrt(v) + eps)``.

    Parameters
    ----------
    lr : float or Schedule
        The learning rate, or a schedule of the epoch; read at every step.
    rho : float
        Decay rate of the squared-gradient average, in [0, 1).
    eps : float
        Added to the root, > 0.
    weight_decay, l1 : float
        L2 and L1 penalties on the weight matrices (see `Optimizer`).
    learning_rate : float or Schedule, optional
        Keras' name for ``lr``.

    Examples
    --------
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.train.optimizers import Slot
    >>> w = np.array([1.0])
    >>> cr.RMSprop(lr=0.01).step([Slot("0.W", w, np.array([0.5]), decay=True)])
    >>> w.round(6)  # v = 0.1 * 0.25; w - 0.01 * 0.5 / sqrt(v)
    array([0.968377])
    """

    name = "rmsprop"

    def __init__(
        self,
        lr: float | Schedule = 0.001,
        rho: float = 0.9,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        learning_rate: float | Schedule | None = None,
        l1: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate, l1)
        self.rho = check_float("rho", rho, 0.0, 1.0, high_open=True)
        self.eps = check_float("eps", eps, 0.0, low_open=True)

    def state_keys(self) -> tuple[str, ...]:
        return ("v",)

    def _new_state(self, param: Array) -> dict[str, Array]:
        return {**super()._new_state(param), "v": np.zeros_like(param)}

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        kernels.current().rmsprop_update(
            param, grad, state["v"], self.lr, self.rho, self.eps, state["scratch"]
        )

    def config(self) -> dict[str, Any]:
        return {**super().config(), "rho": self.rho, "eps": self.eps}


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get_optimizer(spec: str | Optimizer, lr: float | Schedule | None = None) -> Optimizer:
    """Return an optimizer by name (``"sgd"``, ``"momentum"``, ``"adam"``, ``"rmsprop"``, any case).

    Parameters
    ----------
    spec : str or Optimizer
        A name (``"Adam"`` works too) or an instance, returned as is. ``"momentum"`` is SGD
        with momentum 0.9.
    lr : float or Schedule, optional
        For a name only; an instance keeps its own.

    Returns
    -------
    Optimizer
        A new optimizer for a name; the instance itself when one is given.

    Raises
    ------
    ValueError
        For an unknown name (listing the choices), or ``lr`` next to an instance.

    Examples
    --------
    >>> import chainrule as cr
    >>> optimizer = cr.get_optimizer("momentum", lr=0.05)
    >>> type(optimizer).__name__, optimizer.lr, optimizer.momentum
    ('SGD', 0.05, 0.9)
    """
    if isinstance(spec, Optimizer):
        if lr is not None:
            raise ValueError("pass lr to the optimizer's constructor, not next to an instance")
        return spec
    kwargs: dict[str, Any] = {} if lr is None else {"lr": lr}
    if isinstance(spec, str) and normalized(spec) == "momentum":
        return SGD(momentum=0.9, **kwargs)
    return lookup(spec, OPTIMIZERS, {}, "optimizer", extra=("momentum",))(**kwargs)
