"""`NeuralNetClassifier` and `NeuralNetRegressor`: MLPClassifier's and MLPRegressor's interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target

import chainrule as cr
from chainrule.sklearn._base import NeuralNetBase
from chainrule.sklearn._constraints import CLASSIFIER, REGRESSOR, STOCHASTIC
from chainrule.sklearn._docs import ATTRIBUTES_DOC, PARAMETERS_DOC
from chainrule.sklearn._solvers import HalfSquaredError, SummedBinaryLogLoss
from chainrule.sklearn._streamed import target_scaling

Array = np.ndarray


def _stochastic(estimator: NeuralNetBase) -> bool:
    """``partial_fit`` exists for the solvers that train in batches (not for ``"lbfgs"``)."""
    return (estimator.optimizer or estimator.solver) in STOCHASTIC


class NeuralNetClassifier(ClassifierMixin, NeuralNetBase):
    _y_numeric = False
    _sklearn_loss = "log_loss"
    _parameter_constraints = CLASSIFIER

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
        dtype: str | None = None,
        optimizer: str | None = None,
        class_weight: dict[Any, float] | str | None = None,
    ) -> None:
        super().__init__(
            **{k: v for k, v in locals().items() if k not in ("self", "__class__", "class_weight")}
        )
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetClassifier:
        """Train on ``X`` of shape (n_samples, n_features) and labels ``y``; returns ``self``.

        A fit that fails while training (it diverges, say) leaves the estimator unfitted.
        Dask arrays and DataFrames are streamed block by block, never computed whole (with
        ``solver="lbfgs"`` and a running ``distributed`` client, evaluated on its workers).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (strings or integers), or a 0/1 indicator matrix for multi-label.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each sample's term in the loss (2 counts a sample twice).

        Returns
        -------
        NeuralNetClassifier
            The fitted estimator itself.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> NeuralNetClassifier:
        """One epoch on ``(X, y)``, MLPClassifier's signature; the first call needs ``classes``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its labels.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each sample's term in the loss.
        classes : array-like, optional
            Every label there will be (a batch may hold only some of them, or one); needed on
            the first call, except for multi-label targets.

        Returns
        -------
        NeuralNetClassifier
            The estimator itself, one epoch further on.
        """
        if classes is not None and hasattr(self, "classes_"):
            if not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"`classes={np.unique(classes)!r}` is not the same as on the first call to "
                    f"partial_fit, was: {self.classes_!r}"
                )
        elif not hasattr(self, "classes_"):
            if classes is None and not type_of_target(y).startswith("multilabel"):
                raise ValueError("classes must be passed on the first call to partial_fit (every label)")
            self._partial_classes = None if classes is None else np.asarray(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_targets(self, y: Array, first: bool, incremental: bool, weights: Array | None) -> Array:
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if first:
            self._label_binarizer = LabelBinarizer()
            classes = self.__dict__.pop("_partial_classes", None) if incremental else None
            self._label_binarizer.fit(classes if classes is not None else y)
            self.classes_ = np.arange(y.shape[1]) if multilabel else self._label_binarizer.classes_
        if not multilabel and not set(np.unique(y)) <= set(self.classes_):
            unknown = sorted(set(np.unique(y)) - set(self.classes_))
            raise ValueError(f"`y` has classes not in `self.classes_`: {unknown} (classes_: {self.classes_})")
        return self._label_binarizer.transform(y).astype(np.float64)

    def _multilabel(self) -> bool:
        return self._label_binarizer.y_type_ == "multilabel-indicator"

    def _output_activation(self, Y: Array) -> str:
        return "sigmoid" if Y.shape[1] == 1 or self._multilabel() else "softmax"

    def _default_loss(self) -> cr.Loss:
        if self.out_activation_ == "softmax":
            return cr.get_loss("categorical_crossentropy")
        return SummedBinaryLogLoss()

    def _stratify(self, y: Any) -> bool:
        return not self._multilabel()

    def _weights(self, y: Any, X: Array, sample_weight: Any) -> Array | None:
        weights = super()._weights(y, X, sample_weight)
        if self.class_weight is not None:
            if type_of_target(y) == "multilabel-indicator":
                raise ValueError("class_weight is not supported for multi-label targets")
            per_class = compute_sample_weight(self.class_weight, y)
            weights = per_class if weights is None else weights * per_class
        return weights

    def _decode(self, out: Array) -> Array:
        if self._multilabel():
            return (out > 0.5).astype(int)
        if out.shape[1] == 1:
            return self._label_binarizer.inverse_transform(out[:, 0] > 0.5)
        return self.classes_[out.argmax(axis=1)]

    def _score_network(self, X: Array, y: Any, weights: Array | None) -> float:
        out = self.network_.predict(X)
        if not np.isfinite(out).all():  # as scikit-learn: a diverged epoch scores NaN
            return float("nan")
        return float(accuracy_score(y, self._decode(out), sample_weight=weights))

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, shape (n_samples, n_classes), in `classes_` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Each row sums to 1 (for multi-label targets, each column is its own probability).
        """
        out = self._forward(X)
        if out.shape[1] == 1 and not self._multilabel():
            return np.hstack([1.0 - out, out])
        return out

    def predict_log_proba(self, X: Any) -> Array:
        """Logarithm of `predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> Array:
        """Predicted labels (a 0/1 indicator matrix for multi-label targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            Labels as ``fit`` was given them.
        """
        return self._decode(self._forward(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


NeuralNetClassifier.__doc__ = f"""A feed-forward network classifier, a drop-in for ``MLPClassifier``.

    It takes ``MLPClassifier``'s parameters and trains as it does: the same losses (log-loss
    summed over the outputs for binary and multi-label targets, categorical cross-entropy
    for several classes), the same L2 penalty scaling, SGD (Nesterov by default) and Adam
    updates, learning-rate schedules and stopping rule; from the same initial weights
    without shuffling, the two follow the same trajectory (tests/test_sklearn_trajectories.py).
    chainrule adds per-layer activations, leaky ReLU, dropout, other losses, RMSprop,
    ``class_weight``, callbacks and ONNX export. Labels may be strings or integers.

    Where it deliberately differs from scikit-learn: initial weights come from chainrule's
    initialisers (He for ReLU, Glorot otherwise) and shuffling from chainrule's generator,
    so runs are not identical unless weights are copied in and ``shuffle=False``;
    ``partial_fit`` ignores ``early_stopping`` instead of raising. Settings are checked by
    scikit-learn's own ``validate_params`` (``_parameter_constraints``: MLPClassifier's, plus
    chainrule's parameters); a fit that diverges raises ``ValueError`` (also a
    `chainrule.DivergenceError`) and leaves the estimator unfitted. scikit-learn's own
    ``test_mlp.py`` runs against it in the test suite.
{PARAMETERS_DOC}
    class_weight : dict, "balanced" or None
        chainrule: weights per class, multiplied into ``sample_weight``.
{ATTRIBUTES_DOC}
    classes_ : ndarray
        The labels, in the order of `predict_proba`'s columns.

    Examples
    --------
    >>> from chainrule.sklearn import NeuralNetClassifier
    >>> X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], ["no", "yes", "yes", "no"]
    >>> clf = NeuralNetClassifier(hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs",
    ...                           random_state=0).fit(X, y)
    >>> clf.predict(X), clf.score(X, y)
    (array(['no', 'yes', 'yes', 'no'], dtype='<U3'), 1.0)
    >>> clf.predict_proba(X).shape
    (4, 2)
    """


class NeuralNetRegressor(RegressorMixin, NeuralNetBase):
    _y_numeric = True
    _sklearn_loss = "squared_error"
    _parameter_constraints = REGRESSOR

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
        loss: str | None = "squared_error",
        dropout: float | Sequence[float] = 0.0,
        restore_best_weights: bool = True,
        callbacks: Sequence[cr.Callback] | None = None,
        dtype: str | None = None,
        optimizer: str | None = None,
        target_scaling: bool = True,
    ) -> None:
        super().__init__(
            **{k: v for k, v in locals().items() if k not in ("self", "__class__", "target_scaling")}
        )
        self.target_scaling = target_scaling

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetRegressor:
        """Train on ``X`` of shape (n_samples, n_features) and targets ``y``; returns ``self``.

        A fit that fails while training (it diverges, say) leaves the estimator unfitted.
        Dask arrays and DataFrames are streamed block by block, never computed whole (with
        ``solver="lbfgs"`` and a running ``distributed`` client, evaluated on its workers).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each sample's term in the loss (2 counts a sample twice).

        Returns
        -------
        NeuralNetRegressor
            The fitted estimator itself.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetRegressor:
        """One epoch on ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each sample's term in the loss.

        Returns
        -------
        NeuralNetRegressor
            The estimator itself, one epoch further on.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_targets(self, y: Array, first: bool, incremental: bool, weights: Array | None) -> Array:
        Y = np.asarray(y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        if first:  # weighted scaling, so a weight of 2 equals a repeated row
            self._single_output = np.ndim(y) == 1
            self._y_mean, self._y_scale = target_scaling(Y, weights, self.target_scaling)
        return (Y - self._y_mean) / self._y_scale

    def _output_activation(self, Y: Array) -> str:
        return "identity"

    def _default_loss(self) -> cr.Loss:
        return HalfSquaredError()

    def _stratify(self, y: Any) -> bool:
        return False

    def _decode(self, out: Array) -> Array:
        out = (out * self._y_scale + self._y_mean).astype(out.dtype, copy=False)  # X's dtype, as scikit-learn
        return out[:, 0] if self._single_output else out

    def _score_network(self, X: Array, y: Any, weights: Array | None) -> float:
        out = self.network_.predict(X)
        if not np.isfinite(out).all():  # as scikit-learn: a diverged epoch scores NaN
            return float("nan")
        return float(r2_score(y, self._decode(out), sample_weight=weights))

    def predict(self, X: Any) -> Array:
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            In the target's units (any target scaling undone), as ``fit`` was given them.
        """
        return self._decode(self._forward(X))


NeuralNetRegressor.__doc__ = f"""A feed-forward network regressor, a drop-in for ``MLPRegressor``.

    It takes ``MLPRegressor``'s parameters and trains as it does (half squared error, the
    same penalty scaling, solvers, schedules and stopping rule; see `NeuralNetClassifier`),
    with one deliberate difference in the defaults: ``target_scaling=True`` standardises
    the target (mean 0, standard deviation 1, sample-weighted) before training and undoes
    it in ``predict``, so targets far from unit size (house prices, disease progression)
    train with the default learning rate. ``MLPRegressor`` does not, and scores R^2 < 0 on
    such data with its defaults. With scaling on, ``loss_curve_`` and ``alpha`` act in
    standardised units; ``target_scaling=False`` reproduces scikit-learn exactly.
    For several targets scikit-learn reports its loss averaged over them but follows the
    gradient of their sum; chainrule reports the sum it follows.
{PARAMETERS_DOC}
    target_scaling : bool, default True
        chainrule: standardise the target (see above). With ``partial_fit`` the first
        call's targets set the scaling.
{ATTRIBUTES_DOC}
    Examples
    --------
    Targets around 100 train with the defaults, as the target is standardised:

    >>> import numpy as np
    >>> from chainrule.sklearn import NeuralNetRegressor
    >>> X = np.random.default_rng(0).uniform(-1, 1, (50, 1))
    >>> y = 100 + 30 * X[:, 0]
    >>> reg = NeuralNetRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0).fit(X, y)
    >>> round(reg.score(X, y), 3), reg.predict([[0.5]]).round(0)
    (1.0, array([115.]))
    """
