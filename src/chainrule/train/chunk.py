"""One epoch's batches in one compiled call, inside the one training loop.

With the Numba backend, `chainrule.train.loop.Trainer` hands each epoch's batches to
`chainrule.nn.kernels.numba_chunk.train_chunk` when the run allows it: Dense layers only (no
dropout) with built-in activations, SGD with or without momentum and no weight decay, softmax +
categorical or sigmoid + binary cross-entropy or a squared error, metrics among accuracy, mse
and mae, arrays in memory (full or mini-batch, shuffled or not) without sample weights, and at
most `MAX_WORK` multiply-adds a step. The chunk returns at the end of the epoch (or at the first
batch whose loss is not finite) with the sums the epoch's logs are made of; everything else
(the learning rate and schedules, the divergence checks and the roll-back, the history,
callbacks, validation and resume) stays in the loop, so it exists once. Whether a run takes the
chunk depends only on the network, the optimizer, the loss, the metrics and the data, never on
callbacks, ``verbose``, the number of epochs or a resume, so those never change the numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chainrule.nn import kernels
from chainrule.nn.layers import Dense
from chainrule.nn.output import OutputBlock
from chainrule.train.optimizers import SGD, Optimizer

if TYPE_CHECKING:
    from collections.abc import Callable

    from chainrule.train.optimizers import Slot

Array = np.ndarray
KINDS = {"softmax_cce": 0, "sigmoid_bce": 1, "squared": 2}
#: The largest step (multiply-adds of its products) a chunk takes; bigger ones use BLAS per step.
#: Measured (`benchmarks/chunk_threshold.py`: batch 32, ReLU/softmax, Numba): the chunk took 0.62x
#: the step path's time at 2^11.8, 1.05x at 2^13.5, 1.3x at 2^15.4 and 2.2x at 2^17.2.
MAX_WORK = 2**13
_IN_ORDER = np.zeros(0, dtype=np.int64)


class Chunk:
    """One run's compiled epoch: the kernel, the flat arrays it takes and the network's own arrays.

    Made by `chunk_for` after the run's starting state is in place (a resume replaces the
    optimizer's state arrays), and used for every epoch of that run. The kernel works on flat
    copies (`chainrule.nn.kernels.numba_chunk`): each `run` copies the weights, biases and
    velocities in, and the weights, biases, velocities and gradients back out.
    """

    def __init__(
        self,
        kernel: Callable[..., tuple[int, int, float]],
        layers: list[Dense],
        slots: list[Slot],
        optimizer: SGD,
        block: OutputBlock,
        metric_names: list[str],
        data: tuple[Array, Array, int],
    ) -> None:
        X, y, batch = data
        self.kernel, self.layers, self.optimizer, self.block = kernel, layers, optimizer, block
        self.X, self.batch, self.metric_names = X, batch, metric_names
        dtype = X.dtype
        by_name = {slot.name: slot for slot in slots}
        # (parameter, gradient, velocity or None, offset in the flat arrays), weights then biases
        self.places: list[tuple[Array, Array, Array | None, int]] = []
        layout, at, size = [], 0, 0
        for i, layer in enumerate(layers):
            row = [layer.n_in, layer.n_out, -1, -1, kernels.activation_code(layer.activation), at]
            for column, key in ((2, "W"), (3, "b")):
                slot = by_name.get(f"{i}.{key}")
                if slot is not None:
                    velocity = optimizer.state_for(slot).get("velocity") if optimizer.momentum else None
                    self.places.append((slot.param, slot.grad, velocity, size))
                    row[column], size = size, size + slot.param.size
            layout.append(row)
            at += batch * layer.n_out
        self.P, self.GP, self.V = (np.zeros(size, dtype) for _ in range(3))
        self.buffers = {key: np.zeros(at, dtype) for key in "AZDG"}
        self.net = (
            self.P,
            np.array(layout, dtype=np.int64),
            np.array([getattr(layer.activation, "alpha", 0.0) for layer in layers], dtype=dtype),
        )
        self.work = (self.GP, *(self.buffers[key] for key in "AZDG"))
        widths = [layers[0].n_in, *(layer.n_out for layer in layers)]
        self.gather = (np.zeros((batch, widths[0]), dtype), np.zeros((batch, widths[-1]), dtype))
        loss, width, last_rows = block.loss, widths[-1], X.shape[0] - (-(-X.shape[0] // batch) - 1) * batch
        self.out_spec = (
            KINDS[block.kind or ""],
            dtype.type(loss.delta_scale((batch, width))),
            dtype.type(loss.delta_scale((last_rows, width))),
            block.argmax_rule,
            float(np.finfo(dtype).eps),
            loss.reduction == "sum",
            block.fused,
            "mae" in metric_names,
            block.kind == "squared" and "accuracy" in metric_names,
        )
        self.y = y
        self.work_per_epoch = X.shape[0] * sum(layer.n_in * layer.n_out for layer in layers)
        self.sums = np.zeros((1, 4))
        self.order = _IN_ORDER

    def layer_block(self, key: str, layer: int, rows: int) -> Array:
        """Layer ``layer``'s ``rows x n_out`` block of the flat buffer ``key`` ("A", "Z", "D" or "G")."""
        start, width = int(self.net[1][layer, 5]), self.layers[layer].n_out
        return self.buffers[key][start : start + rows * width].reshape(rows, width)

    def run(self, order: Array | None, epochs: int = 1) -> tuple[int, int | None, float]:
        """``epochs`` epochs at the optimizer's current rate, each in data order or in ``order``.

        Returns
        -------
        completed : int
            The epochs completed; their sums are ``totals(0 .. completed - 1)``.
        failed_batch : int or None
            The batch of epoch ``completed`` whose loss was not finite (nothing was updated by
            it), or None when every epoch completed.
        value : float
            That batch's loss.
        """
        opt, cast = self.optimizer, self.X.dtype.type
        self.order = _IN_ORDER if order is None else order
        if self.sums.shape[0] < epochs:
            self.sums = np.zeros((epochs, 4))
        for param, _, velocity, at in self.places:  # the live state in, flat
            self.P[at : at + param.size] = param.reshape(-1)
            if velocity is not None:
                self.V[at : at + param.size] = velocity.reshape(-1)
        opt_spec = (cast(opt.lr), cast(opt.momentum), opt.nesterov, self.V)
        data = (self.X, self.y, self.order, self.batch, *self.gather)
        sums = self.sums[:epochs]
        spec = self.out_spec
        completed, steps, failed, value = self.kernel(self.net, self.work, opt_spec, data, spec, sums)
        for param, grad, velocity, at in self.places:  # and back out
            param.reshape(-1)[:] = self.P[at : at + param.size]
            grad.reshape(-1)[:] = self.GP[at : at + param.size]
            if velocity is not None:
                velocity.reshape(-1)[:] = self.V[at : at + param.size]
        opt.iterations += steps
        return completed, (None if failed < 0 else failed), value

    def totals(self, epoch: int) -> tuple[float, list[float]]:
        """Epoch ``epoch`` of the last `run`: the loss total and the metric totals, as the step
        path sums them (each batch's value times its rows, or the summed loss)."""
        loss_total, accuracy, mse, mae = self.sums[epoch].tolist()
        values = {"accuracy": accuracy, "mse": mse, "mae": mae}
        return loss_total, [values[name] for name in self.metric_names]

    def columns(self, epochs: int) -> dict[str, Array]:
        """`totals` of the first ``epochs`` epochs of the last `run`, one array per quantity."""
        where = {"accuracy": 1, "mse": 2, "mae": 3}
        sums = self.sums[:epochs]
        return {"loss": sums[:, 0], **{name: sums[:, where[name]] for name in self.metric_names}}

    def keep_last_batch(self) -> None:
        """Leave each layer's input, z, output and delta of the last batch, as a step does."""
        n, batch = self.X.shape[0], self.batch
        rows = n - (-(-n // batch) - 1) * batch
        first = self.gather[0][:rows] if self.order.size else self.X[n - rows :]
        for i, layer in enumerate(self.layers):
            layer.input = first if i == 0 else self.layer_block("A", i - 1, rows)
            layer.z, layer.output = self.layer_block("Z", i, rows), self.layer_block("A", i, rows)
            layer.delta = self.layer_block("D", i, rows)


def chunk_for(
    layers: list, slots: list[Slot], optimizer: Optimizer, block: OutputBlock, metric_names: list[str],
    data: tuple[Array | None, Array | None, int | None, bool],
) -> Chunk | None:  # fmt: skip
    """The run's compiled epoch, or None where the backend has none or the run needs the step path.

    ``data`` is ``(X, y, batch_size, weighted)``: the training arrays (None for a batch
    function), the batch size (None for full batch) and whether sample weights are given.
    """
    X, y, batch_size, weighted = data
    kernel = kernels.current().chunk_trainer()
    if kernel is None or weighted or type(X) is not np.ndarray or type(y) is not np.ndarray:
        return None
    if not all(isinstance(layer, Dense) and kernels.activation_code(layer.activation) is not None
               for layer in layers):  # fmt: skip
        return None
    if type(optimizer) is not SGD or optimizer.weight_decay or optimizer.l1 or block.kind is None:
        return None
    metrics = set(metric_names)
    if not metrics <= {"accuracy", "mse", "mae"} or ("accuracy" in metrics and not block.inspected):
        return None
    if ("mse" in metrics and block.kind != "squared") or X.dtype != layers[0].params["W"].dtype:
        return None
    batch = X.shape[0] if batch_size is None else min(batch_size, X.shape[0])
    if batch * sum(layer.n_in * layer.n_out for layer in layers) > MAX_WORK:
        return None
    return Chunk(kernel, layers, slots, optimizer, block, metric_names, (X, y, batch))


#: The NumPy path's cost model (measured on 2 shared cores): Python per step and per layer,
#: and the rate of the products (multiply-adds per second, three products a layer).
STEP_SECONDS, LAYER_SECONDS, MACS_PER_SECOND = 30e-6, 15e-6, 5e9


def numpy_seconds(layers: list, rows: int, batch_size: int | None, epochs: int = 1) -> float:
    """The NumPy path's estimated seconds for ``epochs`` epochs over ``rows`` rows (the cost model
    above: an over-estimate on a quiet machine, by design)."""
    batch = rows if batch_size is None else min(batch_size, rows)
    macs = sum(layer.n_in * layer.n_out for layer in layers if isinstance(layer, Dense))
    steps = epochs * -(-rows // batch)
    return steps * (STEP_SECONDS + LAYER_SECONDS * len(layers)) + 3 * epochs * rows * macs / MACS_PER_SECOND


def numba_estimate(
    layers: list, rows: int | None, batch_size: int | None, epochs: int, optimizer: Optimizer, dtype: np.dtype
) -> tuple[float, float, str]:
    """What `chainrule.nn.kernels.for_run` weighs: the run's NumPy seconds, Numba's share of them
    and the key of the kernels Numba would compile.

    A step of at most `MAX_WORK` multiply-adds runs in the compiled chunk, which saves nearly all
    of the per-step Python (0.9); a bigger one saves only some element-wise passes (0.1). Without
    rows (a batch function) nothing is estimated: 0 seconds.
    """
    dense = [layer for layer in layers if isinstance(layer, Dense)]
    if not rows or not dense:
        return 0.0, 0.0, ""
    seconds = numpy_seconds(layers, rows, batch_size, epochs)
    batch = rows if batch_size is None else min(batch_size, rows)
    macs = sum(layer.n_in * layer.n_out for layer in dense)
    if batch * macs <= MAX_WORK and type(optimizer) is SGD:
        return seconds, 0.9, f"{np.dtype(dtype).name}:chunk:{len(dense)}"
    return seconds, 0.1, f"{np.dtype(dtype).name}:steps:{type(optimizer).__name__}"


def largest_pass(layers: list, rows: int | None, batch_size: int | None) -> int:
    """The most elements one element-wise pass of a step crosses: a layer's batch of outputs or
    its weights (`chainrule.nn.kernels.threads.for_run` splits passes over threads from a size)."""
    batch = 0 if not rows else rows if batch_size is None else min(batch_size, rows)
    sizes = [max(batch, layer.n_in) * layer.n_out for layer in layers if isinstance(layer, Dense)]
    return max(sizes, default=0)
