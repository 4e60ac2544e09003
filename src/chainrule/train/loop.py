"""The epoch loop: batches through `train_step`, per-epoch logs, validation, callbacks.

Everything here is bookkeeping around `chainrule.train.step.train_step`: batches drawn
without copying the data set, per-epoch logs, validation, callbacks, and the guarantee that a
diverging or interrupted run keeps usable weights. It needs only what a network does (the
`Trainable` protocol), not the `Network` class.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from chainrule.errors import DivergenceError, InputError
from chainrule.nn import kernels
from chainrule.nn.activations import overflow_ignored
from chainrule.nn.checks import check_bool, check_float, check_int
from chainrule.nn.layers import Dropout, Layer
from chainrule.nn.losses import Loss
from chainrule.nn.metrics import default_metrics, get_metric
from chainrule.nn.output import OutputBlock
from chainrule.train import whole_loop
from chainrule.train.batches import Batch, MakeBatches, TrainingData, prepare_data
from chainrule.train.callbacks import Callback, LambdaCallback, progress_callback
from chainrule.train.diagnostics import (
    RollBack,
    Snapshot,
    caller_stacklevel,
    divergence_message,
    warn_if_stuck,
)
from chainrule.train.history import History, TrainingRun, check_resume, run_settings
from chainrule.train.optimizers import Optimizer, get_optimizer
from chainrule.train.schedules import Schedule
from chainrule.train.step import Steppable, train_step

Array = np.ndarray


class Trainable(Steppable, Protocol):
    """What `fit` needs from a network, beyond a step (`chainrule.Network` is one)."""

    layers: list[Layer]
    rng: np.random.Generator
    loss: Loss | None
    stop_training: bool

    def as_inputs(self, X: Any) -> Array: ...
    def as_targets(self, y: Any) -> Array: ...
    def resolve_loss(self, loss: str | Loss | None) -> Loss: ...
    def evaluate(self, X: Any, y: Any, loss: Loss, metrics: Sequence[str]) -> dict[str, float]: ...


def fit(
    net: Trainable,
    X: Any,
    y: Any,
    *,
    loss: str | Loss | None = None,
    optimizer: str | Optimizer = "sgd",
    lr: float | Schedule | None = None,
    epochs: int = 1,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    metrics: Sequence[str] | None = None,
    callbacks: Sequence[Callback | Any] = (),
    verbose: int = 0,
    seed: int | None = None,
    run: TrainingRun | None = None,
    sample_weight: Any = None,
    resume: Snapshot | None = None,
    resume_overrides: Collection[str] = (),
    resume_source: str = "the checkpoint",
) -> History:
    """Train ``net`` on ``(X, y)`` by backpropagation and return the per-epoch `History`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_inputs), or a callable returning batches
        Also a memory-mapped ``.npy`` (``np.load(path, mmap_mode="r")``): batches are
        gathered from it without loading it whole. For data that does not fit at all, pass
        a function that returns a fresh iterable of ``(X_batch, y_batch)`` pairs for each
        epoch (reading them from disk, say), with ``y=None``.
    y : array-like of shape (n_samples, n_outputs), or None with a batch function
        Targets; class labels one-hot encoded for several outputs.
    loss : str or Loss, optional
        Default: categorical cross-entropy for softmax outputs, binary for sigmoid, else mse.
    optimizer : str or Optimizer
        ``"sgd"``, ``"momentum"``, ``"adam"``, ``"rmsprop"`` or an instance (which keeps its
        state across calls, so calling ``fit`` again continues the same run).
    lr : float or Schedule, optional
        Learning rate for an optimizer given by name.
    epochs : int
        Passes over the data, counted from the start of the run (a resumed run with the same
        ``epochs`` ends where an uninterrupted one would).
    batch_size : int, optional
        ``None`` is full-batch gradient descent (seeds 000, 001, 002, 004); ``1`` is online.
    shuffle : bool
        Reshuffle the samples every epoch (mini-batch and online training only).
    validation_data : (X_val, y_val), optional
    validation_split : float
        Hold out this fraction of the samples, drawn at random (stratified by class for
        classification losses), as validation data.
    metrics : list of str, optional
        Default accuracy for classification losses, mse and mae for regression.
    callbacks : list of Callback or callables
        A plain callable is called as ``f(epoch, logs)`` after every epoch.
    verbose : int
        0 prints nothing; 1 shows a ``tqdm.auto`` progress bar (a widget in Jupyter; about 20
        plain lines when tqdm is not installed); 2 prints a line every epoch.
    seed : int, optional
        Seed of the run's shuffling, split and dropout; default drawn from the network's own
        generator, so ``Network(..., seed=s)`` alone makes the whole run reproducible.
    run : TrainingRun, optional
        Continue this run (its seed and history), as `chainrule.fit`'s ``resume_from`` does
        with the run a checkpoint holds; ``optimizer`` then carries the restored state.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weight of each sample's term in the loss, as in scikit-learn: a weight of
        2 counts a sample twice (means become weighted means within each batch).
    resume : Snapshot, optional
        The state (weights, optimizer state, rate) to continue ``run`` from: a checkpoint's,
        put into the network and optimizer only after every setting has been checked.
    resume_overrides : collection of str
        Settings that may differ from ``run.settings`` (see `check_resume`); any other
        difference raises `ModelFileError`. With ``"lr"`` the caller's learning rate is used;
        without it, the checkpoint's current rate (as a schedule or `ReduceLROnPlateau` left it).
    resume_source : str
        The checkpoint's name, for messages.

    Raises
    ------
    DivergenceError
        When a batch loss or, at the end of an epoch, a weight becomes NaN or infinite. The
        network (and optimizer) go back to the start of the epoch (to the one before when the
        epoch's very first loss was not finite); the error's history matches those weights.
    ValueError, TypeError
        For a setting out of range or of the wrong kind, before any weight changes.

    Notes
    -----
    Training is atomic per epoch. An epoch is complete once its batches, validation, history
    entry and every callback's ``on_epoch_end`` have run. Ctrl-C (KeyboardInterrupt) anywhere
    after the start of training returns the network, optimizer state and history as of the
    last completed epoch (or the start), with ``history.interrupted`` set; any other exception
    restores the same state and propagates. A Ctrl-C before training starts (argument checks)
    propagates and changes nothing. Callbacks' own state and files they wrote are not rolled
    back. Not thread-safe: one network (or optimizer) must not be trained from two threads.
    """
    loss_fn = net.resolve_loss(loss)
    epochs = check_int("epochs", epochs, 0)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    shuffle = check_bool("shuffle", shuffle)
    verbose = check_int("verbose", verbose, 0)
    validation_split = check_float("validation_split", validation_split, 0.0, 1.0, high_open=True)
    opt = get_optimizer(optimizer, lr)
    _check_schedule(opt, range(0 if run is None else run.epochs_done, epochs))
    callback_list = _callbacks(callbacks)
    if run is None:
        source = net.rng if seed is None else np.random.default_rng(check_int("seed", seed, 0))
        run = TrainingRun(int(source.integers(2**63)))
    data = prepare_data(
        net, X, y, loss_fn, batch_size, shuffle, validation_data, validation_split, run, sample_weight
    )
    settings = run_settings(loss_fn, opt, batch_size, shuffle, validation_split, data, sample_weight)
    if resume is not None:
        saved = None if run.settings is None else {**run.settings, "seed": run.run_seed}
        run_seed = run.run_seed if seed is None else int(np.random.default_rng(seed).integers(2**63))
        check_resume(resume_source, saved, {**settings, "seed": run_seed}, resume_overrides)
        run.run_seed = run_seed
        if "lr" in resume_overrides:  # the caller's rate, not the checkpoint's
            resume.lr = opt.lr
    run.settings = settings
    metric_names = list(metrics) if metrics is not None else default_metrics(loss_fn)
    if verbose:
        callback_list.append(progress_callback(epochs, verbose))
    for callback in callback_list:
        callback.network, callback.optimizer, callback.run = net, opt, run
    net.loss = loss_fn
    run.history.backend = kernels.backend()
    block = OutputBlock(loss_fn, net.output_activation, data.y)  # the targets inspected once, here
    trainer = Trainer(net, loss_fn, opt, metric_names, callback_list, run, block)
    epoch_range = range(run.epochs_done, epochs)
    if _plain(data, callback_list, sample_weight, resume) and whole_loop.covers(
        trainer, data.X, data.y, batch_size, epoch_range
    ):  # the Numba backend's compiled trainer: every epoch in a few calls
        with overflow_ignored():
            whole_loop.train(trainer, data.X, data.y, batch_size, data.shuffles, epoch_range)
        return run.history
    trainer.train(data.make_batches, data.shuffles, data.validation, epoch_range, resume)
    return run.history


def _plain(data: TrainingData, callbacks: list[Callback], sample_weight: Any, resume: Any) -> bool:
    """Arrays in memory and nothing to call back, validate, weight or resume: the whole loop may run."""
    return (
        data.X is not None
        and not callbacks
        and data.validation is None
        and sample_weight is None
        and resume is None
    )


def _check_schedule(opt: Optimizer, epochs: range) -> None:
    """Check every rate a schedule gives for ``epochs`` before any weight changes."""
    if opt.schedule is not None:
        for epoch in epochs:
            check_float(f"lr (the schedule's value at epoch {epoch})", opt.schedule(epoch), 0.0)


def _callbacks(callbacks: Sequence[Callback | Any]) -> list[Callback]:
    if isinstance(callbacks, Callback) or callable(callbacks) or isinstance(callbacks, str | bytes):
        raise TypeError("callbacks must be a list of callbacks, e.g. callbacks=[EarlyStopping()]")
    checked: list[Callback] = []
    for position, callback in enumerate(callbacks):
        if isinstance(callback, Callback):
            checked.append(callback)
        elif callable(callback):
            checked.append(LambdaCallback(on_epoch_end=callback))
        else:
            raise TypeError(
                f"callbacks[{position}] is {callback!r}: pass a Callback or a function f(epoch, logs)"
            )
    return checked


class Trainer:
    """One `fit` call: the epoch loop with its logs, callbacks and safety nets."""

    def __init__(
        self,
        net: Trainable,
        loss: Loss,
        optimizer: Optimizer,
        metric_names: list[str],
        callbacks: list[Callback],
        run: TrainingRun,
        block: OutputBlock | None = None,
    ) -> None:
        self.net, self.loss, self.optimizer, self.run = net, loss, optimizer, run
        self.block = block if block is not None else OutputBlock(loss, net.output_activation)
        self.slots = net.slots()
        self.metric_names = metric_names
        self.metrics = [get_metric(name) for name in metric_names]
        self.callbacks = callbacks
        self.dropout = [layer for layer in net.layers if isinstance(layer, Dropout)]
        self.rollback: RollBack | None = None
        self.logs: dict[str, float] = {}

    def train(
        self,
        make_batches: MakeBatches,
        shuffles: bool,
        validation: tuple[Array, Array] | None,
        epochs: range,
        start: Snapshot | None = None,
    ) -> None:
        """Run ``epochs`` (from ``start``, a checkpoint's state, if given), atomically per epoch.

        ``make_batches(rng)`` gives one epoch's batches (shuffled by ``rng``). Ctrl-C anywhere in
        here leaves the state of the last completed epoch and sets ``history.interrupted``.
        """
        self.net.stop_training = False
        interrupted = self.guarded(self.epochs, make_batches, shuffles, validation, epochs, start)
        interrupted = self.guarded(self.finish, interrupted) or interrupted
        if interrupted:
            history = self.run.history
            history.interrupted = True
            warnings.warn(
                f"training interrupted in epoch {history.epochs}; the network keeps its weights, "
                f"optimizer state and history from the end of the {history.epochs} completed epochs",
                RuntimeWarning,
                stacklevel=caller_stacklevel(),
            )

    def guarded(self, step: Callable[..., None], *args: Any) -> bool:
        """Run ``step``; on Ctrl-C roll back and return True, on another error roll back and raise."""
        try:
            step(*args)
        except KeyboardInterrupt:
            if self.rollback is not None:
                self.rollback.restore()
            return True
        except DivergenceError:  # already rolled back, to the state its message names
            raise
        except BaseException:
            if self.rollback is not None:
                self.rollback.restore()
            raise
        return False

    def epochs(
        self,
        make_batches: MakeBatches,
        shuffles: bool,
        validation: tuple[Array, Array] | None,
        epochs: range,
        start: Snapshot | None,
    ) -> None:
        """The epoch loop; each epoch ends by committing its state to the roll-back copy."""
        net, history = self.net, self.run.history
        self.rollback = RollBack(self.slots, self.optimizer, history, start)
        if start is not None:  # a checkpoint's state: committed first, then put in place
            self.rollback.restore()
        for callback in self.callbacks:
            callback.on_train_begin()
        # A full batch in data order without dropout draws nothing: skip making generators.
        draws = bool(self.dropout) or shuffles
        # A diverging run overflows on its way to a non-finite loss; the explicit checks of
        # every batch loss and of the weights after each epoch report that, so NumPy's own
        # warnings would only be noise.
        with overflow_ignored():
            for epoch in epochs:
                rng = self.run.epoch_rng(epoch) if draws else None
                for layer in self.dropout:
                    layer.rng = rng
                logs = self.epoch(make_batches(rng if shuffles else None), epoch)
                if validation is not None:
                    scores = net.evaluate(*validation, loss=self.loss, metrics=self.metric_names)
                    logs.update({f"val_{name}": value for name, value in scores.items()})
                logs["lr"] = self.optimizer.lr
                history.append(logs)
                for callback in self.callbacks:
                    callback.on_epoch_end(epoch, logs)
                self.rollback.commit()
                self.logs = logs
                if net.stop_training:
                    break

    def finish(self, interrupted: bool) -> None:
        """The callbacks' ``on_train_end``, then the stuck-layer warnings (after a full run)."""
        for callback in self.callbacks:
            callback.on_train_end(self.logs)
        if not interrupted:
            warn_if_stuck(self.net.layers)

    def epoch(self, epoch_batches: Iterable[Batch], epoch: int) -> dict[str, float]:
        """One pass over the data: `train_step` on every batch; the epoch's mean loss and metrics.

        Every batch loss is checked (a non-finite one means the previous step, or the epoch's
        starting weights, went bad), and the weights once at the end, which covers the last step.
        """
        net, loss, optimizer = self.net, self.loss, self.optimizer
        optimizer.start_epoch(epoch)
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)
        total, seen = 0.0, 0
        metric_totals = [0.0] * len(self.metrics)
        block = self.block
        from_block = [block.gives(name) for name in self.metric_names]  # counted by the loss's pass
        for batch_number, (X_batch, y_batch, w_batch) in enumerate(epoch_batches):
            value, out = train_step(
                net, X_batch, y_batch, loss, optimizer, w_batch, block=block, slots=self.slots
            )
            if not math.isfinite(value):  # NaN or infinite: train_step updated nothing
                self.diverged(epoch, f"the training loss became {value}", first_batch=batch_number == 0)
            rows = X_batch.shape[0]
            for i, metric in enumerate(self.metrics):
                if from_block[i] and w_batch is None:
                    metric_totals[i] += block.score(self.metric_names[i], out) * rows
                else:
                    metric_totals[i] += metric(y_batch, out) * rows
            total += value if loss.reduction == "sum" else value * rows
            seen += rows
        if not seen:
            raise InputError(f"epoch {epoch} had no batches: the batch function returned nothing")
        assert self.rollback is not None
        if not self.rollback.params_finite():  # the epoch's last step, unchecked by any loss
            self.diverged(epoch, "the weights became NaN or infinite", first_batch=False)
        logs = {"loss": total if loss.reduction == "sum" else total / seen}
        logs.update({name: t / seen for name, t in zip(self.metric_names, metric_totals, strict=True)})
        return logs

    def diverged(self, epoch: int, what: str, first_batch: bool) -> None:
        """Roll back to the last good state and raise `DivergenceError`.

        A non-finite loss on an epoch's first batch means the epoch's starting weights are bad
        already, so the state before the previous epoch is restored.
        """
        assert self.rollback is not None
        epochs = self.rollback.restore(previous=first_batch)
        message = divergence_message(epoch, what, self.optimizer, f"the start of epoch {epochs}")
        raise DivergenceError(message, epoch=epoch, history=self.run.history)
