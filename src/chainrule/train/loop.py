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
from chainrule.nn.activations import overflow_ignored
from chainrule.nn.kernels import numba_cache
from chainrule.nn.layers import Dropout, Layer
from chainrule.nn.losses import Loss
from chainrule.nn.metrics import get_metric
from chainrule.nn.output import OutputBlock
from chainrule.train.batches import Batch, MakeBatches
from chainrule.train.callbacks import Callback
from chainrule.train.chunk import Chunk, chunk_for, numpy_seconds
from chainrule.train.diagnostics import (
    RollBack,
    Snapshot,
    caller_stacklevel,
    divergence_message,
    warn_if_stuck,
)
from chainrule.train.history import TrainingRun
from chainrule.train.optimizers import Optimizer
from chainrule.train.step import Steppable, train_step

Array = np.ndarray
#: Multiply-adds one fast-forward call runs at most (a few tenths of a second), so Ctrl-C waits little.
FAST_FORWARD_WORK = 3e8
#: The step path's fast-forward: estimated seconds (`chainrule.train.chunk.numpy_seconds`, an
#: over-estimate) of the epochs one call runs at most; Ctrl-C returns to the call's start.
FAST_FORWARD_SECONDS = 0.25


class Replay(Exception):  # noqa: N818 - a control signal inside the loop, never raised to a caller
    """Go back to the state after ``epochs`` epochs (already restored) and run on epoch by epoch."""

    def __init__(self, epochs: int) -> None:
        super().__init__(epochs)
        self.epochs = epochs


