"""The training loop: batches, one step (forward, loss, backward, update), epochs, history.

One step, top to bottom: `Network.forward` -> the loss -> `Network.backward` -> the
optimizer's in-place `step`. Everything else here is bookkeeping around it: batches drawn
without copying the data set, per-epoch logs, validation, callbacks, and the guarantee that
a diverging or interrupted run keeps usable weights.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from chainrule.activations import overflow_ignored
from chainrule.callbacks import Callback, LambdaCallback, ProgressLogger
from chainrule.errors import DivergenceError, InputError, TrainingWarning
from chainrule.input_checks import check_lengths
from chainrule.layers import Dense, Dropout
from chainrule.losses import Loss
from chainrule.metrics import get_metric
from chainrule.network import Network, default_metrics
from chainrule.optimizers import Optimizer, Slot, get_optimizer
from chainrule.schedules import Schedule

Array = np.ndarray


class History:
    """Per-epoch numbers of a training run: ``history["loss"]``, ``history["val_loss"]``, ...

    ``interrupted`` is True when the run was stopped by Ctrl-C (KeyboardInterrupt).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.interrupted = False

    def append(self, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={self.epochs}, last={last})"


class TrainingRun:
    """What identifies a run and how far it got: enough to checkpoint and resume it exactly.

    Shuffling, the validation split and dropout draw from generators derived from
    ``(run_seed, epoch)``, not from one stream, so a run resumed from a checkpoint at any
    epoch makes the same draws as one that never stopped.
    """

    def __init__(self, run_seed: int, history: History | None = None) -> None:
        self.run_seed = int(run_seed)
        self.history = history if history is not None else History()

    @property
    def epochs_done(self) -> int:
        return self.history.epochs

    def epoch_rng(self, epoch: int) -> np.random.Generator:
        """The generator for one epoch's shuffling and dropout masks."""
        return np.random.default_rng([self.run_seed, 1, epoch])

    def split_rng(self) -> np.random.Generator:
        """The generator for the validation split."""
        return np.random.default_rng([self.run_seed, 0])


def fit(
    net: Network,
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
    resume_from: str | os.PathLike[str] | None = None,
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
        0 prints nothing; 1 prints about 20 progress lines; 2 prints every epoch.
    seed : int, optional
        Seed of the run's shuffling, split and dropout; default drawn from the network's own
        generator, so ``Network(..., seed=s)`` alone makes the whole run reproducible.
    resume_from : path, optional
        A checkpoint written by `ModelCheckpoint` (or `chainrule.save_checkpoint`): restores the
        weights, the optimizer's state and the run's seed and history, and trains the
        remaining epochs. With the same data and settings, the result is bit-identical to a
        run that was never interrupted. Callbacks start afresh: the patience counters of
        `EarlyStopping` and `ReduceLROnPlateau` are not part of a checkpoint.
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
    loss_fn = net._resolve_loss(loss)
    streamed = y is None and callable(X)
    if streamed:
        if validation_split:
            raise ValueError("validation_split needs arrays; pass validation_data with a batch function")
    else:
        X, y = net._inputs(X), net._targets(y)
        check_lengths(X, y)
        check_targets(y, loss_fn)
    weights = (
        None if sample_weight is None else _sample_weights(sample_weight, X.shape[0] if not streamed else -1)
    )
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size}")
    if epochs < 0:
        raise ValueError(f"epochs must be non-negative, got {epochs}")
    opt = get_optimizer(optimizer, lr)
    if resume_from is not None:
        from chainrule.serialization import restore_checkpoint

        run = restore_checkpoint(resume_from, net, opt)
    else:
        source = net.rng if seed is None else np.random.default_rng(seed)
        run = TrainingRun(int(source.integers(2**63)))
    if validation_split:
        if validation_data is not None:
            raise ValueError("pass validation_data or validation_split, not both")
        train, held_out = split_indices(y, validation_split, loss_fn.classification, run.split_rng())
        validation_data = (X[held_out], y[held_out])
        X, y = X[train], y[train]
        weights = None if weights is None else weights[train]
    if validation_data is not None:
        X_val, y_val = net._inputs(validation_data[0]), net._targets(validation_data[1])
        check_lengths(X_val, y_val)
        validation_data = (X_val, y_val)

    metric_names = list(metrics) if metrics is not None else default_metrics(loss_fn)
    callback_list = [c if isinstance(c, Callback) else LambdaCallback(on_epoch_end=c) for c in callbacks]
    if verbose:
        callback_list.append(ProgressLogger(epochs, every=1 if verbose > 1 else None))
    for callback in callback_list:
        callback.network, callback.optimizer, callback.run = net, opt, run
    net.loss = loss_fn
    trainer = _Trainer(net, loss_fn, opt, metric_names, callback_list, run)
    if streamed:
        trainer.train(
            lambda rng: _checked_batches(net, X()), False, validation_data, range(run.epochs_done, epochs)
        )
    else:
        shuffles = shuffle and batch_size is not None and batch_size < X.shape[0]
        trainer.train(
            lambda rng: batches(X, y, batch_size, rng, weights),
            shuffles,
            validation_data,
            range(run.epochs_done, epochs),
        )
    return run.history


