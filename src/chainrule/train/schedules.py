"""Learning-rate schedules: callables ``epoch -> learning rate``.

Pass one as an optimizer's ``lr`` (``SGD(lr=StepDecay(0.1, 0.5, every=10))``); the training
loop sets the rate at the start of each epoch. Reduce-on-plateau depends on the monitored
loss, so it is a callback: `chainrule.train.callbacks.ReduceLROnPlateau`.
"""

from __future__ import annotations

import math
from typing import Protocol


class Schedule(Protocol):
    """Anything that maps an epoch number (from 0) to a learning rate."""

    def __call__(self, epoch: int) -> float: ...


class StepDecay:
    """``lr * factor ** floor(epoch / every)``: drop by ``factor`` every ``every`` epochs."""

    def __init__(self, lr: float, factor: float = 0.5, every: int = 10) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.lr, self.factor, self.every = float(lr), float(factor), int(every)

    def __call__(self, epoch: int) -> float:
        return self.lr * self.factor ** (epoch // self.every)


class ExponentialDecay:
    """``lr * rate ** epoch``."""

    def __init__(self, lr: float, rate: float = 0.96) -> None:
        self.lr, self.rate = float(lr), float(rate)

    def __call__(self, epoch: int) -> float:
        return self.lr * self.rate**epoch


class InverseTimeDecay:
    """``lr / (1 + decay * epoch)`` (scikit-learn's ``invscaling`` with power 1)."""

    def __init__(self, lr: float, decay: float = 0.01) -> None:
        self.lr, self.decay = float(lr), float(decay)

    def __call__(self, epoch: int) -> float:
        return self.lr / (1.0 + self.decay * epoch)


class CosineDecay:
    """Half a cosine from ``lr`` down to ``min_lr`` over ``epochs`` epochs, then ``min_lr``."""

    def __init__(self, lr: float, epochs: int, min_lr: float = 0.0) -> None:
        self.lr, self.epochs, self.min_lr = float(lr), int(epochs), float(min_lr)

    def __call__(self, epoch: int) -> float:
        t = min(epoch, self.epochs) / self.epochs
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + math.cos(math.pi * t))
