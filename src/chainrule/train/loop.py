"""The epoch loop: batches through `train_step`, per-epoch logs, validation, callbacks.

Everything here is bookkeeping around `chainrule.train.step.train_step`: batches drawn
without copying the data set, per-epoch logs, validation, callbacks, and the guarantee that a
diverging or interrupted run keeps usable weights. It needs only what a network does (the
`Trainable` protocol), not the `Network` class.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from chainrule.errors import DivergenceError, InputError
from chainrule.nn import kernels
from chainrule.nn.activations import overflow_ignored
from chainrule.nn.inputs import check_lengths
from chainrule.nn.layers import Dropout, Layer
from chainrule.nn.losses import Loss
from chainrule.nn.metrics import default_metrics, get_metric
from chainrule.nn.output import OutputBlock
from chainrule.train import whole_loop
from chainrule.train.batches import Batch, batches, sample_weights, split_indices
from chainrule.train.callbacks import Callback, LambdaCallback, progress_callback
from chainrule.train.diagnostics import LastGoodWeights, divergence_message, warn_if_stuck
from chainrule.train.history import History, TrainingRun
from chainrule.train.optimizers import Optimizer, get_optimizer
from chainrule.train.schedules import Schedule
from chainrule.train.step import Steppable, train_step

Array = np.ndarray
MakeBatches = Callable[[np.random.Generator | None], Iterable[Batch]]


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

    Raises
    ------
    DivergenceError
        When the loss becomes NaN or infinite. The network keeps the weights from the start
        of the last epoch whose loss was finite; the error carries the history so far.

    Notes
    -----
    Ctrl-C (KeyboardInterrupt) does not lose the run: `fit` returns the network as of the
    last completed epoch, with ``history.interrupted`` set.
    """
    loss_fn = net.resolve_loss(loss)
    streamed = y is None and callable(X)
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size}")
    if epochs < 0:
        raise ValueError(f"epochs must be non-negative, got {epochs}")
    opt = get_optimizer(optimizer, lr)
    if run is None:
        source = net.rng if seed is None else np.random.default_rng(seed)
        run = TrainingRun(int(source.integers(2**63)))
    if streamed:
        if validation_split or sample_weight is not None:
            raise ValueError(
                "validation_split and sample_weight need arrays; with a batch function pass validation_data"
            )
        make_batches: MakeBatches = lambda rng: _checked_batches(net, X())  # noqa: E731
        shuffles = False
    else:
        X, y = net.as_inputs(X), net.as_targets(y)
        check_lengths(X, y)
        loss_fn.check_targets(y)
        weights = None if sample_weight is None else sample_weights(sample_weight, X.shape[0])
        if validation_split:
            if validation_data is not None:
                raise ValueError("pass validation_data or validation_split, not both")
            train, held_out = split_indices(y, validation_split, loss_fn.classification, run.split_rng())
            validation_data = (X[held_out], y[held_out])
            X, y = X[train], y[train]
            weights = None if weights is None else weights[train]
        shuffles = shuffle and batch_size is not None and batch_size < X.shape[0]
        make_batches = lambda rng: batches(X, y, batch_size, rng, weights)  # noqa: E731
    if validation_data is not None:
        X_val, y_val = net.as_inputs(validation_data[0]), net.as_targets(validation_data[1])
        check_lengths(X_val, y_val)
        validation_data = (X_val, y_val)
    metric_names = list(metrics) if metrics is not None else default_metrics(loss_fn)
    callback_list = [c if isinstance(c, Callback) else LambdaCallback(on_epoch_end=c) for c in callbacks]
    if verbose:
        callback_list.append(progress_callback(epochs, verbose))
    for callback in callback_list:
        callback.network, callback.optimizer, callback.run = net, opt, run
    net.loss = loss_fn
    run.history.backend = kernels.backend()
    block = OutputBlock(loss_fn, net.output_activation, None if streamed else y)  # y checked once here
    trainer = Trainer(net, loss_fn, opt, metric_names, callback_list, run, block)
    epoch_range = range(run.epochs_done, epochs)
    plain = not (streamed or callback_list or validation_data is not None or sample_weight is not None)
    if plain and whole_loop.covers(trainer, X, y, batch_size, epoch_range):  # compiled, all epochs in one go
        with overflow_ignored():
            whole_loop.train(trainer, X, y, batch_size, shuffles, epoch_range)
        return run.history
    trainer.train(make_batches, shuffles, validation_data, epoch_range)
    return run.history


def _checked_batches(net: Trainable, source: Iterable[tuple[Any, Any]]) -> Iterator[Batch]:
    for X_batch, y_batch in source:
        X_batch, y_batch = net.as_inputs(X_batch), net.as_targets(y_batch)
        check_lengths(X_batch, y_batch)
        yield X_batch, y_batch, None


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
        self.metric_names = metric_names
        self.metrics = [get_metric(name) for name in metric_names]
        self.callbacks = callbacks
        self.slots = net.slots()
        self.keeper = LastGoodWeights(self.slots)
        self.dropout = [layer for layer in net.layers if isinstance(layer, Dropout)]

    def train(
        self, make_batches: MakeBatches, shuffles: bool, validation: tuple[Array, Array] | None, epochs: range
    ) -> None:
        """Run ``epochs``; ``make_batches(rng)`` gives one epoch's batches (shuffled by ``rng``)."""
        net, history = self.net, self.run.history
        net.stop_training = False
        logs: dict[str, float] = {}
        for callback in self.callbacks:
            callback.on_train_begin()
        epoch = epochs.start
        # A full batch in data order without dropout draws nothing: skip making generators.
        draws = bool(self.dropout) or shuffles
        try:
            # A diverging run overflows on its way to a non-finite loss; the explicit check of
            # every batch loss reports that, so NumPy's own warnings would only be noise.
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
                    if net.stop_training:
                        break
        except KeyboardInterrupt:
            finished = history.epochs > epoch  # interrupted in on_epoch_end: the epoch is complete
            restored = f"the end of epoch {epoch}" if finished else self.keeper.restore(first_batch=False)
            history.interrupted = True
            warnings.warn(
                f"training interrupted in epoch {epoch}; the network keeps its weights from "
                f"{restored} and the history of the {history.epochs} completed epochs",
                RuntimeWarning,
                stacklevel=4,
            )
        for callback in self.callbacks:
            callback.on_train_end(logs)
        warn_if_stuck(net.layers)

    def epoch(self, epoch_batches: Iterable[Batch], epoch: int) -> dict[str, float]:
        """One pass over the data: `train_step` on every batch; the epoch's mean loss and metrics."""
        net, loss, optimizer = self.net, self.loss, self.optimizer
        optimizer.start_epoch(epoch)
        self.keeper.epoch_started(epoch)
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
                restored = self.keeper.restore(first_batch=batch_number == 0)
                message = divergence_message(epoch, value, optimizer, restored)
                raise DivergenceError(message, epoch=epoch, history=self.run.history)
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
        logs = {"loss": total if loss.reduction == "sum" else total / seen}
        logs.update({name: t / seen for name, t in zip(self.metric_names, metric_totals, strict=True)})
        return logs