def _checked_batches(net: Network, source: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Array, Array]]:
    for X_batch, y_batch in source:
        X_batch, y_batch = net._inputs(X_batch), net._targets(y_batch)
        check_lengths(X_batch, y_batch)
        yield X_batch, y_batch, None


def _sample_weights(values: Any, n: int) -> Array:
    if n < 0:
        raise ValueError("sample_weight needs arrays, not a batch function")
    weights = np.asarray(values, dtype=np.float64).ravel()
    if weights.shape != (n,):
        raise InputError(
            f"sample_weight has {weights.size} values for {n} samples: give one weight per sample"
        )
    if not np.isfinite(weights).all() or weights.min() < 0 or weights.sum() <= 0:
        raise InputError("sample_weight must be finite, non-negative, and not all zero")
    return weights


class _Trainer:
    """One `fit` call: the epoch loop with its logs, callbacks and safety nets."""

    def __init__(
        self,
        net: Network,
        loss: Loss,
        optimizer: Optimizer,
        metric_names: list[str],
        callbacks: list[Callback],
        run: TrainingRun,
    ) -> None:
        self.net, self.loss, self.optimizer, self.run = net, loss, optimizer, run
        self.metric_names = metric_names
        self.metrics = [get_metric(name) for name in metric_names]
        self.callbacks = callbacks
        self.slots = net.slots()
        self.keeper = _LastGoodWeights(self.slots)
        self.dropout = [layer for layer in net.layers if isinstance(layer, Dropout)]

    def train(
        self,
        make_batches: Callable[[np.random.Generator | None], Iterable[tuple[Array, Array]]],
        shuffles: bool,
        validation: tuple[Array, Array] | None,
        epochs: range,
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
                stacklevel=3,
            )
        for callback in self.callbacks:
            callback.on_train_end(logs)
        warn_if_stuck(net)

    def epoch(self, epoch_batches: Iterable[tuple[Array, Array]], epoch: int) -> dict[str, float]:
        """One pass over the data: per batch, forward -> loss -> backward -> update."""
        net, loss, optimizer, slots = self.net, self.loss, self.optimizer, self.slots
        optimizer.start_epoch(epoch)
        scale = optimizer.folded_scale()
        self.keeper.epoch_started(epoch)
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)
        total, seen = 0.0, 0
        metric_totals = [0.0] * len(self.metrics)
        for batch_number, (X_batch, y_batch, w_batch) in enumerate(epoch_batches):
            out = net.forward(X_batch, training=True)
            if w_batch is None:
                value = loss(y_batch, out)
            else:
                value, w_batch = loss.weighted(y_batch, out, w_batch), loss.row_weights(w_batch)
            if not math.isfinite(value):
                restored = self.keeper.restore(first_batch=batch_number == 0)
                message = _divergence_message(epoch, value, optimizer, restored)
                raise DivergenceError(message, epoch=epoch, history=self.run.history)
            rows = X_batch.shape[0]
            for i, metric in enumerate(self.metrics):
                metric_totals[i] += metric(y_batch, out) * rows
            if scale is None:
                net.backward(y_batch, loss, sample_weight=w_batch)
                optimizer.step(slots)
            else:  # plain SGD: the learning rate rides on the output delta (see folded_scale)
                net.backward(y_batch, loss, scale=scale, sample_weight=w_batch)
                optimizer.step(slots, prescaled=True)
            total += value if loss.reduction == "sum" else value * rows
            seen += rows
        if not seen:
            raise InputError(f"epoch {epoch} had no batches: the batch function returned nothing")
        logs = {"loss": total if loss.reduction == "sum" else total / seen}
        logs.update({name: t / seen for name, t in zip(self.metric_names, metric_totals, strict=True)})
        return logs


