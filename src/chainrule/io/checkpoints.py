"""Checkpoints: a model file plus the training state that resumes a run exactly.

`save_checkpoint` writes one, `ModelCheckpoint` does so during `fit`, and
`restore_checkpoint` puts one back into a network and an optimizer for
``fit(..., resume_from=path)``. `chainrule.load` reads a checkpoint as a plain model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from chainrule.errors import ModelFileError
from chainrule.io.model_file import read_model_file, save
from chainrule.train.callbacks import Callback, Logs, Monitor
from chainrule.train.history import History, TrainingRun
from chainrule.train.optimizers import Optimizer

if TYPE_CHECKING:
    from chainrule.network import Network


def save_checkpoint(
    path: str | os.PathLike[str], net: Network, optimizer: Optimizer, run: TrainingRun
) -> None:
    """Save the network with everything needed to resume its training exactly.

    Besides the model, the file holds the optimizer's state (momentum, moment estimates,
    step count, current learning rate), the run's seed and its history; pass it to
    ``fit(..., resume_from=path)``. `chainrule.load` reads it as a plain model.

    Parameters
    ----------
    path : str or path-like
    net : Network
    optimizer : Optimizer
        The optimizer training ``net``, with its state.
    run : TrainingRun
        The run's seed and history.
    """
    config = {
        "run_seed": run.run_seed,
        "history": run.history.history,
        "optimizer": {"name": optimizer.name, "iterations": optimizer.iterations, "lr": optimizer.lr},
    }
    save(net, path, checkpoint=(config, optimizer.state_arrays()))


def restore_checkpoint(path: str | os.PathLike[str], net: Network, optimizer: Optimizer) -> TrainingRun:
    """Put a checkpoint's weights into ``net`` and its state into ``optimizer``; return the run.

    Raises
    ------
    ModelFileError
        If the file holds no training state, another network, dtype or optimizer, or an
        invalid state.
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
        name = checkpoint["optimizer"]["name"]
        if name != optimizer.name:
            raise ModelFileError(f"{path} was trained with {name}; resume it with the same optimizer")
        optimizer.load_state(file.state, checkpoint["optimizer"]["iterations"], checkpoint["optimizer"]["lr"])
        history = History()
        history.history = {key: [float(v) for v in values] for key, values in checkpoint["history"].items()}
        run = TrainingRun(int(checkpoint["run_seed"]), history)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: its training state is incomplete or invalid ({exc})") from None
    net.set_weights([layer.params for layer in layers])
    return run


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
    """

    def __init__(
        self,
        path: str | Path,
        save_best_only: bool = False,
        monitor: str | None = None,
        every: int = 1,
        mode: str = "auto",
    ) -> None:
        self.path = str(path)
        self.save_best_only = save_best_only
        self.monitor = Monitor(monitor, 0.0, mode)
        self.every = int(every)

    def on_train_begin(self) -> None:
        self.monitor.reset()

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.save_best_only:
            if not self.monitor.improved(logs):
                return
        elif (epoch + 1) % self.every:
            return
        self.network.metadata.update({"epoch": epoch, "logs": logs})
        save_checkpoint(self.path.format(epoch=epoch), self.network, self.optimizer, self.run)
