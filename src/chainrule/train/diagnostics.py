"""The training loop's safety nets: the state to roll back to, the divergence message, stuck layers."""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chainrule.errors import TrainingWarning
from chainrule.nn.layers import Dense, Layer
from chainrule.train.optimizers import Optimizer, Slot

if TYPE_CHECKING:
    from chainrule.train.history import History

Array = np.ndarray


class Snapshot:
    """One copy of the training state: parameters, optimizer state, step count, rate, epochs done.

    Parameters
    ----------
    params : list of ndarray, optional
        The parameters in slot order (copied as given; none for an empty snapshot).
    state : dict of str to ndarray, optional
        The optimizer's persistent state by ``"slot:key"`` (`Optimizer.state_arrays`).
    iterations : int
        The optimizer's step count.
    lr : float
        The optimizer's current learning rate.
    epochs : int
        The number of completed epochs this state belongs to.
    """

    def __init__(
        self,
        params: list[Array] | None = None,
        state: dict[str, Array] | None = None,
        iterations: int = 0,
        lr: float = 0.0,
        epochs: int = 0,
    ) -> None:
        self.params = list(params or [])
        self.state = dict(state or {})
        self.iterations, self.lr, self.epochs = iterations, lr, epochs

    def take(self, params: list[Array], optimizer: Optimizer, epochs: int) -> None:
        """Copy the live state into this snapshot, reusing its arrays where the shapes allow."""
        if len(self.params) != len(params):  # a training run's parameters keep their shapes
            self.params = [np.empty_like(p) for p in params]
        for saved, param in zip(self.params, params, strict=True):
            np.copyto(saved, param, casting="no")
        live = optimizer.state_arrays()
        for name in [name for name in self.state if name not in live]:
            del self.state[name]
        for name, value in live.items():
            saved = self.state.get(name)
            if saved is None or saved.shape != value.shape or saved.dtype != value.dtype:
                self.state[name] = saved = np.empty_like(value)
            np.copyto(saved, value, casting="no")
        self.iterations, self.lr, self.epochs = optimizer.iterations, optimizer.lr, epochs


class RollBack:
    """The training state of the last completed epoch, and the one before, to return to.

    `commit` copies the live state into the spare snapshot and only then makes it the
    committed one, by a single assignment: an interrupt at any line leaves either the old or
    the new snapshot committed, never a mix. `restore` copies the committed snapshot back into
    the parameters and the optimizer, and cuts the history to its epochs; it can be repeated.

    Parameters
    ----------
    slots : list of Slot
        The network's trainable arrays.
    optimizer : Optimizer
    history : History
        The run's history, cut back on `restore`.
    start : Snapshot, optional
        The state to start from (a checkpoint's); default the live state now. Call `restore`
        to put it into the network.
    """

    def __init__(
        self, slots: list[Slot], optimizer: Optimizer, history: History, start: Snapshot | None = None
    ) -> None:
        self.params = [slot.param for slot in slots]
        self.optimizer, self.history = optimizer, history
        if start is None:
            start = Snapshot()
            start.take(self.params, optimizer, history.epochs)
        self.snapshots = [start, Snapshot()]
        self.committed = 0
        self.has_previous = False

    def commit(self) -> None:
        """Record the live state as that of the last completed epoch."""
        spare = 1 - self.committed
        self.snapshots[spare].take(self.params, self.optimizer, self.history.epochs)
        self.committed, self.has_previous = spare, True  # the commit point: one assignment

    def restore(self, previous: bool = False) -> int:
        """Put the committed (or, with ``previous``, the one before) state back; return its epochs."""
        use_previous = previous and self.has_previous
        if use_previous:  # that state is now the last committed one, with no known epoch before it
            self.committed, self.has_previous = 1 - self.committed, False
        snapshot = self.snapshots[self.committed]
        for param, saved in zip(self.params, snapshot.params, strict=True):
            np.copyto(param, saved, casting="same_kind")
        self.optimizer.load_state(snapshot.state, snapshot.iterations, snapshot.lr)
        self.history.truncate(snapshot.epochs)
        return snapshot.epochs

    def params_finite(self) -> bool:
        """Whether every parameter is finite (one pass over the weights: once per epoch).

        A sum of squares is finite only if every value is (NaN and inf propagate), and costs one
        BLAS dot product; only when it is not (or it overflowed) is each value checked. `fit`
        calls it with NumPy's overflow warnings off (`chainrule.nn.activations.overflow_ignored`).
        """
        for param in self.params:
            flat = param.reshape(-1)
            if not math.isfinite(flat @ flat) and not np.isfinite(flat).all():
                return False
        return True


def divergence_message(epoch: int, what: str, optimizer: Optimizer, restored: str) -> str:
    """What a `DivergenceError` says: what became non-finite in which epoch, the likely causes,
    the weights kept."""
    return (
        f"{what} in epoch {epoch}: training diverged. Likely causes: "
        f"a learning rate too large for this problem (lr={optimizer.lr:g}; try 10x smaller) or "
        "inputs on very different scales (standardise the features). The network keeps its "
        f"weights from {restored}."
    )


def caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first frame outside chainrule."""
    package = str(Path(__file__).resolve().parents[1])
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def warn_if_stuck(layers: Sequence[Layer]) -> None:
    """Warn when the last training batch found a hidden layer saturated or all its ReLUs dead.

    A saturated sigmoid or tanh passes almost no gradient (``a * (1 - a)`` near 0), and a
    ReLU that is 0 for every sample passes none: training then stalls without an error.
    """
    for number, layer in enumerate(layers, start=1):
        if not isinstance(layer, Dense) or layer.output is None or layer is layers[-1]:
            continue
        a, name = layer.output, layer.activation.name
        if name in ("sigmoid", "tanh"):
            slope = a * (1.0 - a) if name == "sigmoid" else 1.0 - a * a
            if np.mean(slope < 1e-3) > 0.9:
                warnings.warn(
                    f"layer {number} ({name}) is saturated: over 90% of its outputs sit where its "
                    "slope is below 0.001, so little gradient flows. Scale the inputs, lower the "
                    "learning rate, or use smaller initial weights.",
                    TrainingWarning,
                    stacklevel=caller_stacklevel(),
                )
        elif name == "relu" and a.shape[0] >= 16 and not np.any(a > 0):  # a few rows prove nothing
            warnings.warn(
                f"layer {number} (relu) is dead: every unit outputs 0 for every sample, so no "
                "gradient flows. Lower the learning rate, or use leaky_relu or He initialisation.",
                TrainingWarning,
                stacklevel=caller_stacklevel(),
            )