def batches(
    X: Array, y: Array, batch_size: int | None, rng: np.random.Generator | None, weights: Array | None = None
) -> Iterator[tuple[Array, Array, Array | None]]:
    """Yield ``(X_batch, y_batch, weights_batch)`` covering the data once.

    Full batch yields ``X`` and ``y`` themselves. Mini-batches are views in order, or, when
    shuffling, rows gathered into two reused buffers: the data set is never copied whole.
    """
    n = X.shape[0]
    if batch_size is None or batch_size >= n:  # one batch: row order cannot matter
        yield X, y, weights
        return
    if rng is None:
        for start in range(0, n, batch_size):
            stop = start + batch_size
            yield X[start:stop], y[start:stop], None if weights is None else weights[start:stop]
        return
    order = rng.permutation(n)
    X_buffer = np.empty((batch_size, X.shape[1]), dtype=X.dtype)
    y_buffer = np.empty((batch_size, y.shape[1]), dtype=y.dtype)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        rows = index.size
        yield (
            np.take(X, index, axis=0, out=X_buffer[:rows]),
            np.take(y, index, axis=0, out=y_buffer[:rows]),
            None if weights is None else weights[index],
        )


def split_indices(y: Array, fraction: float, stratify: bool, rng: np.random.Generator) -> tuple[Array, Array]:
    """Shuffled train and validation row indices; per class when ``stratify``."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be between 0 and 1, got {fraction}")
    n = y.shape[0]
    if stratify:
        labels = y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] > 0.5).astype(int)
        groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    else:
        groups = [np.arange(n)]
    groups = [rng.permutation(group) for group in groups]
    counts = [round(fraction * group.size) for group in groups]
    if sum(counts) == 0 and n > 1:  # tiny data: hold out one sample of the largest group
        counts[int(np.argmax([group.size for group in groups]))] = 1
    validation = np.sort(np.concatenate([group[:count] for group, count in zip(groups, counts, strict=True)]))
    if validation.size == 0 or validation.size == n:
        raise InputError(
            f"validation_split={fraction} of {n} samples leaves no validation or no training "
            "rows: use more data or another fraction"
        )
    train = np.setdiff1d(np.arange(n), validation)
    return rng.permutation(train), validation


def check_targets(y: Array, loss: Loss) -> None:
    """Raise if the targets cannot be learned with ``loss`` (range, encoding, one class)."""
    if loss.name == "binary_crossentropy" and (y.min() < 0 or y.max() > 1):
        raise InputError(
            "binary_crossentropy needs targets in [0, 1], got values from "
            f"{y.min():g} to {y.max():g}: use 0/1 labels, or a regression loss such as mse"
        )
    if loss.name == "categorical_crossentropy" and (y.min() < 0 or not np.allclose(y.sum(axis=1), 1.0)):
        raise InputError(
            "categorical_crossentropy needs one-hot (or probability) rows summing to 1: "
            "encode class labels with chainrule.one_hot(labels)"
        )
    if loss.classification:
        labels = y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0] > 0.5
        if np.unique(labels).size < 2:
            raise InputError(
                "the targets hold a single class: a classifier needs examples of at least two "
                "classes (check the labels, or how the data were filtered or split)"
            )


class _LastGoodWeights:
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
        self.current, self.previous = self.previous, self.current
        self.previous_epoch, self.current_epoch = self.current_epoch, epoch
        for saved, param in zip(self.current, self.params, strict=True):
            np.copyto(saved, param)

    def restore(self, first_batch: bool) -> str:
        use_previous = first_batch and self.previous_epoch >= 0
        saved = self.previous if use_previous else self.current
        for array, param in zip(saved, self.params, strict=True):
            np.copyto(param, array)
        return f"the start of epoch {self.previous_epoch if use_previous else self.current_epoch}"


def _divergence_message(epoch: int, value: float, opt: Optimizer, restored: str) -> str:
    return (
        f"the training loss became {value} in epoch {epoch}: training diverged. Likely causes: "
        f"a learning rate too large for this problem (lr={opt.lr:g}; try 10x smaller) or "
        "inputs on very different scales (standardise the features). The network keeps its "
        f"weights from {restored}."
    )


def warn_if_stuck(net: Network) -> None:
    """Warn when the last training batch found a layer saturated or all its ReLUs dead.

    A saturated sigmoid or tanh passes almost no gradient (``a * (1 - a)`` near 0), and a
    ReLU that is 0 for every sample passes none: training then stalls without an error.
    """
    for number, layer in enumerate(net.layers, start=1):
        if not isinstance(layer, Dense) or layer.output is None or layer is net.layers[-1]:
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
