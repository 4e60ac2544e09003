"""The epoch loop: batches through `train_step`, per-epoch logs, validation, callbacks.

Everything here is bookkeeping around `chainrule.train.step.train_step`: batches drawn
without copying the data set, per-epoch logs, validation, callbacks, and the guarantee that a
diverging or interrupted run keeps usable weights. It needs only what a network does (the
`Trainable` protocol), not the `Network` class.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from chainrule.errors import DivergenceError, InputError
from chainrule.nn import kernels
from chainrule.nn.activations import overflow_ignored
from chainrule.nn.checks import check_float
from chainrule.nn.layers import Dropout, Layer
from chainrule.nn.losses import Loss
from chainrule.nn.metrics import default_metrics, get_metric
from chainrule.nn.output import OutputBlock
from chainrule.train.batches import Batch, MakeBatches, prepare_data
from chainrule.train.callbacks import Callback, LambdaCallback, progress_callback
from chainrule.train.chunk import Chunk, chunk_for
from chainrule.train.diagnostics import (
    RollBack,
    Snapshot,
    caller_stacklevel,
    divergence_message,
    warn_if_stuck,
)
from chainrule.train.history import History, TrainingRun, check_resume, run_settings
from chainrule.train.optimizers import Optimizer
from chainrule.train.settings import FitSettings
from chainrule.train.step import Steppable, train_step
from chainrule.train.stream import is_streamed, stream_data

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


def prepare(
    net: Trainable,
    X: Any,
    y: Any,
    settings: FitSettings,
    *,
    run: TrainingRun | None = None,
    resume: Snapshot | None = None,
    resume_source: str = "the checkpoint",
) -> PreparedRun:
    """Check the data and every setting, changing nothing; return the run, ready to train.

    Parameters
    ----------
    net : Network
    X : array-like of shape (n_samples, n_inputs), or a callable returning batches
        Also a memory-mapped ``.npy`` (``np.load(path, mmap_mode="r")``): batches are
        gathered from it without loading it whole. For data that does not fit at all, pass
        a function that returns a fresh iterable of ``(X_batch, y_batch)`` pairs for each
        epoch (reading them from disk, say), with ``y=None``; each batch is checked as
        arrays are.
    y : array-like of shape (n_samples, n_outputs), or None with a batch function
        Targets; class labels one-hot encoded for several outputs.
    settings : FitSettings
        The call's options (`chainrule.train.settings.FitSettings`), checked when made.
    run : TrainingRun, optional
        Continue this run (its seed and history), as `chainrule.fit`'s ``resume_from`` does
        with the run a checkpoint holds; ``settings.optimizer`` then carries the restored state.
    resume : Snapshot, optional
        The state (weights, optimizer state, rate) to continue ``run`` from: a checkpoint's,
        put into the network and optimizer only after every setting has been checked.
    resume_source : str
        The checkpoint's name, for messages.

    Returns
    -------
    PreparedRun
        Calling it runs the epochs and returns the `History`.

    Raises
    ------
    DivergenceError
        (From ``train()``.) When a batch loss or, at the end of an epoch, a weight becomes NaN
        or infinite. The network (and optimizer) go back to the start of the epoch (to the one
        before when the epoch's very first loss was not finite); the error's history matches
        those weights.
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
    s, opt = settings, settings.trainer
    loss_fn = net.resolve_loss(s.loss)
    _check_schedule(opt, range(0 if run is None else run.epochs_done, s.epochs))
    callback_list = _callbacks(s.callbacks)
    if run is None:
        source = net.rng if s.seed is None else np.random.default_rng(s.seed)
        run = TrainingRun(int(source.integers(2**63)))
    data = (stream_data if is_streamed(X) else prepare_data)(net, X, y, loss_fn, s, run)
    checked = run_settings(loss_fn, opt, s.batch_size, s.shuffle, s.validation_split, data, s.sample_weight)
    if resume is not None:
        saved = None if run.settings is None else {**run.settings, "seed": run.run_seed}
        run_seed = run.run_seed if s.seed is None else int(np.random.default_rng(s.seed).integers(2**63))
        check_resume(resume_source, saved, {**checked, "seed": run_seed}, s.resume_overrides)
        run.run_seed = run_seed
        if "lr" in s.resume_overrides:  # the caller's rate, not the checkpoint's
            resume.lr = opt.lr
    metric_names = list(s.metrics) if s.metrics is not None else default_metrics(loss_fn)
    for name in metric_names:
        get_metric(name)  # an unknown name fails here, not after the first epoch
    block = OutputBlock(loss_fn, net.output_activation, data.y)  # the targets inspected once, here
    trainer = Trainer(net, loss_fn, opt, metric_names, callback_list, run, block)
    backend = kernels.backend()  # chosen (Numba imported) before training: a failure here changes nothing

    def begin() -> None:  # the first changes, made inside the trainer's guard
        run.settings = checked
        if s.verbose:
            callback_list.append(progress_callback(s.epochs, s.verbose))
        for callback in callback_list:
            callback.network, callback.optimizer, callback.run = net, opt, run
        net.loss = loss_fn
        run.history.backend = backend

    chunk_data = (data.X, data.y, s.batch_size, s.sample_weight is not None)
    epochs = range(run.epochs_done, s.epochs)
    arguments = (data.make_batches, data.shuffles, data.validation, epochs, resume, chunk_data)
    return PreparedRun(trainer, arguments, begin)


class PreparedRun:
    """A checked run, ready to train: call it to run the epochs; `started` says whether it began."""

    def __init__(self, trainer: Trainer, arguments: tuple[Any, ...], begin: Callable[[], None]) -> None:
        self.trainer, self.arguments, self.begin = trainer, arguments, begin

    @property
    def started(self) -> bool:
        """Whether training began (its guard was entered): from then on the trainer rolls back."""
        return self.trainer.started

    def __call__(self) -> History:
        """Run the epochs (atomically per epoch) and return the run's `History`."""
        self.trainer.train(*self.arguments, begin=self.begin)
        return self.trainer.run.history


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
        self.started = False

    def train(
        self,
        make_batches: MakeBatches,
        shuffles: bool,
        validation: tuple[Array, Array] | None,
        epochs: range,
        start: Snapshot | None = None,
        chunk_data: tuple[Array | None, Array | None, int | None, bool] = (None, None, None, False),
        begin: Callable[[], None] | None = None,
    ) -> None:
        """Run ``epochs`` (from ``start``, a checkpoint's state, if given), atomically per epoch.

        ``make_batches(rng)`` gives one epoch's batches (shuffled by ``rng``). ``chunk_data``,
        ``(X, y, batch_size, weighted)``, lets a compiled backend run each epoch's batches in
        one call (`chainrule.train.chunk`). Ctrl-C anywhere in here leaves the state of the
        last completed epoch and sets ``history.interrupted``. ``begin()``, the run's first
        changes (callbacks told their network, the loss recorded), runs inside that guard.
        """
        self.chunk_data = chunk_data
        self.begin = begin
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
            self.started = True  # inside the try: from here on, an interrupt is the guard's
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
        net.stop_training = False
        if self.begin is not None:
            self.begin()
        if start is not None:  # a checkpoint's state: committed first, then put in place
            self.rollback.restore()
        chunk = chunk_for(
            self.net.layers, self.slots, self.optimizer, self.block, self.metric_names, self.chunk_data
        )
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
                if chunk is None:
                    logs = self.epoch(make_batches(rng if shuffles else None), epoch)
                else:
                    logs = self.epoch_in_chunk(chunk, rng if shuffles else None, epoch)
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
        if chunk is not None and len(epochs):
            chunk.keep_last_batch()

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
        self.begin_epoch(epoch)
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
        return self.end_epoch(epoch, total, seen, metric_totals)

    def epoch_in_chunk(self, chunk: Chunk, rng: np.random.Generator | None, epoch: int) -> dict[str, float]:
        """The same epoch as `epoch`, its batches run by the backend's compiled chunk."""
        self.begin_epoch(epoch)
        order = None if rng is None else rng.permutation(chunk.X.shape[0])  # as `batches` draws it
        seen, total, metric_totals, failed_batch, value = chunk.run(order)
        if failed_batch is not None:
            self.diverged(epoch, f"the training loss became {value}", first_batch=failed_batch == 0)
        return self.end_epoch(epoch, total, seen, metric_totals)

    def begin_epoch(self, epoch: int) -> None:
        """The epoch's learning rate (schedule, or checked as a callback left it), then callbacks."""
        self.optimizer.start_epoch(epoch)
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)

    def end_epoch(self, epoch: int, total: float, seen: int, metric_totals: list[float]) -> dict[str, float]:
        """Check the weights once (the epoch's last step is checked by no loss); the epoch's logs."""
        if not seen:
            raise InputError(f"epoch {epoch} had no batches: the batch function returned nothing")
        assert self.rollback is not None
        if not self.rollback.params_finite():
            self.diverged(epoch, "the weights became NaN or infinite", first_batch=False)
        summed = self.loss.reduction == "sum"
        logs = {"loss": total if summed else total / seen}
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
