"""When `train_table` stops: scikit-learn's rule on the training loss, or a validation split.

The rule (``early_stopping="auto"``): a validation split is worth stopping on only when it has
at least `MIN_VALIDATION_ROWS` rows (a loss measured on 30 or 40 rows is noise, and stopping
on it ended runs before the model had learned). So a table of at least ten times that many rows
holds 10% out and stops after ``patience`` epochs without a better validation loss, keeping the
best epoch; a smaller one trains on every row and stops as scikit-learn's MLP does, after more
than ``patience`` epochs whose training loss is not below the best by ``tol``. A run that ends
at the epoch cap still improving is `not_converged`, and says how to train longer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.errors import InputError
from chainrule.train.callbacks import Callback, EarlyStopping

MIN_VALIDATION_ROWS = 500  # the fewest validation rows early stopping relies on
AUTO_VALIDATION = 0.1  # the share held out when the table is large enough
STOP_ON = ("auto", "validation", "training", "off")


class LossPlateau(Callback):
    """scikit-learn's stopping rule on the training loss (its MLP without ``early_stopping``).

    After each epoch the count of epochs without improvement grows when the loss is above the
    best so far minus ``tol`` (and restarts otherwise); training stops once it exceeds
    ``n_iter_no_change``. The last weights are kept, as scikit-learn keeps them.

    Parameters
    ----------
    tol : float
        The least fall of the loss that counts as an improvement.
    n_iter_no_change : int
        Epochs without improvement tolerated.
    """

    def __init__(self, tol: float, n_iter_no_change: int) -> None:
        self.tol, self.patience = float(tol), int(n_iter_no_change)
        self.best, self.count = np.inf, 0
        self.stopped_epoch: int | None = None

    def on_train_begin(self) -> None:
        self.best, self.count, self.stopped_epoch = np.inf, 0, None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        loss = float(logs["loss"])
        self.count = self.count + 1 if loss > self.best - self.tol else 0
        self.best = min(self.best, loss)
        if self.count > self.patience:
            self.stopped_epoch = epoch
            self.network.stop_training = True


def validation_share(option: float | str, rows: int) -> float:
    """The share of rows held out: ``"auto"`` is `AUTO_VALIDATION` on a large enough table, else 0."""
    if option == "auto":
        return AUTO_VALIDATION if rows * AUTO_VALIDATION >= MIN_VALIDATION_ROWS else 0.0
    value = float(option)
    if not 0 <= value < 1:
        raise InputError(f"validation_split must be 'auto' or in [0, 1), got {option!r}")
    return value


def stopping_rule(option: bool | str, validation_rows: int) -> str:
    """``"validation"``, ``"training"`` or ``"off"`` for an ``early_stopping`` option (see `STOP_ON`)."""
    choice = {True: "auto", False: "off"}.get(option, option) if isinstance(option, bool) else option
    if choice not in STOP_ON:
        raise InputError(f"early_stopping must be one of {', '.join(STOP_ON)}, got {option!r}")
    if choice == "validation" and not validation_rows:
        raise InputError(
            "early stopping on the validation loss needs a validation split (--validation-split)"
        )
    if choice == "auto":
        return "validation" if validation_rows >= MIN_VALIDATION_ROWS else "training"
    return str(choice)


def make_stopper(rule: str, patience: int, tol: float) -> Callback | None:
    """The callback of a rule: `EarlyStopping` on the validation loss, `LossPlateau`, or None."""
    if rule == "validation":
        return EarlyStopping(patience, tol, "val_loss", restore_best_weights=True)
    if rule == "training":
        return LossPlateau(tol, patience)
    return None


def describe_rule(rule: str, patience: int, tol: float, validation_rows: int, why: str | None = None) -> str:
    """The line ``chainrule train`` prints about early stopping (``why``: no rows are held out)."""
    if rule == "validation":
        return (
            f"early stopping: on the validation loss ({validation_rows} rows), patience {patience} "
            "epochs, best epoch restored (--early-stopping training|off to change)"
        )
    if rule == "training":
        why = why or (
            f"too few rows for a validation split of {MIN_VALIDATION_ROWS}"
            if validation_rows < MIN_VALIDATION_ROWS
            else "as asked"
        )
        return (
            f"early stopping: on the training loss ({why}): stops after {patience} epochs without "
            f"a fall of {tol:g}, as scikit-learn's MLP does (--early-stopping off to run every epoch)"
        )
    return "early stopping: off, every epoch runs"


def not_converged(history: Any, stopper: Callback | None, epochs: int, tol: float) -> str | None:
    """A warning when the run used every epoch and its monitored loss was still falling; else None."""
    if history.epochs < epochs or getattr(history, "interrupted", False):
        return None
    if stopper is not None and getattr(stopper, "stopped_epoch", None) is not None:
        return None
    key = "val_loss" if isinstance(stopper, EarlyStopping) else "loss"
    curve = np.asarray(history.history.get(key, []), dtype=float)
    window = min(10, curve.size - 1)
    if window < 1 or not curve[-1] < np.min(curve[:-window]) - tol:
        return None
    what = "validation" if key == "val_loss" else "training"
    return (
        f"not converged: the {what} loss was still falling at epoch {epochs}, the cap; train longer "
        f"with --epochs {2 * epochs} (epochs={2 * epochs} in Python) or a larger learning rate"
    )
