"""The options of one `fit` call, checked once: the one home of the fit signature and its defaults.

`chainrule.fit`, `chainrule.Network.fit` and the training loop all take a `FitSettings`, so an
option is named, defaulted, documented and checked here and nowhere else. Building one checks
every setting that does not depend on the data, before any state changes.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from chainrule.nn.checks import check_bool, check_float, check_int
from chainrule.nn.losses import Loss
from chainrule.train.lbfgs import LBFGS, is_lbfgs
from chainrule.train.optimizers import Optimizer, get_optimizer
from chainrule.train.schedules import Schedule


@dataclass(kw_only=True)
class FitSettings:
    """Every option of a `fit` call, with its default, checked when the settings are made.

    Parameters
    ----------
    loss : str or Loss, optional
        Default: the network's own loss (from an earlier `fit`), else categorical
        cross-entropy for softmax outputs, binary for sigmoid, else mse.
    optimizer : str or Optimizer or LBFGS
        ``"sgd"``, ``"momentum"``, ``"adam"``, ``"rmsprop"`` or an instance (which keeps its
        state across calls, so calling ``fit`` again continues the same run). A name is made
        into an instance here, once. ``"lbfgs"`` (or a `chainrule.train.lbfgs.LBFGS` with
        ``tol``, ``max_fun``, ``l2``) is full-batch L-BFGS through SciPy, as scikit-learn's
        ``solver="lbfgs"``: ``epochs`` is then its ``max_iter``, and ``batch_size``,
        validation, callbacks, metrics and ``resume_from`` are refused.
    lr : float or Schedule, optional
        Learning rate for an optimizer given by name.
    epochs : int
        Passes over the data, counted from the start of the run (a resumed run with the same
        ``epochs`` ends where an uninterrupted one would).
    batch_size : int, optional
        ``None`` is full-batch gradient descent (seeds 000, 001, 002, 004); ``1`` is online.
        With a Dask collection of several blocks, ``None`` is one step per block (a full batch
        would hold every block at once; it warns): ``optimizer="lbfgs"`` is full-batch over blocks.
    shuffle : bool
        Reshuffle the samples every epoch (mini-batch and online training only).
    validation_data : (X_val, y_val), optional
        Data scored after every epoch (``val_loss`` and ``val_`` metrics in the history).
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
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weight of each sample's term in the loss, as in scikit-learn: a weight of
        2 counts a sample twice (means become weighted means within each batch).
    resume_from : path, optional
        A checkpoint by `ModelCheckpoint` (or `chainrule.save_checkpoint`): its weights,
        optimizer state, seed and history continue, bit-identical to a run never interrupted
        (callbacks' counters start afresh). Settings that differ from the checkpoint's (loss,
        optimizer, lr, batch size, data) raise `ModelFileError` naming each, changing nothing.
    resume_overrides : collection of str
        Settings changed on purpose, e.g. ``{"lr"}`` (the caller's rate is then used);
        see `chainrule.train.history.OVERRIDABLE`.

    Raises
    ------
    ValueError, TypeError
        For a setting out of range or of the wrong kind (naming it), before anything changes.

    Examples
    --------
    `chainrule.fit` makes one from its keyword arguments; an optimizer named is made once:

    >>> from chainrule.train.settings import FitSettings
    >>> settings = FitSettings(optimizer="adam", lr=0.01, epochs=5)
    >>> type(settings.optimizer).__name__, settings.optimizer.lr
    ('Adam', 0.01)
    >>> FitSettings(epochs=-1)
    Traceback (most recent call last):
    ...
    ValueError: epochs must be >= 0, got -1
    """

    loss: str | Loss | None = None
    optimizer: str | Optimizer | LBFGS = "sgd"
    lr: float | Schedule | None = None
    epochs: int = 1
    batch_size: int | None = None
    shuffle: bool = True
    validation_data: tuple[Any, Any] | None = None
    validation_split: float = 0.0
    metrics: Sequence[str] | None = None
    callbacks: Sequence[Any] = ()
    verbose: int = 0
    seed: int | None = None
    sample_weight: Any = None
    resume_from: str | os.PathLike[str] | None = None
    resume_overrides: Collection[str] = ()

    def __post_init__(self) -> None:
        self.epochs = check_int("epochs", self.epochs, 0)
        if self.batch_size is not None:
            self.batch_size = check_int("batch_size", self.batch_size, 1)
        self.shuffle = check_bool("shuffle", self.shuffle)
        self.verbose = check_int("verbose", self.verbose, 0)
        self.validation_split = check_float(
            "validation_split", self.validation_split, 0.0, 1.0, high_open=True
        )
        if self.seed is not None:
            self.seed = check_int("seed", self.seed, 0)
        if isinstance(self.resume_overrides, str):
            raise TypeError("resume_overrides must be a collection of names, e.g. {'lr'}")
        if is_lbfgs(self.optimizer):
            self._check_lbfgs()
            return
        self.optimizer = get_optimizer(self.optimizer, self.lr)  # resolved once, for the whole call

    def _check_lbfgs(self) -> None:
        """Full-batch L-BFGS takes none of the step-based options."""
        given = {
            "lr": self.lr is not None,
            "batch_size": self.batch_size is not None,
            "validation_data": self.validation_data is not None,
            "validation_split": bool(self.validation_split),
            "callbacks": bool(self.callbacks),
            "metrics": bool(self.metrics),
            "resume_from": self.resume_from is not None,
        }
        refused = [name for name, is_given in given.items() if is_given]
        if refused:
            raise ValueError(f"optimizer='lbfgs' is full-batch L-BFGS and takes no {', '.join(refused)}")
        if self.epochs < 1:
            raise ValueError("optimizer='lbfgs' needs epochs (its max_iter) of at least 1")
        if not isinstance(self.optimizer, LBFGS):
            self.optimizer = LBFGS()

    @property
    def full_batch(self) -> LBFGS | None:
        """The L-BFGS settings when the optimizer is L-BFGS, else None."""
        return self.optimizer if isinstance(self.optimizer, LBFGS) else None

    @property
    def trainer(self) -> Optimizer:
        """The optimizer instance (a name given was made into one when the settings were)."""
        assert isinstance(self.optimizer, Optimizer)
        return self.optimizer


def with_fit_options(function: Callable[..., Any], leading: int) -> Callable[..., Any]:
    """Give ``function`` (which takes ``**options``) a signature listing `FitSettings`' options.

    ``help()``, notebooks and ``inspect.signature`` then show every option with its default,
    read from the one home of both, after the first ``leading`` parameters of ``function``.
    """
    own = list(inspect.signature(function).parameters.values())[:leading]
    options = [
        inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default)
        for field in dataclasses.fields(FitSettings)
    ]
    signature = inspect.signature(function)
    function.__signature__ = signature.replace(parameters=[*own, *options])  # type: ignore[attr-defined]
    function.__doc__ = with_options_documented(function.__doc__ or "")
    return function


def with_options_documented(doc: str) -> str:
    """``doc`` with its ``**options`` entry replaced by `FitSettings`' parameter entries.

    The entry (the ``**options`` line and the lines indented under it) becomes FitSettings'
    own Parameters section, indented as the entry was, so ``help(fit)`` and the API pages
    list every option from its one home.
    """
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "**options"), None)
    if start is None:
        return doc
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith(indent + " ")):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # the blank line before the next section stays
    own = inspect.getdoc(FitSettings) or ""
    entries = own.split("Parameters\n----------\n", 1)[1].split("\n\nRaises\n", 1)[0]
    documented = [indent + line if line else "" for line in entries.splitlines()]
    return "\n".join([*lines[:start], *documented, *lines[end:]])
