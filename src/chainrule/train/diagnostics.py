"""The training loop's safety nets: last good weights, the divergence message, stuck layers."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from chainrule.errors import TrainingWarning
from chainrule.nn.layers import Dense, Layer
from chainrule.train.optimizers import Optimizer, Slot


class LastGoodWeights:
    """Copies of the parameters at the start of this epoch and the one before.

    On a non-finite loss in an epoch's first batch, that epoch's starting weights are
    themselves bad, so the previous epoch's are restored.
    """

    def __init__(self, slots: list[Slot]) -> None:
        self.params = [slot.param for slot in slots]
        self.current = [param.copy() for param in self.params]
        self.previous = [param.copy() for param in self.params]
        self.current_epoch = self.previous_epoch = -1  # the epochs whose starts they hold

    def epoch_started(self, epoch: int) -> None:
        """Remember the weights ``epoch`` starts from."""
        self.current, self.previous = self.previous, self.current
        self.previous_epoch, self.current_epoch = self.current_epoch, epoch
        for saved, param in zip(self.current, self.params, strict=True):
            np.copyto(saved, param)

    def restore(self, first_batch: bool) -> str:
        """Put the last good weights back; return which epoch's start they are, in words."""
        use_previous = first_batch and self.previous_epoch >= 0
        saved = self.previous if use_previous else self.current
        for array, param in zip(saved, self.params, strict=True):
            np.copyto(param, array)
        return f"the start of epoch {self.previous_epoch if use_previous else self.current_epoch}"


def divergence_message(epoch: int, value: float, optimizer: Optimizer, restored: str) -> str:
    """What a `DivergenceError` says: the epoch, the likely causes, the weights kept."""
    return (
        f"the training loss became {value} in epoch {epoch}: training diverged. Likely causes: "
        f"a learning rate too large for this problem (lr={optimizer.lr:g}; try 10x smaller) or "
        "inputs on very different scales (standardise the features). The network keeps its "
        f"weights from {restored}."
    )


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
                    stacklevel=4,
                )
        elif name == "relu" and a.shape[0] >= 16 and not np.any(a > 0):  # a few rows prove nothing
            warnings.warn(
                f"layer {number} (relu) is dead: every unit outputs 0 for every sample, so no "
                "gradient flows. Lower the learning rate, or use leaky_relu or He initialisation.",
                TrainingWarning,
                stacklevel=4,
            )
