"""scikit-learn's training arithmetic on chainrule's loop: losses, solvers and stopping rule.

scikit-learn's MLP divides the L2 penalty's gradient ``alpha * W`` by the batch's sample
count (or weight sum), adds ``alpha / 2 * sum(W**2) / n_batch`` to each batch loss, sums
its losses over the outputs (binary log-loss, half squared error) and averages over
samples, updates with its own SGD (velocity ``m * v - lr * g``, Nesterov by default) and
Adam (epsilon outside the bias correction), and stops after ``n_iter_no_change`` epochs
without an improvement of ``tol``. The pieces here do the same inside `chainrule.fit`:

* `RecordingLoss` wraps the loss and notes each batch's row count and weight sum;
* the optimizers read that note to scale ``alpha`` per batch and to add the penalty to
  the epoch's loss, as scikit-learn's ``loss_curve_`` does;
* `SklearnConvergence` is scikit-learn's ``_update_no_improvement_count`` and
  ``trigger_stopping`` as a callback.

A core hook would make this simpler: ``Optimizer.step(slots, batch_weight=...)`` (the loop
knows the batch's weight sum) and a ``penalty`` term the loop adds to the logged loss.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import chainrule as cr
from chainrule.sklearn._streamed import cluster_client, is_streamed

Array = np.ndarray


class SolverDivergenceError(cr.DivergenceError, ValueError):
    """Training diverged: chainrule's `DivergenceError`, and the ``ValueError`` scikit-learn's
    MLP estimators raise for non-finite weights."""


class BatchRecord:
    """The current training batch's row count and weight sum (scikit-learn's divisor)."""

    def __init__(self) -> None:
        self.rows = 0
        self.weight_sum = 0.0


class RecordingLoss(cr.Loss):
    """``inner``, unchanged, that also notes each batch it scores in ``record``."""

    def __init__(self, inner: cr.Loss, record: BatchRecord) -> None:
        self.inner, self.record = inner, record
        self.name, self.reduction = inner.name, inner.reduction
        self.classification, self.fused_activation = inner.classification, inner.fused_activation
        self.formula, self.gradient_formula = inner.formula, inner.gradient_formula

    def __call__(self, y: Array, out: Array) -> float:
        self.record.rows = self.record.weight_sum = y.shape[0]
        return self.inner(y, out)

    def weighted(self, y: Array, out: Array, weights: Array) -> float:
        self.record.rows, self.record.weight_sum = y.shape[0], float(weights.sum())
        return self.inner.weighted(y, out, weights)

    def gradient(self, y: Array, out: Array) -> Array:
        return self.inner.gradient(y, out)

    def delta_scale(self, shape: tuple[int, ...]) -> float:
        return self.inner.delta_scale(shape)

    def fused_delta(self, y: Array, out: Array) -> Array:
        return self.inner.fused_delta(y, out)

    def check_targets(self, y: Array, whole: bool = True) -> None:
        # the estimators check classes themselves: a batch (partial_fit) may hold one of them
        self.inner.check_targets(y, whole=False)

    def sample_losses(self, y: Array, out: Array) -> Array:
        return self.inner.sample_losses(y, out)

    def row_weights(self, weights: Array) -> Array:
        return self.inner.row_weights(weights)


class SummedBinaryLogLoss(cr.Loss):
    """scikit-learn's ``binary_log_loss``: summed over outputs, averaged over samples.

    For one output this is chainrule's ``binary_crossentropy``; for k labels it is k times
    it (chainrule averages over the labels too), so it carries that name for saving.
    """

    name = "binary_crossentropy"
    classification = True
    fused_activation = "sigmoid"
    formula = "-sum over outputs of (y log out + (1-y) log(1-out)), mean over samples"
    gradient_formula = "(out - y)/(out*(1-out))/n"

    def sample_losses(self, y: Array, out: Array) -> Array:
        eps = np.finfo(out.dtype).eps
        p = np.clip(out, eps, 1.0 - eps)
        return -(y * np.log(p) + (1.0 - y) * np.log1p(-p)).sum(axis=1)

    def __call__(self, y: Array, out: Array) -> float:
        return float(self.sample_losses(y, out).sum()) / out.shape[0]

    def gradient(self, y: Array, out: Array) -> Array:
        eps = np.finfo(out.dtype).eps
        p = np.clip(out, eps, 1.0 - eps)
        return (p - y) / (p * (1.0 - p)) / out.shape[0]

    def delta_scale(self, shape: tuple[int, ...]) -> float:
        return 1.0 / shape[0]  # summed over outputs, averaged over samples

    def check_targets(self, y: Array, whole: bool = True) -> None:
        cr.get_loss("binary_crossentropy").check_targets(y, whole)


class HalfSquaredError(cr.Loss):
    """Half the squared error summed over outputs, averaged over samples: gradient ``(out - y) / n``.

    That is the gradient scikit-learn's MLPRegressor follows. For one output it is
    chainrule's ``half_mse`` (whose name it carries for saving); scikit-learn *reports* the
    mean over outputs instead, so with several targets its ``loss_curve_`` is this one
    divided by the number of targets (the penalty term aside).
    """

    name = "half_mse"
    formula = "1/2 sum over outputs of (y - out)**2, mean over samples"
    gradient_formula = "(out - y)/n"

    def sample_losses(self, y: Array, out: Array) -> Array:
        diff = out - y
        return 0.5 * np.einsum("ij,ij->i", diff, diff)

    def __call__(self, y: Array, out: Array) -> float:
        diff = out - y
        return 0.5 * float(np.vdot(diff, diff)) / out.shape[0]

    def delta_scale(self, shape: tuple[int, ...]) -> float:
        return 1.0 / shape[0]

    def gradient(self, y: Array, out: Array) -> Array:
        grad = out - y
        grad *= self.delta_scale(out.shape)
        return grad


class _ScaledPenalty(cr.Optimizer):
    """scikit-learn's L2 penalty: ``alpha / batch weight sum``, and its term in the loss."""

    def _setup_penalty(self, alpha: float, record: BatchRecord) -> None:
        self.alpha, self.record, self.epoch_penalty = float(alpha), record, 0.0

    def step(self, slots: list[Any]) -> None:
        divisor = self.record.weight_sum or 1.0
        if self.alpha:  # the penalty of the weights this batch's loss was computed with
            squares = sum(float(np.vdot(slot.param, slot.param)) for slot in slots if slot.decay)
            self.epoch_penalty += 0.5 * self.alpha * squares * self.record.rows / divisor
        self.weight_decay = self.alpha / divisor
        super().step(slots)

    @property
    def learning_rate(self) -> float:
        """The current step size (scikit-learn's optimizers' name for it)."""
        return self.lr

    def take_penalty(self) -> float:
        """The epoch's summed ``rows * penalty`` terms; resets the sum."""
        penalty, self.epoch_penalty = self.epoch_penalty, 0.0
        return penalty

    def iteration_ends(self, samples_seen: int) -> None:
        """Called after each epoch with scikit-learn's ``t_``."""

    def trigger_stopping(self) -> bool:
        """Whether to stop after ``n_iter_no_change`` epochs without improvement."""
        return True


