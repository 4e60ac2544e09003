"""Checkpoints: a model file plus the training state that resumes a run exactly.

`save_checkpoint` writes one, `ModelCheckpoint` does so during `fit`, and `read_checkpoint`
reads and checks one for ``fit(..., resume_from=path)``, which puts it in place only once the
call's settings have been compared with the checkpoint's. `chainrule.load` reads a checkpoint
as a plain model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainrule.errors import ModelFileError
from chainrule.io.model_file import read_model_file, save
from chainrule.nn.checks import check_bool, check_float, check_int
from chainrule.train.callbacks import Callback, Logs, Monitor
from chainrule.train.diagnostics import RollBack, Snapshot
from chainrule.train.history import History, TrainingRun
from chainrule.train.optimizers import Optimizer

if TYPE_CHECKING:
    from chainrule.network import Network


def save_checkpoint(
    path: str | os.PathLike[str], net: Network, optimizer: Optimizer, run: TrainingRun
) -> None:
    """Save the network with everything needed to resume its training exactly, and to check it.

    Besides the model, the file holds the optimizer's configuration and state (momentum,
    moment estimates, step count, current learning rate), the run's seed and history, and its
    settings (loss, batch size, sample counts, validation: `TrainingRun.settings`); pass it to
    ``fit(..., resume_from=path)``. `chainrule.load` reads it as a plain model.

    Parameters
    ----------
    path : str or path-like
        The file to write (atomically: a previous file is replaced only once this one is whole).
    net : Network
        The network, with its weights now.
    optimizer : Optimizer
        The optimizer training ``net``, with its state.
    run : TrainingRun
        The run's seed, history and settings.

    Examples
    --------
    `ModelCheckpoint` calls this during `fit`; by hand, the file also loads as a plain model:

    >>> import os, tempfile
    >>> import chainrule as cr
    >>> from chainrule.train.history import TrainingRun
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "run.npz")
    ...     cr.save_checkpoint(path, net, cr.SGD(lr=0.1), TrainingRun(run_seed=3))
    ...     print(cr.load(path))
    Network([Dense(2, 3, sigmoid), Dense(3, 1, sigmoid)], dtype=float64)
    """
    config = {
        "run_seed": run.run_seed,
        "history": run.history.history,
        "settings": run.settings,
        "optimizer": {
            "name": optimizer.name,
            "config": optimizer.config(),
            "iterations": optimizer.iterations,
            "lr": optimizer.lr,
        },
    }
    save(net, path, checkpoint=(config, optimizer.state_arrays()))


def read_checkpoint(
    path: str | os.PathLike[str], net: Network, optimizer: Optimizer
) -> tuple[TrainingRun, Snapshot]:
    """Read and check a checkpoint for ``net`` and ``optimizer``, changing neither.

    Returns
    -------
    run : TrainingRun
        The run's seed, history and settings (``fit`` compares them with its own).
    start : Snapshot
        The weights and optimizer state to continue from, put in place by ``fit`` once every
        setting has been checked.

    Raises
    ------
    ModelFileError
        If the file holds no training state, another network, dtype or optimizer, or a state
        that does not fit (a missing or unknown slot or key, a wrong shape, NaN or infinite
        values, an invalid step count, rate or history).
    """
    file = read_model_file(path)
    layers = file.layers()
    checkpoint = file.header.get("checkpoint")
    if not isinstance(checkpoint, dict):
        raise ModelFileError(
            f"{path} is a model without training state; resume from a file written by "
            "ModelCheckpoint (or chainrule.save_checkpoint)"
        )
    if [layer.config() for layer in layers] != [layer.config() for layer in net.layers]:
        saved = ", ".join(repr(layer) for layer in layers)
        raise ModelFileError(
            f"{path} holds a different network ([{saved}]) than the one being trained ({net!r})"
        )
    if file.dtype != net.dtype:
        raise ModelFileError(f"{path} holds {file.dtype.name} weights; the network is {net.dtype.name}")
    try:
        saved_optimizer = checkpoint["optimizer"]
        if saved_optimizer["name"] != optimizer.name:
            raise ModelFileError(
                f"{path} was trained with {saved_optimizer['name']}; resume it with the same optimizer"
            )
        iterations = check_int("iterations", saved_optimizer["iterations"], 0)
        lr = check_float("lr", saved_optimizer["lr"], 0.0)
        optimizer.check_state(file.state, iterations, net.slots())
        run_seed = check_int("run_seed", checkpoint["run_seed"], 0, 2**63 - 1)  # as `fit` draws it
        run = TrainingRun(run_seed, _history(checkpoint["history"]), checkpoint.get("settings"))
        if run.settings is not None and not isinstance(run.settings, dict):
            raise TypeError(f"settings must be a dict, got {run.settings!r}")
    except ModelFileError:
        raise
    except KeyError as exc:
        raise ModelFileError(
            f"{path}: its training state is incomplete: the field {exc} is missing"
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: its training state is incomplete or invalid ({exc})") from None
    params = {f"{i}.{key}": value for i, layer in enumerate(layers) for key, value in layer.params.items()}
    weights = [params[slot.name] for slot in net.slots()]
    return run, Snapshot(weights, file.state, iterations, lr, run.history.epochs)


def _history(saved: Any) -> History:
    """A history from its JSON form (non-finite numbers stored as ``"inf"``, ``"nan"``)."""
    if not isinstance(saved, dict):
        raise TypeError(f"history must be a dict of lists, got {type(saved).__name__}")
    history = History()
    for key, values in saved.items():
        if not isinstance(values, list) or not all(isinstance(v, int | float | str) for v in values):
            raise TypeError(f"history[{key!r}] must be a list of numbers, got {values!r}")
        try:
            history.history[str(key)] = [float(v) for v in values]
        except ValueError:
            raise ValueError(f"history[{key!r}] must hold numbers, got {values!r}") from None
    if len({len(values) for values in history.history.values()}) > 1:
        raise ValueError("the history's lists have different lengths")
    return history


class ModelCheckpoint(Callback):
    """Save the network to ``path`` every ``every`` epochs, or only when the monitored value improves.

    The file is a checkpoint: a model `chainrule.load` reads, plus the optimizer state, seed
    and history that ``fit(..., resume_from=path)`` needs to continue the run exactly.
    Saving is atomic, so an interrupted run never leaves a broken checkpoint.

    Parameters
    ----------
    path : str or path-like
        The file; it may contain ``{epoch}`` to keep one file per epoch.
    save_best_only : bool
        Save only when the monitored value improves.
    monitor : str, optional
        The log key to watch; default ``val_loss`` when there is validation data, else ``loss``.
    every : int
        Save every ``every`` epochs (when not ``save_best_only``).
    mode : {"auto", "min", "max"}
        Whether lower or higher is better (see `chainrule.train.callbacks.Monitor`).

    Examples
    --------
    Five epochs with a checkpoint, then resumed to ten: the same loss, bit for bit, as ten
    epochs never interrupted.

    >>> import os, tempfile
    >>> import chainrule as cr
    >>> X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "run.npz")
    ...     net = cr.Network([2, 3, 1], seed=0)
    ...     _ = net.fit(X, y, optimizer=cr.Adam(lr=0.05), epochs=5, callbacks=[cr.ModelCheckpoint(path)])
    ...     resumed = net.fit(X, y, optimizer=cr.Adam(lr=0.05), epochs=10, resume_from=path)
    >>> whole = cr.Network([2, 3, 1], seed=0).fit(X, y, optimizer=cr.Adam(lr=0.05), epochs=10)
    >>> resumed.epochs, resumed.loss[-1] == whole.loss[-1]
    (10, True)

    ``{epoch}`` in the path (counted from 0) keeps one file per save:

    >>> with tempfile.TemporaryDirectory() as folder:
    ...     every_other = cr.ModelCheckpoint(os.path.join(folder, "epoch{epoch}.npz"), every=2)
    ...     _ = cr.Network([2, 3, 1], seed=0).fit(X, y, epochs=4, callbacks=[every_other])
    ...     sorted(os.listdir(folder))
    ['epoch1.npz', 'epoch3.npz']
    """

    def __init__(
        self,
        path: str | Path,
        save_best_only: bool = False,
        monitor: str | None = None,
        every: int = 1,
        mode: str = "auto",
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path must be a str or path-like, got {path!r}")
        self.path = str(path)
        try:  # a bad template fails here, not at the first save
            self.path.format(epoch=0)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"path {self.path!r} may name only the field {{epoch}} (it has {exc!s}): write a "
                "literal brace as {{ or }}"
            ) from None
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.monitor = Monitor(monitor, 0.0, mode)
        self.every = check_int("every", every, 1)

    def on_train_begin(self) -> None:
        self.monitor.reset()

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.save_best_only:
            if not self.monitor.improved(logs):
                return
        elif (epoch + 1) % self.every:
            return
        kept = dict(self.network.metadata)  # the file records the epoch and logs; the network not
        self.network.metadata.update({"epoch": epoch, "logs": logs})
        try:
            save_checkpoint(self.path.format(epoch=epoch), self.network, self.optimizer, self.run)
        finally:
            self.network.metadata.clear()
            self.network.metadata.update(kept)


def restore_checkpoint(path: str | os.PathLike[str], net: Network, optimizer: Optimizer) -> TrainingRun:
    """Put a checkpoint's weights into ``net`` and its state into ``optimizer``; return the run.

    `read_checkpoint` checks everything first, so a bad file changes nothing. ``fit(...,
    resume_from=path)`` does this itself, after comparing the run's settings with its own.

    Parameters
    ----------
    path : str or path-like
    net : Network
        A network of the same layers and dtype as the checkpoint's.
    optimizer : Optimizer
        An optimizer of the checkpoint's kind.

    Returns
    -------
    TrainingRun
        The run's seed, history and settings.
    """
    run, start = read_checkpoint(path, net, optimizer)
    RollBack(net.slots(), optimizer, run.history, start).restore()
    return run
