"""scikit-learn estimators: drop-in `NeuralNetClassifier` and `NeuralNetRegressor`.

They follow scikit-learn's conventions (constructor stores parameters, ``fit`` returns
``self``, fitted attributes end in ``_``, ``check_estimator`` passes) and add what
``MLPClassifier``/``MLPRegressor`` do not offer: per-layer activations, leaky ReLU, dropout,
every chainrule loss (MAE, squared errors with either reduction), RMSprop and schedules,
``class_weight``, callbacks with progress output, early stopping that restores the best
weights, and the validation-loss curve. Needs ``pip install "chainrule[sklearn]"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

import chainrule as cr
from chainrule.train.callbacks import Callback, EarlyStopping

Array = np.ndarray


class _NeuralNetBase(BaseEstimator):
    """What the classifier and regressor share: building, training and predicting."""

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        loss: str | None = None,
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        momentum: float = 0.9,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        alpha: float = 0.0001,
        dropout: float | Sequence[float] = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        restore_best_weights: bool = True,
        shuffle: bool = True,
        random_state: int | None = None,
        warm_start: bool = False,
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 0,
        dtype: str = "float64",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.restore_best_weights = restore_best_weights
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.verbose = verbose
        self.dtype = dtype

    # ------------------------------------------------------------------- building
    def _build(self, n_inputs: int, n_outputs: int, output_activation: str) -> cr.Network:
        sizes = [int(n) for n in np.atleast_1d(self.hidden_layer_sizes)]  # (100,), [64, 32] or 100
        if any(n < 1 for n in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive, got {self.hidden_layer_sizes}")
        activations = (
            [self.activation] * len(sizes) if isinstance(self.activation, str) else list(self.activation)
        )
        if len(activations) != len(sizes):
            raise ValueError(
                f"activation lists {len(activations)} activations for {len(sizes)} hidden layers: "
                "give one name, or one per hidden layer"
            )
        rates = [self.dropout] * len(sizes) if np.isscalar(self.dropout) else list(self.dropout)
        if len(rates) != len(sizes):
            raise ValueError(f"dropout lists {len(rates)} rates for {len(sizes)} hidden layers")
        layers: list[cr.Layer] = []
        widths = [n_inputs, *sizes]
        for n_in, n_out, name, rate in zip(widths[:-1], widths[1:], activations, rates, strict=True):
            layers.append(cr.Dense(n_in, n_out, name))
            if rate:
                layers.append(cr.Dropout(rate))
        layers.append(cr.Dense(widths[-1], n_outputs, output_activation))
        return cr.Network(layers, seed=self.random_state, dtype=self.dtype)

    def _make_optimizer(self) -> cr.Optimizer:
        if self.optimizer == "adam":
            return cr.Adam(lr=self.learning_rate, weight_decay=self.alpha)
        if self.optimizer == "sgd":
            return cr.SGD(lr=self.learning_rate, momentum=self.momentum, weight_decay=self.alpha)
        if self.optimizer == "rmsprop":
            return cr.RMSprop(lr=self.learning_rate, weight_decay=self.alpha)
        raise ValueError(f"optimizer must be 'adam', 'sgd' or 'rmsprop', got {self.optimizer!r}")

    # ------------------------------------------------------------------- training
    def _train(self, X: Array, Y: Array, sample_weight: Array | None, epochs: int, incremental: bool) -> None:
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else int(self.batch_size)
        if batch < 1:
            raise ValueError(f"batch_size must be positive or 'auto', got {self.batch_size}")
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        callbacks = list(self.callbacks or [])
        validation_split = 0.0
        stopper = None
        if not incremental:
            if self.early_stopping:
                validation_split = self.validation_fraction
                stopper = EarlyStopping(
                    self.n_iter_no_change, self.tol, "val_loss", self.restore_best_weights
                )
            else:  # scikit-learn's convergence rule: the training loss stops improving by tol
                stopper = EarlyStopping(self.n_iter_no_change, self.tol, "loss", restore_best_weights=False)
            callbacks.append(stopper)
        history = self.network_.fit(
            X,
            Y,
            loss=self._loss_name,
            optimizer=self._optimizer,
            epochs=epochs,
            batch_size=batch,
            shuffle=self.shuffle,
            validation_split=validation_split,
            callbacks=callbacks,
            verbose=self.verbose,
            sample_weight=sample_weight,
            metrics=[],
        )
        self.history_ = history
        continuing = incremental or self.warm_start  # curves and counts extend the earlier ones
        for key, attribute in (("loss", "loss_curve_"), ("val_loss", "validation_loss_curve_")):
            previous = getattr(self, attribute, []) if continuing else []
            setattr(self, attribute, [*previous, *history.history.get(key, [])])
        self.n_iter_ = (getattr(self, "n_iter_", 0) if continuing else 0) + history.epochs
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else np.inf
        if stopper is not None and stopper.stopped_epoch is None and epochs > 0 and not history.interrupted:
            warnings.warn(
                f"stopped after max_iter={self.max_iter} epochs without converging; raise max_iter "
                "or learning_rate",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> _NeuralNetBase:
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
        Y = self._encode_targets(y, first, incremental)
        weights = self._weights(y, X, sample_weight)
        if first:
            output, self._loss_name = self._output_and_loss(Y)
            self.network_ = self._build(X.shape[1], Y.shape[1], output)
            self.n_outputs_ = Y.shape[1]
            for name in ("loss_curve_", "validation_loss_curve_", "n_iter_", "_optimizer"):
                if hasattr(self, name):
                    delattr(self, name)
        epochs = 1 if incremental else self.max_iter
        if not incremental and self.max_iter < 1:
            raise ValueError(f"max_iter must be at least 1, got {self.max_iter}")
        self._train(X, Y, weights, epochs, incremental)
        return self

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


class NeuralNetClassifier(ClassifierMixin, _NeuralNetBase):
    """A feed-forward network classifier trained by backpropagation (chainrule's core).

    Binary targets get one sigmoid output and binary cross-entropy; several classes a
    softmax and categorical cross-entropy; a 2-D indicator matrix (multi-label) one sigmoid
    per label. Labels may be strings or integers.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (100,)
    activation : str or list of str, default "relu"
        One activation for all hidden layers, or one per layer ("relu", "leaky_relu",
        "tanh", "sigmoid", "identity").
    loss : str, optional
        Default as above; any chainrule loss name is accepted.
    optimizer : {"adam", "sgd", "rmsprop"}, default "adam"
    learning_rate : float, default 0.001
    momentum : float, default 0.9
        For ``optimizer="sgd"``.
    batch_size : int or "auto", default "auto" (``min(200, n_samples)``)
    max_iter : int, default 200
        Epochs.
    alpha : float, default 1e-4
        L2 penalty on the weights (not the biases), as in scikit-learn.
    dropout : float or list of float, default 0
        Dropout rate after each hidden layer.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data (stratified) and stop when its loss has
        not improved by ``tol`` for ``n_iter_no_change`` epochs; with
        ``restore_best_weights`` the best epoch's weights are kept.
    class_weight : dict, "balanced" or None
        Weights per class, multiplied into ``sample_weight``.
    callbacks : list of chainrule callbacks, optional
    verbose : int, default 0
        Progress lines on stderr.

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_, n_outputs_, network_, history_, loss_curve_,
    validation_loss_curve_, n_iter_, best_loss_
    """

    _y_numeric = False

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        loss: str | None = None,
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        momentum: float = 0.9,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        alpha: float = 0.0001,
        dropout: float | Sequence[float] = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        restore_best_weights: bool = True,
        shuffle: bool = True,
        class_weight: dict[Any, float] | str | None = None,
        random_state: int | None = None,
        warm_start: bool = False,
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 0,
        dtype: str = "float64",
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            loss=loss,
            optimizer=optimizer,
            learning_rate=learning_rate,
            momentum=momentum,
            batch_size=batch_size,
            max_iter=max_iter,
            alpha=alpha,
            dropout=dropout,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            restore_best_weights=restore_best_weights,
            shuffle=shuffle,
            random_state=random_state,
            warm_start=warm_start,
            callbacks=callbacks,
            verbose=verbose,
            dtype=dtype,
        )
        self.class_weight = class_weight

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetClassifier:
        """Train on ``X`` of shape (n_samples, n_features) and labels ``y``; returns ``self``."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> NeuralNetClassifier:
        """One epoch on ``(X, y)``; the first call needs ``classes`` (all labels there will be)."""
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("the first call to partial_fit needs classes=[every label]")
            self._partial_classes = np.asarray(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_targets(self, y: Array, first: bool, incremental: bool) -> Array:
        check_classification_targets(y)
        if first:
            self._label_binarizer = LabelBinarizer()
            classes = getattr(self, "_partial_classes", None) if incremental else None
            self._label_binarizer.fit(classes if classes is not None else y)
            self.classes_ = self._label_binarizer.classes_
            if type_of_target(y) == "multilabel-indicator":
                self.classes_ = np.arange(y.shape[1])
        elif not set(np.unique(y)) <= set(self.classes_) and type_of_target(y) != "multilabel-indicator":
            unknown = sorted(set(np.unique(y)) - set(self.classes_))
            raise ValueError(
                f"y has labels {unknown} that were not seen in the first fit (classes_: {self.classes_})"
            )
        if len(self._label_binarizer.classes_) < 2:
            raise ValueError(
                f"the classifier needs samples of at least 2 classes; got 1 class ({self.classes_[0]!r})"
            )
        return self._label_binarizer.transform(y).astype(self.dtype)

    def _output_and_loss(self, Y: Array) -> tuple[str, str]:
        multilabel = self._label_binarizer.y_type_ == "multilabel-indicator"
        if Y.shape[1] == 1 or multilabel:
            return "sigmoid", self.loss or "binary_crossentropy"
        return "softmax", self.loss or "categorical_crossentropy"

    def _weights(self, y: Any, X: Array, sample_weight: Any) -> Array | None:
        weights = super()._weights(y, X, sample_weight)
        if self.class_weight is not None:
            if type_of_target(y) == "multilabel-indicator":
                raise ValueError("class_weight is not supported for multi-label targets")
            per_class = compute_sample_weight(self.class_weight, y)
            weights = per_class if weights is None else weights * per_class
        return weights

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, shape (n_samples, n_classes), in `classes_` order."""
        out = self._forward(X)
        if out.shape[1] == 1 and self._label_binarizer.y_type_ != "multilabel-indicator":
            return np.hstack([1.0 - out, out])
        return out

    def predict_log_proba(self, X: Any) -> Array:
        """Logarithm of `predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> Array:
        """Predicted labels (a 0/1 indicator matrix for multi-label targets)."""
        out = self._forward(X)
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return (out > 0.5).astype(int)
        if out.shape[1] == 1:
            return self._label_binarizer.inverse_transform(out[:, 0] > 0.5)
        return self.classes_[out.argmax(axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class NeuralNetRegressor(RegressorMixin, _NeuralNetBase):
    """A feed-forward network regressor trained by backpropagation (chainrule's core).

    A linear output layer with one unit per target; the loss is ``mse`` by default and may
    be any chainrule loss ("mae", "half_mse", "sse", ...). Parameters as for
    `NeuralNetClassifier` (without ``class_weight``). Scale the target (for example with
    ``TransformedTargetRegressor`` and ``StandardScaler``) when it is far from unit size.
    """

    _y_numeric = True

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetRegressor:
        """Train on ``X`` of shape (n_samples, n_features) and targets ``y``; returns ``self``."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetRegressor:
        """One epoch on ``(X, y)``, continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_targets(self, y: Array, first: bool, incremental: bool) -> Array:
        Y = np.asarray(y, dtype=self.dtype)
        if Y.ndim == 1:
            Y = Y[:, None]
        if first:
            self._single_output = np.ndim(y) == 1
        return Y

    def _output_and_loss(self, Y: Array) -> tuple[str, str]:
        return "identity", self.loss or "mse"

    def predict(self, X: Any) -> Array:
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs)."""
        out = self._forward(X)
        return out[:, 0] if self._single_output else out