class SklearnSGD(_ScaledPenalty):
    """scikit-learn's SGD: ``v = momentum * v - lr * g``; ``p += v`` or, with Nesterov,
    ``p += momentum * v - lr * g``; learning rate ``constant``, ``invscaling``
    (``lr_init / (t + 1) ** power_t``, t the samples seen) or ``adaptive`` (divided by 5
    each time the loss stalls, stopping below 1e-6)."""

    name = "sgd"

    def __init__(
        self,
        lr: float,
        schedule: str,
        momentum: float,
        nesterov: bool,
        power_t: float,
        alpha: float,
        record: BatchRecord,
    ) -> None:
        super().__init__(lr)
        self.lr_init, self.schedule_name = float(lr), schedule
        self.momentum, self.nesterov, self.power_t = float(momentum), bool(nesterov), float(power_t)
        self._setup_penalty(alpha, record)

    def _new_state(self, param: Array) -> dict[str, Array]:
        return {**super()._new_state(param), "velocity": np.zeros_like(param)}

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        velocity, scratch = state["velocity"], state["scratch"]
        np.multiply(grad, self.lr, out=scratch)  # lr * g
        velocity *= self.momentum
        velocity -= scratch
        if self.nesterov:
            np.subtract(self.momentum * velocity, scratch, out=scratch)
            param += scratch
        else:
            param += velocity

    def iteration_ends(self, samples_seen: int) -> None:
        if self.schedule_name == "invscaling":
            self.lr = self.lr_init / (samples_seen + 1) ** self.power_t

    def trigger_stopping(self) -> bool:
        if self.schedule_name != "adaptive" or self.lr <= 1e-6:
            return True
        self.lr /= 5.0
        return False

    def config(self) -> dict[str, Any]:
        return {**super().config(), "momentum": self.momentum, "nesterov": self.nesterov}


