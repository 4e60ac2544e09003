"""A `fit` call made ready: every check before any change, then the run's `Trainer`.

`prepare` checks the data, the settings, the schedule, the callbacks and a resume, chooses the
backend (`chainrule.nn.kernels.for_run`), and returns a `PreparedRun`; calling it trains.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.nn import kernels
from chainrule.nn.checks import check_float
from chainrule.nn.kernels import threads
from chainrule.nn.metrics import default_metrics, get_metric
from chainrule.nn.output import OutputBlock
from chainrule.train.batches import prepare_data
from chainrule.train.callbacks import Callback, LambdaCallback, progress_callback
from chainrule.train.chunk import largest_pass, numba_estimate
from chainrule.train.diagnostics import Snapshot
from chainrule.train.history import History, TrainingRun, check_resume, run_settings
from chainrule.train.loop import Trainable, Trainer
from chainrule.train.optimizers import Optimizer
from chainrule.train.settings import FitSettings
from chainrule.train.stream import is_streamed, stream_data


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
        The network to train (anything with its layers, loss and dtype).
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
    restores the same state and propagates. ``net.stop_training`` set while an epoch runs (from
    another thread: a pause button) ends the run the same way at the epoch's next batch, quietly
    (the epoch is dropped, ``interrupted`` is not set). A Ctrl-C before training starts (argument checks)
    propagates and changes nothing. Callbacks' own state and files they wrote are not rolled
    back. Not thread-safe: one network (or optimizer) must not be trained from two threads.

    Examples
    --------
    `chainrule.fit` is this, then the call; checking and training can be taken apart:

    >>> import chainrule as cr
    >>> from chainrule.train.prepare import prepare
    >>> from chainrule.train.settings import FitSettings
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> train = prepare(net, [[0, 1], [1, 0]], [1, 0], FitSettings(lr=0.5, epochs=2))
    >>> train.started
    False
    >>> train().epochs
    2
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
    dtype = getattr(data.X, "dtype", np.float64)
    rows = None if data.X is None else data.X.shape[0]
    seconds, share, key = numba_estimate(
        net.layers, rows, s.batch_size, s.epochs - run.epochs_done, opt, dtype
    )
    # Chosen (Numba imported) before training: a failure here changes nothing.
    chosen = kernels.for_run(seconds, share, key)
    backend = chosen.name
    # Threads for the element-wise passes: one, unless the caller asked (threads.split_passes).
    split = threads.for_run(largest_pass(net.layers, rows, s.batch_size)) if backend == "numba" else 1
    trainer.compile_key = (key + (":split" if split > 1 else "")) if backend == "numba" and key else None

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
    return PreparedRun(trainer, arguments, begin, chosen, split)


class PreparedRun:
    """A checked run, ready to train: call it to run the epochs; `started` says whether it began."""

    def __init__(
        self,
        trainer: Trainer,
        arguments: tuple[Any, ...],
        begin: Callable[[], None],
        backend: kernels.Backend | None = None,
        pass_threads: int = 1,
    ) -> None:
        self.trainer, self.arguments, self.begin = trainer, arguments, begin
        self.pass_threads = pass_threads
        self.backend = backend if backend is not None else kernels.current()

    @property
    def started(self) -> bool:
        """Whether training began (its guard was entered): from then on the trainer rolls back."""
        return self.trainer.started

    def __call__(self) -> History:
        """Run the epochs (atomically per epoch) on the run's backend and return its `History`.

        The backend is set in a copy of the caller's context, so the caller's own is never
        changed, even by a Ctrl-C at any line (no reset to miss).
        """
        contextvars.copy_context().run(self.train)
        return self.trainer.run.history

    def train(self) -> None:
        """The epochs, with the run's backend and pass threads as this context's (in `__call__`'s copy)."""
        kernels.activate(self.backend)
        threads.set_passes(self.pass_threads)
        self.trainer.train(*self.arguments, begin=self.begin)


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
