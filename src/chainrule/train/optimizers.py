"""Optimizers: update parameter arrays in place from their gradients.

Optimizers are separate from layers: `step` receives the network's `Slot` list (each a
parameter array, its gradient array and whether weight decay applies) and changes the
parameters in place, keeping any state (momentum, moment estimates) in preallocated arrays.
The formulas follow PyTorch's, so runs can be compared step for step. An optimizer reads its
learning rate ``lr`` each time it steps, so a schedule or a callback that changes it takes
effect at the next step, whatever the optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.nn import kernels
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
    """Base class: learning rate (a number or a `Schedule` of the epoch) and L2 weight decay.

    ``weight_decay`` adds ``weight_decay * W`` to the gradient of every weight matrix (not
    the biases, as in scikit-learn's ``alpha``), i.e. L2 regularisation of strength
    ``weight_decay / 2 * sum(W**2)``.
    """

    name = ""

    def __init__(
        self,
        lr: float | Schedule = 0.01,
        weight_decay: float = 0.0,
        learning_rate: float | Schedule | None = None,
    ) -> None:
        if learning_rate is not None:  # the Keras spelling
            lr = learning_rate
        self.schedule = lr if callable(lr) else None
        self.lr = float(lr(0) if callable(lr) else lr)
        if self.lr < 0:
            raise ValueError(f"learning rate must be non-negative, got {self.lr}")
        self.weight_decay = float(weight_decay)
        self.state: dict[str, dict[str, Array]] = {}
        self.iterations = 0

    def start_epoch(self, epoch: int) -> None:
        """Set the learning rate for ``epoch`` from the schedule, if there is one."""
        if self.schedule is not None:
            self.lr = float(self.schedule(epoch))

    def step(self, slots: list[Slot]) -> None:
        """Update every slot's parameter in place from its gradient dLoss/dparam.

        Parameters
        ----------
        slots : list of Slot
            The network's parameters with their gradients (`chainrule.Network.slots`).
        """
        self.iterations += 1
        for slot in slots:
            state = self.state_for(slot)
            grad = slot.grad
            if self.weight_decay and slot.decay:
                grad = state.setdefault("decayed", np.empty_like(slot.param))
                np.multiply(slot.param, self.weight_decay, out=grad)
                grad += slot.grad
            self._update(slot.param, grad, state)

    def state_for(self, slot: Slot) -> dict[str, Array]:
        """The state arrays of ``slot`` (velocity, moments, a scratch array), made on first use."""
        state = self.state.get(slot.name)
        if state is None or state["scratch"].shape != slot.param.shape:
            state = self.state[slot.name] = self._new_state(slot.param)
        return state

    def _new_state(self, param: Array) -> dict[str, Array]:
        return {"scratch": np.empty_like(param)}

    _WORK_ARRAYS = ("scratch", "decayed")

    def state_arrays(self) -> dict[str, Array]:
        """The persistent state (momentum, moment estimates) by ``"slot:key"``, for checkpoints."""
        return {
            f"{slot}:{key}": value
            for slot, state in self.state.items()
            for key, value in state.items()
            if key not in self._WORK_ARRAYS
        }

    def load_state(self, arrays: dict[str, Array], iterations: int, lr: float) -> None:
        """Restore what `state_arrays`, ``iterations`` and ``lr`` described."""
        self.state = {}
        for name, value in arrays.items():
            slot, key = name.rsplit(":", 1)
            self.state.setdefault(slot, {})[key] = np.array(value)
        for state in self.state.values():
            state["scratch"] = np.empty_like(next(iter(state.values())))
        self.iterations, self.lr = int(iterations), float(lr)

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay}


class SGD(Optimizer):
    """Gradient descent ``p -= lr * g``, with optional (Nesterov) momentum.

    Momentum as in PyTorch: ``v = momentum * v + g``; ``p -= lr * v`` (or, with Nesterov,
    ``p -= lr * (g + momentum * v)``).
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
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0.0:
            raise ValueError("nesterov=True needs a momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _new_state(self, param: Array) -> dict[str, Array]:
        state = super()._new_state(param)
        if self.momentum:
            state["velocity"] = np.zeros_like(param)
        return state

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        if self.momentum:
            kernels.ops.momentum_update(
                param, grad, state["velocity"], self.lr, self.momentum, self.nesterov, state["scratch"]
            )
        else:
            kernels.ops.sgd_update(param, grad, self.lr, state["scratch"])

    def config(self) -> dict[str, Any]:
        return {**super().config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with PyTorch's bias correction and epsilon placement."""

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
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _new_state(self, param: Array) -> dict[str, Array]:
        return {**super()._new_state(param), "m": np.zeros_like(param), "v": np.zeros_like(param)}

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        kernels.ops.adam_update(
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
    """RMSprop (Hinton): ``v = rho * v + (1 - rho) * g**2``; ``p -= lr * g / (sqrt(v) + eps)``."""

    name = "rmsprop"

    def __init__(
        self,
        lr: float | Schedule = 0.001,
        rho: float = 0.9,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        learning_rate: float | Schedule | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate)
        self.rho, self.eps = float(rho), float(eps)

    def _new_state(self, param: Array) -> dict[str, Array]:
        return {**super()._new_state(param), "v": np.zeros_like(param)}

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        kernels.ops.rmsprop_update(param, grad, state["v"], self.lr, self.rho, self.eps, state["scratch"])

    def config(self) -> dict[str, Any]:
        return {**super().config(), "rho": self.rho, "eps": self.eps}


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get_optimizer(spec: str | Optimizer, lr: float | Schedule | None = None) -> Optimizer:
    """Return an optimizer by name (``"sgd"``, ``"momentum"``, ``"adam"``, ``"rmsprop"``, any case).

    ``"momentum"`` is SGD with momentum 0.9. ``lr`` applies only to names; an instance
    keeps its own.
    """
    if isinstance(spec, Optimizer):
        if lr is not None:
            raise ValueError("pass lr to the optimizer's constructor, not next to an instance")
        return spec
    kwargs: dict[str, Any] = {} if lr is None else {"lr": lr}
    if isinstance(spec, str) and normalized(spec) == "momentum":
        return SGD(momentum=0.9, **kwargs)
    return lookup(spec, OPTIMIZERS, {}, "optimizer", extra=("momentum",))(**kwargs)
