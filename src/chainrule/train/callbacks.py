"""Callbacks: code the training loop runs at the start and end of training and of each epoch.

``logs`` is the dict of the epoch's numbers (``loss``, ``val_loss``, metrics, ``lr``).
A callback stops training by setting ``network.stop_training = True``: set in ``on_epoch_end``,
after that epoch; set while an epoch runs (``on_epoch_begin``, or another thread), that epoch is
dropped at its next batch and the run ends with the epoch before.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from chainrule.nn.checks import check_bool, check_float, check_int

if TYPE_CHECKING:
    from chainrule.network import Network
    from chainrule.train.history import TrainingRun
    from chainrule.train.optimizers import Optimizer

Logs = dict[str, float]


class Callback:
    """Base class; override the hooks you need. `network`, `optimizer`, `run` are set by fit.

    Examples
    --------
    Stop as soon as the loss falls under 0.7:

    >>> import chainrule as cr
    >>> class StopUnder(cr.Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         if logs["loss"] < 0.7:
    ...             self.network.stop_training = True
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    >>> history = net.fit(X, y, optimizer=cr.SGD(lr=0.5), epochs=100, callbacks=[StopUnder()])
    >>> history.epochs, round(history["loss"][-1], 4)
    (4, 0.6992)
    """

    network: Network
    optimizer: Optimizer
    run: TrainingRun

    def on_train_begin(self) -> None:
        """Called once when `fit` starts, after `network`, `optimizer` and `run` are set."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Called before each epoch's first batch (``epoch`` counted from 0 over the run).

        A learning rate set here takes effect for this epoch's steps.

        Parameters
        ----------
        epoch : int
            The epoch about to start, from 0 (a resumed run continues the count).
        """

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        """Called after each epoch with its numbers (``loss``, ``val_loss``, metrics, ``lr``).

        Set ``self.network.stop_training = True`` to stop after this epoch.

        Parameters
        ----------
        epoch : int
            The epoch just finished, from 0.
        logs : dict of str to float
            Its numbers, as the `History` records them.
        """

    def on_train_end(self, logs: Logs) -> None:
        """Called once when training ends (also after an early stop or a Ctrl-C).

        Parameters
        ----------
        logs : dict of str to float
            The last epoch's numbers (empty when no epoch completed).
        """


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``.

    Parameters
    ----------
    on_epoch_end : callable ``(epoch, logs)``, optional
        Called after each epoch (see `Callback.on_epoch_end`).
    on_epoch_begin : callable ``(epoch)``, optional
        Called before each epoch.
    on_train_begin : callable ``()``, optional
        Called once when training starts.
    on_train_end : callable ``(logs)``, optional
        Called once when training ends.

    Examples
    --------
    >>> import chainrule as cr
    >>> seen = []
    >>> net = cr.Network([2, 1], seed=0)
    >>> callback = cr.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> _ = net.fit([[0, 1], [1, 0]], [0, 1], epochs=3, callbacks=[callback])
    >>> seen
    [0, 1, 2]
    """

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
        for name, hook in self._hooks.items():
            if hook is not None and not callable(hook):
                raise TypeError(f"LambdaCallback's {name} must be a function, got {hook!r}")

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


#: Log keys where higher is better, for ``mode="auto"`` (matched as prefixes after ``val_``).
HIGHER_IS_BETTER = ("accuracy", "acc", "r2", "auc", "precision", "recall", "f1", "score")


class Monitor:
    """Tracks the best value of a logged quantity, in the direction ``mode`` says is better.

    Parameters
    ----------
    monitor : str, optional
        The log key; default ``val_loss`` when there is validation data, else ``loss``.
    min_delta : float
        The least change that counts as an improvement.
    mode : {"auto", "min", "max"}
        ``"min"``: lower is better (losses, errors); ``"max"``: higher is better; ``"auto"``
        decides from the key: accuracy, R^2, AUC, precision, recall, F1 and scores are
        maximised, everything else minimised (as Keras does).
    """

    def __init__(self, monitor: str | None, min_delta: float, mode: str = "auto") -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if monitor is not None and not isinstance(monitor, str):
            raise TypeError(f"monitor must be a log key such as 'val_loss', got {monitor!r}")
        self.requested = monitor
        self.min_delta = abs(check_float("min_delta", min_delta))  # its sign is ignored, as in Keras
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        """Forget the best value (at the start of a run)."""
        self.best: float | None = None

    def key(self, logs: Logs) -> str:
        """The key watched in ``logs``."""
        key = self.requested or ("val_loss" if "val_loss" in logs else "loss")
        if key not in logs:
            raise KeyError(f"cannot monitor {key!r}: this run logs only {sorted(logs)}")
        return key

    def maximizes(self, key: str) -> bool:
        """Whether higher values of ``key`` are better."""
        if self.mode != "auto":
            return self.mode == "max"
        return key.removeprefix("val_").startswith(HIGHER_IS_BETTER)

    def improved(self, logs: Logs) -> bool:
        """Whether this epoch's value beats the best by more than ``min_delta`` (and record it)."""
        key = self.key(logs)
        value = logs[key]
        sign = 1.0 if self.maximizes(key) else -1.0  # compare as "higher is better"
        if self.best is None or sign * (value - self.best) > self.min_delta:
            if math.isfinite(value):
                self.best = value
                return True
        return False


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the network ends with the weights of its best epoch
    whether training stopped early or ran all its epochs, as Keras 3 does (older ``tf.keras``
    releases restored them only on an early stop).

    Parameters
    ----------
    patience : int
        Epochs without improvement before training stops.
    min_delta : float
        The least change of the monitored value that counts as an improvement.
    monitor : str, optional
        The log key to watch; default ``val_loss`` when there is validation data, else ``loss``.
    restore_best_weights : bool
        End with the weights of the best epoch.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better; ``"auto"`` maximises accuracy-like keys
        (``val_accuracy``, ``r2``, ...) and minimises the rest (see `Monitor`).

    Attributes
    ----------
    stopped_epoch : int or None
        The epoch after which training stopped; None when it ran all its epochs.
    best_epoch : int or None
        The epoch with the best monitored value.

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    >>> stop = cr.EarlyStopping(patience=3, monitor="loss", min_delta=1e-3)
    >>> history = net.fit(X, y, optimizer=cr.SGD(lr=0.01), epochs=1000, callbacks=[stop])
    >>> stop.best_epoch, stop.stopped_epoch, history.epochs
    (0, 3, 4)
    """

    def __init__(
        self,
        patience: int = 10,
        min_delta: float = 0.0,
        monitor: str | None = None,
        restore_best_weights: bool = False,
        mode: str = "auto",
    ) -> None:
        self.patience = check_int("patience", patience, 0)
        self.monitor = Monitor(monitor, min_delta, mode)
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        self._best_weights: list[dict[str, Any]] | None = None

    def on_train_begin(self) -> None:
        self.monitor.reset()
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


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    Parameters
    ----------
    factor : float
        In (0, 1): the learning rate is multiplied by it.
    patience : int
        Epochs without improvement before the rate drops.
    min_lr : float
        The rate never drops below this.
    min_delta : float
        The least change that counts as an improvement.
    monitor : str, optional
        The log key to watch; default ``val_loss`` when there is validation data, else ``loss``.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better (see `Monitor`).

    Examples
    --------
    The rate halves after every 2 epochs without an improvement of 0.001:

    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    >>> plateau = cr.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=1e-3, monitor="loss")
    >>> history = net.fit(X, y, optimizer=cr.SGD(lr=0.5), epochs=40, callbacks=[plateau])
    >>> history["lr"][0], history["lr"][-1] < 0.001
    (0.5, True)
    """

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 10,
        min_lr: float = 0.0,
        min_delta: float = 1e-4,
        monitor: str | None = None,
        mode: str = "auto",
    ) -> None:
        self.factor = check_float("factor", factor, 0.0, 1.0, low_open=True, high_open=True)
        self.patience = check_int("patience", patience, 0)
        self.min_lr = check_float("min_lr", min_lr, 0.0)
        self.monitor = Monitor(monitor, min_delta, mode)

    def on_train_begin(self) -> None:
        if self.optimizer.schedule is not None:
            raise ValueError("ReduceLROnPlateau needs an optimizer with a fixed lr, not a schedule")
        self.monitor.reset()
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
    """Print one line of the epoch's numbers every ``every`` epochs (and the last one).

    Parameters
    ----------
    epochs : int
        The run's epoch count, for ``epoch 5/100``.
    every : int, optional
        Default: about 20 lines over the run.
    stream : text stream, optional
        Default standard error.

    Examples
    --------
    >>> import sys
    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    >>> logger = cr.ProgressLogger(4, every=2, stream=sys.stdout)
    >>> _ = net.fit(X, y, optimizer=cr.SGD(lr=0.5), epochs=4, callbacks=[logger])
    epoch 2/4  loss 0.709008  accuracy 0.5  lr 0.5  (...s)
    epoch 4/4  loss 0.69922  accuracy 0.5  lr 0.5  (...s)
    """

    def __init__(self, epochs: int, every: int | None = None, stream: TextIO | None = None) -> None:
        self.epochs = check_int("epochs", epochs, 0)
        self.every = max(1, self.epochs // 20) if every is None else check_int("every", every, 1)
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


class ProgressBar(Callback):
    """A ``tqdm.auto`` progress bar over the epochs (a widget in Jupyter), showing the loss.

    Used by ``fit(verbose=1)`` when tqdm is installed; `progress_callback` falls back to
    `ProgressLogger` lines otherwise.
    """

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.bar: Any = None

    def on_train_begin(self) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.epochs, unit="epoch", leave=True)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k in ("loss", "val_loss")})

    def on_train_end(self, logs: Logs) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_callback(epochs: int, verbose: int) -> Callback:
    """What ``verbose`` asks for: 1 a bar (plain lines without tqdm), 2 a line every epoch."""
    if verbose == 1:
        try:
            import tqdm.auto  # noqa: F401
        except ImportError:
            return ProgressLogger(epochs)
        return ProgressBar(epochs)
    return ProgressLogger(epochs, every=1)