class SklearnAdam(_ScaledPenalty):
    """scikit-learn's Adam: ``p -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)``."""

    name = "adam"

    def __init__(
        self, lr: float, beta1: float, beta2: float, eps: float, alpha: float, record: BatchRecord
    ) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self._setup_penalty(alpha, record)

    def _new_state(self, param: Array) -> dict[str, Array]:
        return {**super()._new_state(param), "m": np.zeros_like(param), "v": np.zeros_like(param)}

    def _update(self, param: Array, grad: Array, state: dict[str, Array]) -> None:
        m, v, scratch = state["m"], state["v"], state["scratch"]
        t = self.iterations
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad**2
        rate = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        np.sqrt(v, out=scratch)
        scratch += self.eps
        np.divide(m, scratch, out=scratch)
        scratch *= rate
        param -= scratch

    def config(self) -> dict[str, Any]:
        return {**super().config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class ScaledRMSprop(_ScaledPenalty, cr.RMSprop):
    """chainrule's RMSprop with scikit-learn's penalty scaling (not in scikit-learn)."""

    def __init__(self, lr: float, eps: float, alpha: float, record: BatchRecord) -> None:
        cr.RMSprop.__init__(self, lr, eps=eps)
        self._setup_penalty(alpha, record)


def hold_out(estimator: Any, X: Array, Y: Array, y: Any, weights: Array | None) -> tuple[Any, ...]:
    """scikit-learn's hold-out, lenient on tiny data (at least 2 rows; stratified where the
    classes allow it), and scikit-learn's errors where it cannot be made."""
    n = X.shape[0]
    n_val = max(2, int(np.ceil(estimator.validation_fraction * n)))
    if n_val >= n:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size of your "
            f"dataset (early_stopping holds out at least 2 of the {n} samples and trains on the rest)."
        )
    stratify = None
    if estimator._stratify(y):  # as scikit-learn: the binary indicator; (chainrule) else the labels
        _, counts = np.unique(y, return_counts=True)
        if counts.min() < 2 or counts.size <= min(n_val, n - n_val):  # one member: its error
            stratify = Y.astype(bool) if Y.shape[1] == 1 else y
    parts = [X, Y, y] if weights is None else [X, Y, y, weights]
    split = train_test_split(*parts, test_size=n_val, random_state=estimator.random_state, stratify=stratify)
    X_tr, X_val, Y_tr, Y_val, _, y_val = split[:6]
    w_tr, w_val = (split[6], split[7]) if weights is not None else (None, None)
    return X_tr, Y_tr, w_tr, (X_val, Y_val, y_val, w_val)


