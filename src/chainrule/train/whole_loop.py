"""The whole-loop trainer: every epoch of a small dense network in one compiled call.

With the Numba backend, `fit` hands a run to `chainrule.nn.kernels.numba_loop` when it can:
Dense layers only (no dropout) with built-in activations, SGD with or without momentum and no
weight decay, softmax + categorical or sigmoid + binary cross-entropy or a squared error,
metrics among accuracy, mse and mae, arrays in memory (full or mini-batch, shuffled or not), no
callbacks, validation, sample weights or progress display, and at most `MAX_WORK`
multiply-adds a step. It records the same History (loss, metrics, lr per epoch), draws the same
shuffles from the run's seed, and stops on a non-finite loss with the same `DivergenceError`
and the same weights kept. Anything else trains step by step; nothing else changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.errors import DivergenceError
from chainrule.nn import kernels
from chainrule.nn.layers import Dense
from chainrule.train.diagnostics import divergence_message, warn_if_stuck
from chainrule.train.optimizers import SGD

Array = np.ndarray
KINDS = {"softmax_cce": 0, "sigmoid_bce": 1, "squared": 2}
#: The largest step (multiply-adds of its products) the loop takes; bigger ones use BLAS per step.
MAX_WORK = 2**18
#: Fewer steps than this take the step path: setting the loop up costs more than it saves.
MIN_STEPS = 8
#: Shuffled orders are drawn for this many rows x epochs at a time (a compiled call each).
CHUNK = 2**20


def covers(trainer: Any, X: Array, y: Array, batch_size: int | None, epochs: range) -> bool:
    """Whether the whole loop can run ``epochs`` of ``trainer`` on ``(X, y)``."""
    net, opt, block = trainer.net, trainer.optimizer, trainer.block
    layers = net.layers
    if kernels.ops.whole_loop() is None or not all(isinstance(layer, Dense) for layer in layers):
        return False
    if any(kernels.activation_code(layer.activation) is None for layer in layers):
        return False
    if type(opt) is not SGD or opt.weight_decay or block.kind is None:
        return False
    metrics = set(trainer.metric_names)
    if not metrics <= {"accuracy", "mse", "mae"} or ("accuracy" in metrics and not block.inspected):
        return False
    if "mse" in metrics and block.kind != "squared":
        return False
    if type(X) is not np.ndarray or type(y) is not np.ndarray or X.dtype != layers[0].params["W"].dtype:
        return False
    rows = X.shape[0] if batch_size is None else min(batch_size, X.shape[0])
    if len(epochs) * -(-X.shape[0] // rows) < MIN_STEPS:
        return False
    return rows * sum(layer.n_in * layer.n_out for layer in layers) <= MAX_WORK


def train(trainer: Any, X: Array, y: Array, batch_size: int | None, shuffles: bool, epochs: range) -> None:
    """Run ``epochs`` of ``trainer`` (which `covers` accepted) in compiled chunks."""
    net, opt, run = trainer.net, trainer.optimizer, trainer.run
    layers, dtype = net.layers, X.dtype
    batch = X.shape[0] if batch_size is None else min(batch_size, X.shape[0])
    per_chunk = max(1, CHUNK // X.shape[0]) if shuffles else max(1, CHUNK // max(1, X.shape[0] * batch))
    parts = _arrays(trainer, X, y, batch, shuffles)
    started = np.zeros(1, dtype=np.int64)
    for first in range(epochs.start, epochs.stop, per_chunk):
        chunk = range(first, min(first + per_chunk, epochs.stop))
        rates = [opt.lr] * len(chunk)
        if opt.schedule is not None:
            for i, epoch in enumerate(chunk):
                opt.start_epoch(epoch)
                rates[i] = opt.lr
        lrs = np.array(rates, dtype=dtype)
        orders = (
            np.stack([run.epoch_rng(epoch).permutation(X.shape[0]) for epoch in chunk])
            if shuffles
            else np.zeros((0, 0), dtype=np.int64)
        )
        logs = np.zeros((len(chunk), 4))
        done, failed_batch, value = kernels.ops.whole_loop()(
            parts["net"],
            parts["work"],
            (lrs, *parts["opt"]),
            (X, y, orders, batch, *parts["batch"]),
            parts["out"],
            logs,
            (*parts["snaps"], started),
        )
        steps = done * -(-X.shape[0] // batch) + (0 if failed_batch < 0 else failed_batch)
        opt.iterations += steps
        _record(trainer, logs[:done], rates[:done])
        if failed_batch >= 0:
            epoch = chunk[done]
            use_previous = failed_batch == 0 and started[0] >= 2
            restored = _restore(parts, use_previous, epoch)
            kept = epoch - 1 if use_previous else epoch  # the history matches the weights kept
            for values in run.history.history.values():
                del values[kept:]
            message = divergence_message(epoch, f"the training loss became {value}", opt, restored)
            raise DivergenceError(message, epoch=epoch, history=run.history)
    _keep_last_batch(layers, parts, X, batch, shuffles)
    warn_if_stuck(layers)


def _arrays(trainer: Any, X: Array, y: Array, batch: int, shuffles: bool) -> dict[str, tuple]:
    """The tuples `numba_loop.train_epochs` takes, over the network's own arrays."""
    layers, opt, block = trainer.net.layers, trainer.optimizer, trainer.block
    dtype, empty = X.dtype, np.zeros(0, dtype=X.dtype)
    W = tuple(layer.params["W"] for layer in layers)
    b = tuple(layer.params.get("b", empty) for layer in layers)
    slots = trainer.slots
    states = [opt.state_for(slot) for slot in slots]
    velocity = {
        slot.name: state.get("velocity", slot.grad) for slot, state in zip(slots, states, strict=True)
    }
    vW = tuple(velocity[f"{i}.W"] for i in range(len(layers)))
    vb = tuple(velocity.get(f"{i}.b", empty) for i in range(len(layers)))
    widths = [layers[0].n_in, *(layer.n_out for layer in layers)]
    buffers = {key: tuple(np.zeros((batch, w), dtype) for w in widths[1:]) for key in "AZDG"}
    A = (np.zeros((batch, widths[0]), dtype), *buffers["A"])
    loss = block.loss
    half = block.kind == "squared" and loss.half
    return {
        "net": (
            W,
            b,
            np.array([layer.bias for layer in layers]),
            np.array([kernels.activation_code(layer.activation) for layer in layers], dtype=np.int64),
            np.array([getattr(layer.activation, "alpha", 0.0) for layer in layers], dtype=dtype),
        ),
        "work": (
            A,
            buffers["Z"],
            buffers["D"],
            buffers["G"],
            tuple(layer.grads["W"] for layer in layers),
            tuple(layer.grads.get("b", empty) for layer in layers),
        ),
        "opt": (dtype.type(opt.momentum), opt.nesterov, vW, vb),
        "batch": (
            np.zeros((batch, widths[0]), dtype) if shuffles else A[0],
            np.zeros((batch, widths[-1]), dtype),
        ),
        "out": (
            KINDS[block.kind],
            0.5 if half else 1.0,
            block.kind == "squared" and loss.reduction == "mean",
            block.argmax_rule,
            float(np.finfo(dtype).eps),
            loss.reduction == "sum",
            block.fused,
            "mae" in trainer.metric_names,
            block.kind == "squared" and "accuracy" in trainer.metric_names,
        ),
        "snaps": (
            tuple(w.copy() for w in W),
            tuple(v.copy() for v in b),
            tuple(w.copy() for w in W),
            tuple(v.copy() for v in b),
        ),
    }