class EpochDropped(Exception):  # noqa: N818 - a control signal inside the loop, never raised to a caller
    """``stop_training`` was set while an epoch ran: drop the epoch, end the run at the last one."""


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
        self.from_block = [self.block.gives(name) for name in metric_names]  # counted by the loss's pass
        self.callbacks = callbacks
        self.dropout = [layer for layer in net.layers if isinstance(layer, Dropout)]
        self.rollback: RollBack | None = None
        self.logs: dict[str, float] = {}
        self.started = False
        self.compile_key: str | None = None  # Numba's kernels for this run, for the compile notice
        self.compiled: Callable[[bool], None] | None = None  # ends that notice
        self.dropped = False  # an epoch was dropped (`EpochDropped`): the layers hold a partial one

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
        """The epoch loop; each epoch ends by committing its state to the roll-back copy.

        ``net.stop_training`` ends the run after the epoch that set it (a callback's
        ``on_epoch_end``); set while an epoch runs (from another thread: the playground's pause),
        it is seen after the next batch, or compiled chunk, and that epoch is dropped: the run
        ends with the state of the last completed epoch, so a later run repeats it exactly.

        Where nothing runs between epochs (`fast_forward_allowed`), the compiled chunk runs
        several epochs per call and the loop replays their bookkeeping from the returned sums;
        on the step path, `steps_forward` runs several epochs and does their bookkeeping once.
        """
        net = self.net
        self.rollback = RollBack(self.slots, self.optimizer, self.run.history, start)
        net.stop_training = False
        if self.begin is not None:
            self.begin()
        if start is not None:  # a checkpoint's state: committed first, then put in place
            self.rollback.restore()
        chunk = self.make_chunk()
        for callback in self.callbacks:
            callback.on_train_begin()
        fast = self.fast_forward_allowed(validation, shuffles)
        # The first step (or compiled call) is where Numba compiles: the notice covers it alone.
        self.compiled = numba_cache.compile_notice(self.compile_key) if self.compile_key else None
        # A diverging run overflows on its way to a non-finite loss; the explicit checks of
        # every batch loss and of the weights after each epoch report that, so NumPy's own
        # warnings would only be noise.
        epoch = epochs.start
        try:
            with overflow_ignored():
                while epoch < epochs.stop:
                    try:
                        if fast and chunk is not None:
                            epoch += self.fast_forward(chunk, epoch, epochs.stop)
                        elif fast:
                            epoch += self.steps_forward(make_batches, epoch, epochs.stop)
                        else:
                            self.one_epoch(chunk, make_batches, shuffles, validation, epoch)
                            epoch += 1
                    except Replay as replay:  # go back to an exact state, then epoch by epoch
                        fast, epoch = False, replay.epochs
                        chunk = self.make_chunk()  # the restored optimizer state's arrays
                    except EpochDropped:
                        self.rollback.restore()
                        self.dropped = True
                        break
                    if net.stop_training:
                        break
        finally:
            if self.compiled is not None:  # training failed before its first step ended
                self.compiled(False)
                self.compiled = None
        if chunk is not None and len(epochs):
            chunk.keep_last_batch()

    def first_step_done(self) -> None:
        """End the compile notice (`chainrule.nn.kernels.numba_cache.compile_notice`), if one runs."""
        if self.compiled is not None:
            self.compiled(True)
            self.compiled = None

    def make_chunk(self) -> Chunk | None:
        """The run's compiled epoch (`chunk_for`), over the optimizer's state arrays as they are now."""
        return chunk_for(
            self.net.layers, self.slots, self.optimizer, self.block, self.metric_names, self.chunk_data
        )

    def fast_forward_allowed(self, validation: tuple[Array, Array] | None, shuffles: bool) -> bool:
        """Whether nothing needs the loop between epochs: no callbacks (nor progress), no
        validation, no schedule, batches in data order, drawn from arrays (an epoch replayed
        after a failure gets the same batches; a batch function's might differ)."""
        between = self.callbacks or validation is not None or shuffles or self.optimizer.schedule
        return self.chunk_data[0] is not None and not between

    def fast_forward(self, chunk: Chunk, epoch: int, stop: int) -> int:
        """Several epochs in one compiled call; their logs replayed here; return how many ran.

        Every epoch keeps its own loss and metric sums, so the history is what one call per
        epoch gives. Only the end state is committed (and checked for non-finite weights): when
        a batch loss or the weights are not finite, the loop goes back to the committed state
        and replays the epochs one by one (`Replay`), which reach the same numbers and then
        fail, and roll back, exactly as a run without fast-forward does.
        """
        assert self.rollback is not None
        self.optimizer.start_epoch(epoch)  # checks the rate, which nothing changes in between
        count = min(stop - epoch, max(1, int(FAST_FORWARD_WORK / chunk.work_per_epoch)))
        completed, failed_batch, _ = chunk.run(None, count)
        self.first_step_done()
        if failed_batch is not None or not self.rollback.params_finite():
            raise Replay(self.rollback.restore())
        seen, summed = chunk.X.shape[0], self.loss.reduction == "sum"
        columns = {  # each epoch's logs as `end_epoch` makes them, computed for all at once
            name: (totals if name == "loss" and summed else totals / seen).tolist()
            for name, totals in chunk.columns(completed).items()
        }
        columns["lr"] = [self.optimizer.lr] * completed
        self.run.history.extend(columns)
        self.rollback.commit()
        self.logs = {key: values[-1] for key, values in columns.items()}
        return completed

    def steps_forward(self, make_batches: MakeBatches, epoch: int, stop: int) -> int:
        """The step path's fast-forward: several epochs of `train_step`, their bookkeeping once.

        Each epoch keeps its own loss and metric totals, so the history is what `one_epoch`
        gives; the weights are checked and the state committed once, at the end (a call runs
        at most `FAST_FORWARD_SECONDS` by `numpy_seconds`' estimate). A loss or, at the end, a
        weight that is not finite sends the loop back to the committed state to replay the
        epochs one by one (`Replay`), as `fast_forward` does: the same steps, the same failure.
        ``net.stop_training`` set from outside is seen at the end of an epoch: the call ends
        there and keeps the epochs it completed (no snapshot is taken within a call to drop a
        partial epoch to; nothing inside the run can set it, as no callback runs).
        """
        assert self.rollback is not None
        self.optimizer.start_epoch(epoch)  # checks the rate, which nothing changes in between
        count = self.steps_per_call(stop - epoch)
        columns: dict[str, list[float]] = {"loss": [], **{name: [] for name in self.metric_names}}
        epoch_batches = list(make_batches(None))  # views in data order: the same every epoch
        for number in range(epoch, epoch + count):
            rng = self.run.epoch_rng(number) if self.dropout else None
            for layer in self.dropout:  # one generator for all of them, as `one_epoch` draws
                layer.rng = rng
            total, seen, metric_totals, failure = self.batches(epoch_batches, stop_within=False)
            if failure is not None:
                raise Replay(self.rollback.restore())
            for name, value in self.epoch_logs(number, total, seen, metric_totals).items():
                columns[name].append(value)
            if self.net.stop_training:
                count = number - epoch + 1
                break
        if not self.rollback.params_finite():
            raise Replay(self.rollback.restore())
        columns["lr"] = [self.optimizer.lr] * count
        self.run.history.extend(columns)
        self.rollback.commit()
        self.logs = {key: values[-1] for key, values in columns.items()}
        return count

    def steps_per_call(self, left: int) -> int:
        """How many of the ``left`` epochs one `steps_forward` call runs: at least one, and at
        most `FAST_FORWARD_SECONDS` by the cost model (`chainrule.train.chunk.numpy_seconds`)."""
        X, _, batch_size, _ = self.chunk_data
        assert X is not None
        per_epoch = numpy_seconds(self.net.layers, X.shape[0], batch_size)
        return min(left, max(1, int(FAST_FORWARD_SECONDS / per_epoch)))

    def one_epoch(
        self,
        chunk: Chunk | None,
        make_batches: MakeBatches,
        shuffles: bool,
        validation: tuple[Array, Array] | None,
        epoch: int,
    ) -> None:
        """One epoch (by steps or in the chunk), validation, logs, callbacks, then the commit."""
        assert self.rollback is not None
        rng = self.run.epoch_rng(epoch) if self.dropout or shuffles else None
        for layer in self.dropout:
            layer.rng = rng
        if chunk is None:
            logs = self.epoch(make_batches(rng if shuffles else None), epoch)
        else:
            logs = self.epoch_in_chunk(chunk, rng if shuffles else None, epoch)
        if validation is not None:
            scores = self.net.evaluate(*validation, loss=self.loss, metrics=self.metric_names)
            logs.update({f"val_{name}": value for name, value in scores.items()})
        logs["lr"] = self.optimizer.lr
        self.run.history.append(logs)
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)
        self.rollback.commit()
        self.logs = logs

    def finish(self, interrupted: bool) -> None:
        """The callbacks' ``on_train_end``, then the stuck-layer warnings (after a full run)."""
        for callback in self.callbacks:
            callback.on_train_end(self.logs)
        if not (interrupted or self.dropped):
            warn_if_stuck(self.net.layers)

    def epoch(self, epoch_batches: Iterable[Batch], epoch: int) -> dict[str, float]:
        """One pass over the data: `train_step` on every batch; the epoch's mean loss and metrics.

        Every batch loss is checked (a non-finite one means the previous step, or the epoch's
        starting weights, went bad), and the weights once at the end, which covers the last step.
        """
        self.begin_epoch(epoch)
        total, seen, metric_totals, failure = self.batches(epoch_batches)
        if failure is not None:
            batch_number, value = failure
            self.diverged(epoch, f"the training loss became {value}", first_batch=batch_number == 0)
        return self.end_epoch(epoch, total, seen, metric_totals)

    def batches(
        self, epoch_batches: Iterable[Batch], stop_within: bool = True
    ) -> tuple[float, int, list[float], tuple[int, float] | None]:
        """`train_step` on every batch: the loss total, the rows, the metric totals, and where
        a loss was not finite, ``(batch number, loss)`` (that step updated nothing; none ran after).

        With ``stop_within``, ``net.stop_training`` is read after every batch and drops the
        epoch (`EpochDropped`); otherwise the caller reads it after the epoch."""
        net, loss, optimizer, block, slots = self.net, self.loss, self.optimizer, self.block, self.slots
        total, seen = 0.0, 0
        metric_totals = [0.0] * len(self.metrics)
        summed = loss.reduction == "sum"
        for batch_number, (X_batch, y_batch, w_batch) in enumerate(epoch_batches):
            value, out = train_step(net, X_batch, y_batch, loss, optimizer, w_batch, block=block, slots=slots)
            if self.compiled is not None:
                self.first_step_done()
            if not math.isfinite(value):  # NaN or infinite: train_step updated nothing
                return total, seen, metric_totals, (batch_number, value)
            rows = X_batch.shape[0]
            for i, metric in enumerate(self.metrics):
                if self.from_block[i] and w_batch is None:
                    metric_totals[i] += block.score(self.metric_names[i], out) * rows
                else:
                    metric_totals[i] += metric(y_batch, out) * rows
            total += value if summed else value * rows
            seen += rows
            if stop_within and net.stop_training:  # set from outside while the epoch runs (`epochs`)
                raise EpochDropped
        return total, seen, metric_totals, None

    def epoch_in_chunk(self, chunk: Chunk, rng: np.random.Generator | None, epoch: int) -> dict[str, float]:
        """The same epoch as `epoch`, its batches run by the backend's compiled chunk."""
        self.begin_epoch(epoch)
        order = None if rng is None else rng.permutation(chunk.X.shape[0])  # as `batches` draws it
        _, failed_batch, value = chunk.run(order)
        self.first_step_done()
        if failed_batch is not None:
            self.diverged(epoch, f"the training loss became {value}", first_batch=failed_batch == 0)
        if self.net.stop_training:  # set from outside while the chunk ran (see `epochs`)
            raise EpochDropped
        total, metric_totals = chunk.totals(0)
        return self.end_epoch(epoch, total, chunk.X.shape[0], metric_totals)

    def begin_epoch(self, epoch: int) -> None:
        """The epoch's learning rate (schedule, or checked as a callback left it), then callbacks."""
        self.optimizer.start_epoch(epoch)
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)

    def end_epoch(self, epoch: int, total: float, seen: int, metric_totals: list[float]) -> dict[str, float]:
        """Check the weights once (the epoch's last step is checked by no loss); the epoch's logs."""
        logs = self.epoch_logs(epoch, total, seen, metric_totals)
        assert self.rollback is not None
        if not self.rollback.params_finite():
            self.diverged(epoch, "the weights became NaN or infinite", first_batch=False)
        return logs

    def epoch_logs(self, epoch: int, total: float, seen: int, metric_totals: list[float]) -> dict[str, float]:
        """The epoch's mean (or, for a summed loss, total) loss and mean metrics."""
        if not seen:
            raise InputError(f"epoch {epoch} had no batches: the batch function returned nothing")
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
        if epochs < epoch - 1:  # a state before fast-forwarded epochs: replay up to the failure
            raise Replay(epochs)
        message = divergence_message(epoch, what, self.optimizer, f"the start of epoch {epochs}")
        raise DivergenceError(message, epoch=epoch, history=self.run.history)
