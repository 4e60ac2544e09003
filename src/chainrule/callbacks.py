"""Callbacks: code the training loop runs at the start and end of training and of each epoch.

``logs`` is the dict of the epoch's numbers (``loss``, ``val_loss``, metrics, ``lr``).
A callback stops training by setting ``network.stop_training = True``.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from chainrule.network import Network
    from chainrule.optimizers import Optimizer
    from chainrule.training import TrainingRun

Logs = dict[str, float]


class Callback:
    """Base class; override the hooks you need. `network`, `optimizer`, `run` are set by fit."""

    network: Network
    optimizer: Optimizer
    run: TrainingRun

    def on_train_begin(self) -> None: ...
    def on_epoch_begin(self, epoch: int) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs) -> None: ...
    def on_train_end(self, logs: Logs) -> None: ...


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(
        self,
        on_epoch_end: Callable[[int, Logs], Any] | None = None,
        on_epoch_begin: Callable[[int], Any] | None = None,
        on_train_begin: Callable[[], Any] | None = None,
        on_train_end: Callable[[Logs], Any] | None = None,
    ) -> None:
        self._hooks = {
            "on_epoch_end": on_epoch_end,
            "on_epoch_begin": on_epoch_begin,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
        }

    def on_train_begin(self) -> None:
        if self._hooks["on_train_begin"]:
            self._hooks["on_train_begin"]()

    def on_epoch_begin(self, epoch: int) -> None:
        if self._hooks["on_epoch_begin"]:
            self._hooks["on_epoch_begin"](epoch)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self._hooks["on_epoch_end"]:
            self._hooks["on_epoch_end"](epoch, logs)

    def on_train_end(self, logs: Logs) -> None:
        if self._hooks["on_train_end"]:
            self._hooks["on_train_end"](logs)


class _Monitor:
    """Tracks the best value of a monitored quantity (lower is better)."""

    def __init__(self, monitor: str | None, min_delta: float) -> None:
        self.requested = monitor
        self.min_delta = abs(float(min_delta))
        self.best = math.inf

    def key(self, logs: Logs) -> str:
        key = self.requested or ("val_loss" if "val_loss" in logs else "loss")
        if key not in logs:
            raise KeyError(f"cannot monitor {key!r}: this run logs only {sorted(logs)}")
        return key

    def improved(self, logs: Logs) -> bool:
        value = logs[self.key(logs)]
        if value < self.best - self.min_delta:
            self.best = value
            return True
        return False


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the network ends with the weights of its best epoch
    whether training stopped early or ran all its epochs (Keras restores only on an early
    stop, a known surprise).

    Parameters
    ----------
    monitor : str, optional
        The log key to watch; default ``val_loss`` when there is validation data, else ``loss``.
    """

    def __init__(
        self,
        patience: int = 10,
        min_delta: float = 0.0,
        monitor: str | None = None,
        restore_best_weights: bool = False,
    ) -> None:
        self.patience = int(patience)
        self.monitor = _Monitor(monitor, min_delta)
        self.restore_best_weights = restore_best_weights
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        self._best_weights: list[dict[str, Any]] | None = None

    def on_train_begin(self) -> None:
        self.monitor.best = math.inf
        self.stopped_epoch = self.best_epoch = None
        self._wait = 0
        self._best_weights = None

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.monitor.improved(logs):
            self.best_epoch, self._wait = epoch, 0
            if self.restore_best_weights:
                self._best_weights = self.network.get_weights()
            return
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_epoch = epoch
            self.network.stop_training = True

    def on_train_end(self, logs: Logs) -> None:
        if self.restore_best_weights and self._best_weights is not None:
            self.network.set_weights(self._best_weights)


class ModelCheckpoint(Callback):
    """Save the network to ``path`` every ``every`` epochs, or only when the monitored loss improves.

    The file is a checkpoint: a model `chainrule.load` reads, plus the optimizer state, seed
    and history that ``fit(..., resume_from=path)`` needs to continue the run exactly.
    ``path`` may contain ``{epoch}`` to keep one file per epoch. Saving is atomic, so an
    interrupted run never leaves a broken checkpoint.
    """

    def __init__(
        self,
        path: str | Path,
        save_best_only: bool = False,
        monitor: str | None = None,
        every: int = 1,
    ) -> None:
        self.path = str(path)
        self.save_best_only = save_best_only
        self.monitor = _Monitor(monitor, 0.0)
        self.every = int(every)

    def on_train_begin(self) -> None:
        self.monitor.best = math.inf

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        from chainrule.serialization import save_checkpoint

        if self.save_best_only:
            if not self.monitor.improved(logs):
                return
        elif (epoch + 1) % self.every:
            return
        self.network.metadata.update({"epoch": epoch, "logs": logs})
        save_checkpoint(self.path.format(epoch=epoch), self.network, self.optimizer, self.run)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement."""

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 10,
        min_lr: float = 0.0,
        min_delta: float = 1e-4,
        monitor: str | None = None,
    ) -> None:
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be in (0, 1), got {factor}")
        self.factor, self.patience, self.min_lr = float(factor), int(patience), float(min_lr)
        self.monitor = _Monitor(monitor, min_delta)

    def on_train_begin(self) -> None:
        if self.optimizer.schedule is not None:
            raise ValueError("ReduceLROnPlateau needs an optimizer with a fixed lr, not a schedule")
        self.monitor.best = math.inf
        self._wait = 0

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.monitor.improved(logs):
            self._wait = 0
            return
        self._wait += 1
        if self._wait >= self.patience:
            self.optimizer.lr = max(self.optimizer.lr * self.factor, self.min_lr)
            self._wait = 0


class ProgressLogger(Callback):
    """Print one line of the epoch's numbers every ``every`` epochs (and the last one)."""

    def __init__(self, epochs: int, every: int | None = None, stream: TextIO | None = None) -> None:
        self.epochs = epochs
        self.every = every or max(1, epochs // 20)
        self.stream = stream

    def on_train_begin(self) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if (epoch + 1) % self.every and epoch + 1 != self.epochs:
            return
        numbers = "  ".join(f"{k} {v:.6g}" for k, v in logs.items())
        elapsed = time.perf_counter() - self._start
        width = len(str(self.epochs))
        print(
            f"epoch {epoch + 1:>{width}}/{self.epochs}  {numbers}  ({elapsed:.1f}s)",
            file=self.stream or sys.stderr,
        )