def _record(trainer: Any, logs: Array, rates: list[float]) -> None:
    """Append each epoch's loss, metrics and learning rate to the run's History, column by column."""
    loss, stat, mae, hits = logs.T.tolist()
    values = {"mae": mae, "mse": stat, "accuracy": hits if trainer.block.kind == "squared" else stat}
    columns = {"loss": loss, **{name: values[name] for name in trainer.metric_names}, "lr": rates}
    for key, column in columns.items():
        trainer.run.history.history.setdefault(key, []).extend(column)


def _restore(parts: dict[str, tuple], use_previous: bool, epoch: int) -> str:
    """Put back the weights from the start of ``epoch`` (or the one before); say which."""
    W, b = parts["net"][:2]
    current_W, current_b, previous_W, previous_b = parts["snaps"]
    saved_W, saved_b = (previous_W, previous_b) if use_previous else (current_W, current_b)
    for param, saved in zip((*W, *b), (*saved_W, *saved_b), strict=True):
        np.copyto(param, saved)
    return f"the start of epoch {epoch - 1 if use_previous else epoch}"


def _keep_last_batch(
    layers: list[Dense], parts: dict[str, tuple], X: Array, batch: int, shuffles: bool
) -> None:
    """Leave each layer's input, z, output and delta of the last batch, as a step does."""
    A, Z, D = parts["work"][:3]
    rows = X.shape[0] - (-(-X.shape[0] // batch) - 1) * batch
    first = parts["batch"][0][:rows] if shuffles else X[X.shape[0] - rows :]
    for i, layer in enumerate(layers):
        layer.input = first if i == 0 else A[i][:rows]
        layer.z, layer.output, layer.delta = Z[i][:rows], A[i + 1][:rows], D[i][:rows]
