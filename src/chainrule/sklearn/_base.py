"""What the classifier and regressor share: parameters, building, training and predicting."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

import chainrule as cr
from chainrule.sklearn._solvers import (
    BatchRecord,
    RecordingLoss,
    ScaledRMSprop,
    SklearnAdam,
    SklearnConvergence,
    SklearnSGD,
)

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
        """The weight matrix of each layer, shape (n_in, n_out), as in scikit-learn."""
        return [layer.params["W"] for layer in self._dense()]

    @coefs_.setter
    def coefs_(self, values: Sequence[Any]) -> None:
        self._assign("W", values)

    @property
    def intercepts_(self) -> list[Array]:
        """The bias vector of each layer, as in scikit-learn."""
        return [layer.params["b"] for layer in self._dense()]

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

    def _assign(self, key: str, values: Sequence[Any]) -> None:
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

    def _build(self, n_inputs: int, n_outputs: int, output_activation: str) -> cr.Network:
        sizes = [int(n) for n in np.atleast_1d(self.hidden_layer_sizes)]  # (100,), [64, 32] or 100
        if any(n < 1 for n in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive, got {self.hidden_layer_sizes}")
        names = [self.activation] * len(sizes) if isinstance(self.activation, str) else list(self.activation)
        if len(names) != len(sizes):
            raise ValueError(
                f"activation lists {len(names)} activations for {len(sizes)} hidden layers: "
                "give one name, or one per hidden layer"
            )
        unknown = [name for name in names if name not in ACTIVATIONS]
        if unknown:
            raise ValueError(f"unknown activation {unknown[0]!r}; choose one of: {', '.join(ACTIVATIONS)}")
        rates = [self.dropout] * len(sizes) if np.isscalar(self.dropout) else list(self.dropout)
        if len(rates) != len(sizes):
            raise ValueError(f"dropout lists {len(rates)} rates for {len(sizes)} hidden layers")
        layers: list[cr.Layer] = []
        widths = [n_inputs, *sizes]
        for n_in, n_out, name, rate in zip(widths[:-1], widths[1:], names, rates, strict=True):
            layers.append(cr.Dense(n_in, n_out, ACTIVATIONS[name]))
            if rate:
                layers.append(cr.Dropout(rate))
        layers.append(cr.Dense(widths[-1], n_outputs, output_activation))
        return cr.Network(layers, seed=self.random_state, dtype=self.dtype)

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
        raise ValueError(f"solver must be 'adam', 'sgd' or 'rmsprop', got {solver!r}")

    # ------------------------------------------------------------------- training
    def _split(self, X: Array, Y: Array, y: Any, weights: Array | None) -> tuple[Any, ...]:
        """scikit-learn's hold-out, lenient on tiny data: at least 2 rows, stratified when possible."""
        n = X.shape[0]
        n_val = max(2, int(np.ceil(self.validation_fraction * n)))
        if n_val >= n:
            raise ValueError(
                f"early_stopping needs more than {n} samples to hold out validation_fraction="
                f"{self.validation_fraction} of them"
            )
        stratify = None
        if self._stratify(y):
            _, counts = np.unique(y, return_counts=True)
            if counts.min() >= 2 and counts.size <= min(n_val, n - n_val):
                stratify = y
        parts = [X, Y, y] if weights is None else [X, Y, y, weights]
        split = train_test_split(*parts, test_size=n_val, random_state=self.random_state, stratify=stratify)
        X_tr, X_val, Y_tr, Y_val, _, y_val = split[:6]
        w_tr, w_val = (split[6], split[7]) if weights is not None else (None, None)
        return X_tr, Y_tr, w_tr, (X_val, Y_val, y_val, w_val)

    def _train(self, X: Array, Y: Array, y: Any, weights: Array | None, incremental: bool) -> None:
        if not incremental or not hasattr(self, "_optimizer"):
            self._record = BatchRecord()
            self._optimizer = self._make_optimizer(self._record)
        early = self.early_stopping and not incremental
        validation = None
        if early:
            X, Y, weights, validation = self._split(X, Y, y, weights)
            if not hasattr(self, "validation_scores_") or self.validation_scores_ is None:
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
            self.best_loss_ = None
        elif getattr(self, "best_loss_", None) is None:
            self.best_loss_ = np.inf
            self.validation_scores_ = self.best_validation_score_ = None
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else int(self.batch_size)
        if batch < 1:
            raise ValueError(f"batch_size must be positive or 'auto', got {self.batch_size}")
        score = None
        if validation is not None:
            X_val, _, y_val, w_val = validation
            score = lambda: self._score_network(X_val, y_val, w_val)  # noqa: E731
        rule = SklearnConvergence(self, n, score, restore=self.restore_best_weights)
        epochs = 1 if incremental else self.max_iter
        history = self.network_.fit(
            X,
            Y,
            loss=RecordingLoss(self._loss_object(), self._record),
            optimizer=self._optimizer,
            epochs=epochs,
            batch_size=batch,
            shuffle=self.shuffle,
            validation_data=None if validation is None else validation[:2],
            callbacks=[rule, *(self.callbacks or [])],
            verbose=int(self.verbose),
            sample_weight=weights,
            metrics=[],
        )
        self.history_ = history
        for key, attribute in (("loss", "loss_curve_"), ("val_loss", "validation_loss_curve_")):
            setattr(self, attribute, [*getattr(self, attribute, []), *history.history.get(key, [])])
        self.n_iter_ = (self.n_iter_ if incremental else 0) + history.epochs
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

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> NeuralNetBase:
        first = not (incremental or self.warm_start) or not hasattr(self, "network_")
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            multi_output=True,
            y_numeric=self._y_numeric,
            dtype=(np.float64, np.float32),
        )
        if not incremental and self.max_iter < 1:
            raise ValueError(f"max_iter must be at least 1, got {self.max_iter}")
        weights = self._weights(y, X, sample_weight)
        Y = self._encode_targets(y, first, incremental, weights)
        if first:
            output = self._output_activation(Y)
            self.network_ = self._build(X.shape[1], Y.shape[1], output)
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
        self._train(X, Y, y, weights, incremental)
        return self

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