class SklearnConvergence(cr.Callback):
    """scikit-learn's stopping rule, and its loss bookkeeping, as a chainrule callback.

    Adds the epoch's penalty to ``logs["loss"]``; counts epochs whose training loss (or,
    with early stopping, validation score) did not improve by ``tol``; past
    ``n_iter_no_change`` asks the optimizer whether to stop (``adaptive`` divides the rate
    instead). With a validation score it keeps the best epoch's weights and restores them
    at the end when ``restore`` is set. State that outlives one ``fit`` (the count, the
    best values, ``t_``) lives on the estimator, as in scikit-learn.
    """

    def __init__(
        self,
        estimator: Any,
        n_train: int,
        validation_score: Callable[[], float] | None,
        restore: bool,
        first_iteration: int = 0,
    ) -> None:
        self.estimator, self.n_train = estimator, n_train
        self.validation_score, self.restore = validation_score, restore
        self.iteration = first_iteration
        self.stopped = False
        self.best_weights: list[dict[str, Array]] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        est = self.estimator
        optimizer = self.optimizer
        if isinstance(optimizer, _ScaledPenalty):
            logs["loss"] += optimizer.take_penalty() / self.n_train
            self.run.history.history["loss"][-1] = logs["loss"]
        est.t_ += self.n_train
        self.iteration += 1
        if est.verbose:  # scikit-learn's lines, on stdout
            print(f"Iteration {self.iteration}, loss = {logs['loss']:.8f}")
        tol = est.tol
        if self.validation_score is not None:
            score = self.validation_score()
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}")
            logs["val_score"] = score
            improved = not score < est.best_validation_score_ + tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_weights = self.network.get_weights()
        else:
            improved = not logs["loss"] > est.best_loss_ - tol
            est.best_loss_ = min(est.best_loss_, logs["loss"])
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if isinstance(optimizer, _ScaledPenalty):
            optimizer.iteration_ends(est.t_)
        if est._no_improvement_count > est.n_iter_no_change:
            if not isinstance(optimizer, _ScaledPenalty) or optimizer.trigger_stopping():
                self.stopped = True
                self.network.stop_training = True
            else:
                est._no_improvement_count = 0

    def on_train_end(self, logs: dict[str, float]) -> None:
        if self.restore and self.best_weights is not None:
            self.network.set_weights(self.best_weights)


def train_lbfgs(self: Any, X: Any, Y: Any, weights: Any, incremental: bool) -> None:
    """scikit-learn's ``_fit_lbfgs``: full batch, ``alpha`` over the weight sum, one call."""
    if incremental:
        raise ValueError("partial_fit is not available with solver='lbfgs' (a full-batch method)")
    total = float(X.shape[0] if weights is None else weights.sum())
    solver = cr.LBFGS(max_iter=self.max_iter, tol=self.tol, max_fun=self.max_fun, l2=self.alpha / total)
    client = cluster_client() if is_streamed(X) else None
    if client is not None:  # Dask collections and a running client: the workers evaluate
        from chainrule.dask import fit_lbfgs

        options = {"max_iter": self.max_iter, "tol": self.tol, "max_fun": self.max_fun, "l2": solver.l2}
        history = fit_lbfgs(
            self.network_, X, Y, client=client, loss=self._loss_object(), sample_weight=weights, **options
        )
    else:
        history = self.network_.fit(
            X, Y, loss=self._loss_object(), optimizer=solver, epochs=self.max_iter, sample_weight=weights
        )
    self.history_ = history
    result = history.result or {"nit": history.epochs, "success": False, "message": "interrupted"}
    self.loss_curve_ = list(history.history.get("loss", []))
    if "fun" in result and (not self.loss_curve_ or self.loss_curve_[-1] != result["fun"]):
        self.loss_curve_.append(result["fun"])
    self.n_iter_ = min(result["nit"], self.max_iter)
    self.best_loss_ = self.validation_scores_ = self.best_validation_score_ = None
    if not result["success"] and not history.interrupted:
        warnings.warn(
            f"lbfgs failed to converge after {result['nit']} iteration(s): {result['message']}. "
            "Increase the number of iterations (max_iter) or scale the data.",
            ConvergenceWarning,
            stacklevel=3,
        )
