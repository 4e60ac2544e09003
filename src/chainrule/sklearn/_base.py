"""What the classifier and regressor share: parameters, building, training and predicting."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

import chainrule as cr
from chainrule.sklearn._constraints import architecture
from chainrule.sklearn._solvers import (
    BatchRecord,
    RecordingLoss,
    ScaledRMSprop,
    SklearnAdam,
    SklearnConvergence,
    SklearnSGD,
    SolverDivergenceError,
    hold_out,
    train_lbfgs,
)
from chainrule.sklearn._streamed import fit_streamed, is_streamed

Array = np.ndarray

#: scikit-learn's activation names, and chainrule's, to chainrule's.
ACTIVATIONS = {"logistic": "sigmoid", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}
ACTIVATIONS |= {"identity": "identity", "leaky_relu": "leaky_relu"}
#: chainrule's output activation names to scikit-learn's ``out_activation_``.
OUT_ACTIVATION_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}


class NeuralNetBase(BaseEstimator):
    """Building, training and predicting, shared by the classifier and the regressor."""

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str | float = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | None = None,
        tol: float = 1e-4,
        verbose: int = 0,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        loss: str | None = None,
        dropout: float | Sequence[float] = 0.0,
        restore_best_weights: bool = True,
        callbacks: Sequence[cr.Callback] | None = None,
        dtype: str = "float64",
        optimizer: str | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.loss = loss
        self.dropout = dropout
        self.restore_best_weights = restore_best_weights
        self.callbacks = callbacks
        self.dtype = dtype
        self.optimizer = optimizer

    # ------------------------------------------------------------ scikit-learn's attributes
    @property
    def coefs_(self) -> list[Array]:
        """The weight matrix of each layer, shape (n_in, n_out), as in scikit-learn.

        Assigned before the first ``fit`` or ``partial_fit``, the list (edited in place or not)
        gives the starting weights, as scikit-learn's does.
        """
        return self._parameters("W")

    @coefs_.setter
    def coefs_(self, values: Sequence[Any]) -> None:
        self._assign("W", values)

    @property
    def intercepts_(self) -> list[Array]:
        """The bias vector of each layer, as in scikit-learn (assignable before fitting too)."""
        return self._parameters("b")

    @intercepts_.setter
    def intercepts_(self, values: Sequence[Any]) -> None:
        self._assign("b", values)

    @property
    def loss_(self) -> float:
        """The last epoch's training loss (with the penalty term), as in scikit-learn."""
        if not getattr(self, "loss_curve_", None):
            raise AttributeError("loss_ is set by fit")
        return self.loss_curve_[-1]

    def _dense(self) -> list[cr.Dense]:
        if "network_" not in self.__dict__:
            raise AttributeError("this estimator is not fitted yet: call fit first")
        return self.network_.dense_layers

    def _parameters(self, key: str) -> list[Array]:
        if "network_" not in self.__dict__ and key in self.__dict__.get("_given", {}):
            return self._given[key]
        return [layer.params[key] for layer in self._dense()]

    def _assign(self, key: str, values: Sequence[Any]) -> None:
        if "network_" not in self.__dict__:  # before fitting: the starting values, kept as given
            self.__dict__.setdefault("_given", {})[key] = values
            return
        layers = self._dense()
        if len(values) != len(layers):
            raise ValueError(f"expected {len(layers)} arrays, one per layer, got {len(values)}")
        for layer, value in zip(layers, values, strict=True):
            value = np.asarray(value).reshape(layer.params[key].shape)
            np.copyto(layer.params[key], value, casting="same_kind")

    # ------------------------------------------------------------------- building
    def _solver_name(self) -> str:
        if self.optimizer is not None:
            warnings.warn("optimizer= is deprecated: use solver=", FutureWarning, stacklevel=4)
            return self.optimizer
        return self.solver

    def _step_size(self) -> tuple[float, str]:
        if isinstance(self.learning_rate, numbers.Real) and not isinstance(self.learning_rate, bool):
            warnings.warn(
                "learning_rate now names scikit-learn's schedule ('constant', 'invscaling', "
                f"'adaptive'); read learning_rate={self.learning_rate} as learning_rate_init",
                FutureWarning,
                stacklevel=4,
            )
            return float(self.learning_rate), "constant"
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            raise ValueError(
                "learning_rate must be 'constant', 'invscaling' or 'adaptive' (the step size is "
                f"learning_rate_init), got {self.learning_rate!r}"
            )
        return float(self.learning_rate_init), self.learning_rate

    def _architecture_changed(self) -> bool:
        """Whether warm_start or partial_fit meets a network other than the parameters ask for."""
        built, wanted = self.__dict__.get("_built"), architecture(self)
        changed = [name for name in wanted if built is not None and built[name] != wanted[name]]
        if changed:
            what = " and ".join(
                f"{name} changed since the network was built ({built[name]} -> {wanted[name]})"
                for name in changed
            )
            warnings.warn(
                f"{what}: the fitted weights cannot be continued, so this fit starts a new network "
                "from scratch",
                UserWarning,
                stacklevel=4,
            )
        return bool(changed)

    def _build(self, n_inputs: int, n_outputs: int, output_activation: str, dtype: str) -> cr.Network:
        self._built = architecture(self)
        sizes = self._built["hidden_layer_sizes"]
        names = [self.activation] * len(sizes) if isinstance(self.activation, str) else list(self.activation)
        rates = [self.dropout] * len(sizes) if np.isscalar(self.dropout) else list(self.dropout)
        if len(names) != len(sizes):
            raise ValueError(
                f"activation lists {len(names)} activations for {len(sizes)} hidden layers: "
                "give one name, or one per hidden layer"
            )
        unknown = [name for name in names if name not in ACTIVATIONS]
        if unknown:
            raise ValueError(f"unknown activation {unknown[0]!r}; choose one of: {', '.join(ACTIVATIONS)}")
        if len(rates) != len(sizes):
            raise ValueError(f"dropout lists {len(rates)} rates for {len(sizes)} hidden layers")
        layers: list[cr.Layer] = []
        widths = [n_inputs, *sizes]
        for n_in, n_out, name, rate in zip(widths[:-1], widths[1:], names, rates, strict=True):
            layers.append(cr.Dense(n_in, n_out, ACTIVATIONS[name]))
            if rate:
                layers.append(cr.Dropout(rate))
        layers.append(cr.Dense(widths[-1], n_outputs, output_activation))
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):  # scikit-learn's: draw chainrule's seed from it
            seed = int(seed.randint(2**31 - 1))
        return cr.Network(layers, seed=seed, dtype=dtype)

    def _make_optimizer(self, record: BatchRecord) -> cr.Optimizer:
        lr, schedule = self._step_size()
        solver = self._solver_name()
        if solver == "adam":
            return SklearnAdam(lr, self.beta_1, self.beta_2, self.epsilon, self.alpha, record)
        if solver == "sgd":
            return SklearnSGD(
                lr, schedule, self.momentum, self.nesterovs_momentum, self.power_t, self.alpha, record
            )
        if solver == "rmsprop":
            return ScaledRMSprop(lr, self.epsilon, self.alpha, record)
        raise ValueError(f"solver must be 'adam', 'sgd', 'rmsprop' or 'lbfgs', got {solver!r}")

    # ------------------------------------------------------------------- training
    def _train(self, X: Array, Y: Array, y: Any, weights: Array | None, incremental: bool) -> None:
        if self._solver_name() == "lbfgs":
            self._train_lbfgs(X, Y, weights, incremental)
            return
        if not incremental or not hasattr(self, "_optimizer"):
            self._record = BatchRecord()
            self._optimizer = self._make_optimizer(self._record)
        validation = score = None
        if self.early_stopping:
            X, Y, weights, validation = hold_out(self, X, Y, y, weights)
            if not hasattr(self, "validation_scores_") or self.validation_scores_ is None:
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
            self.best_loss_ = None
            X_val, _, y_val, w_val = validation
            score = lambda: self._score_network(X_val, y_val, w_val)  # noqa: E731
        elif getattr(self, "best_loss_", None) is None:
            self.best_loss_ = np.inf
            self.validation_scores_ = self.best_validation_score_ = None
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        start = self.n_iter_ if incremental else 0
        rule = SklearnConvergence(self, n, score, restore=self.restore_best_weights, first_iteration=start)
        try:
            history = self.network_.fit(
                X,
                Y,
                loss=RecordingLoss(self._loss_object(), self._record),
                optimizer=self._optimizer,
                epochs=1 if incremental else self.max_iter,
                batch_size=batch,
                shuffle=self.shuffle,
                validation_data=None if validation is None else validation[:2],
                callbacks=[rule, *(self.callbacks or [])],
                verbose=max(0, int(self.verbose) - 1),  # verbose=2: chainrule's progress bar too
                sample_weight=weights,
                metrics=[],
            )
        except cr.DivergenceError as exc:
            history = self._diverged(exc, rule)
        self.history_ = history
        for key, attribute in (("loss", "loss_curve_"), ("val_loss", "validation_loss_curve_")):
            setattr(self, attribute, [*getattr(self, attribute, []), *history.history.get(key, [])])
        self.n_iter_ = start + history.epochs
        if (
            not incremental
            and not rule.stopped
            and history.epochs == self.max_iter
            and not history.interrupted
        ):
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                f"optimization hasn't converged yet; train longer with max_iter={2 * self.max_iter}.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _train_lbfgs(self, X: Any, Y: Any, weights: Any, incremental: bool) -> None:
        """scikit-learn's ``_fit_lbfgs``: full batch, ``alpha`` over the weight sum, one call."""
        train_lbfgs(self, X, Y, weights, incremental)

    def _diverged(self, exc: cr.DivergenceError, rule: SklearnConvergence) -> cr.History:
        """With early stopping and a best epoch kept, warn and keep it (as scikit-learn does);
        otherwise raise scikit-learn's ``ValueError`` (a `SolverDivergenceError`)."""
        if rule.restore and rule.best_weights is not None and exc.history is not None:
            self.validation_scores_.append(float("nan"))  # the diverged epoch scores NaN
            rule.stopped = True
            rule.on_train_end({})
            warnings.warn(
                f"training diverged ({' '.join(str(exc).split())}); the weights of the best "
                f"validation epoch (score {self.best_validation_score_:.6g}) are kept",
                ConvergenceWarning,
                stacklevel=4,
            )
            return exc.history
        raise SolverDivergenceError(
            "Solver produced non-finite parameter weights. The input data may contain large values "
            f"and need to be preprocessed. chainrule: {exc}",
            epoch=exc.epoch,
            history=exc.history,
        ) from exc

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> NeuralNetBase:
        """Validate, then build (the first time) and train; a failure during training leaves the
        estimator unfitted, and one before it changes nothing."""
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if is_streamed(X):  # a Dask collection: streamed by blocks, never computed whole
            return fit_streamed(self, X, y, sample_weight, incremental)
        before = dict(self.__dict__)
        try:
            fitted = "network_" in self.__dict__
            first = not fitted or not (incremental or self.warm_start) or self._architecture_changed()
            X, y = validate_data(
                self,
                X,
                y,
                reset=first,
                multi_output=True,
                y_numeric=self._y_numeric,
                dtype=(np.float64, np.float32),
            )
            dtype = np.dtype(self.dtype or X.dtype) if first else self.network_.dtype
            weights = self._weights(y, X, sample_weight)
            Y = self._encode_targets(y, first, incremental, weights).astype(dtype, copy=False)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        try:
            if first:
                self._start(X.shape[1], Y, dtype)
            self._train(X.astype(dtype, copy=False), Y, y, weights, incremental)
        except BaseException:
            self._unfit()
            raise
        return self

    def _start(self, n_inputs: int, Y: Array, dtype: np.dtype) -> None:
        """A new network (from coefs_ and intercepts_ when they were assigned before fitting)."""
        given = self.__dict__.pop("_given", {})
        output = self._output_activation(Y)
        self.network_ = self._build(n_inputs, Y.shape[1], output, dtype.name)
        for key, values in given.items():
            self._assign("W" if key == "W" else "b", values)
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(self.network_.dense_layers) + 1
        self.out_activation_ = OUT_ACTIVATION_NAMES.get(output, output)
        for name in (
            "loss_curve_",
            "validation_loss_curve_",
            "_optimizer",
            "best_loss_",
            "validation_scores_",
            "best_validation_score_",
        ):
            self.__dict__.pop(name, None)
        self.n_iter_, self.t_, self._no_improvement_count = 0, 0, 0

    def _unfit(self) -> None:
        """Forget everything ``fit`` learned: ``check_is_fitted`` raises afterwards."""
        keep = set(self.get_params(deep=False))
        for name in [name for name in self.__dict__ if name not in keep]:
            del self.__dict__[name]

    def _loss_object(self) -> cr.Loss:
        if self.loss is None or self.loss == self._sklearn_loss:
            return self._default_loss()
        return cr.get_loss(self.loss)

    def _weights(self, y: Any, X: Array, sample_weight: Any) -> Array | None:
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=np.float64)

    def _forward(self, X: Any) -> Array:
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.network_.predict(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.target_tags.multi_output = True
        return tags
