"""The estimators' parameter constraints, checked by scikit-learn's own ``validate_params``,
and the hidden layers the parameters ask for.

`BASE` is ``MLPClassifier``'s and ``MLPRegressor``'s ``_parameter_constraints`` with chainrule's
additions (``"rmsprop"``, activation lists, dropout, callbacks, dtype...), so a setting that
scikit-learn refuses is refused here too, by ``fit`` and ``partial_fit``, with scikit-learn's
message (``InvalidParameterError``, a ``ValueError`` and ``TypeError``) naming the parameter.
"""

from __future__ import annotations

import numbers
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

#: scikit-learn's activation names and chainrule's.
ACTIVATION_NAMES = {"identity", "logistic", "tanh", "relu", "sigmoid", "leaky_relu"}
#: The solvers that train in epochs of batches (``partial_fit`` exists for these).
STOCHASTIC = {"sgd", "adam", "rmsprop"}

BASE: dict[str, list[Any]] = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(ACTIVATION_NAMES), list, tuple],
    "solver": [StrOptions({*STOCHASTIC, "lbfgs"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    # a number is the deprecated spelling of learning_rate_init (a FutureWarning says so)
    "learning_rate": [
        StrOptions({"constant", "invscaling", "adaptive"}),
        Interval(Real, 0, None, closed="neither"),
    ],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    # chainrule's own
    "loss": [str, None],
    "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
    "restore_best_weights": ["boolean"],
    "callbacks": [list, tuple, None],
    "dtype": [StrOptions({"float32", "float64"}), None],
    "optimizer": [StrOptions(STOCHASTIC), None],
}
CLASSIFIER = {**BASE, "class_weight": [dict, StrOptions({"balanced"}), None]}
REGRESSOR = {**BASE, "target_scaling": ["boolean"]}


def architecture(estimator: Any) -> dict[str, Any]:
    """The hidden layers an estimator's parameters ask for: widths, activations, dropout rates.

    Parameters
    ----------
    estimator : NeuralNetClassifier or NeuralNetRegressor

    Returns
    -------
    dict
        ``hidden_layer_sizes`` (a list of int), ``activation`` and ``dropout``.

    Raises
    ------
    ValueError
        If a width is not a positive integer (``(10.7,)``, ``True``, ``0``).
    """
    sizes = list(np.atleast_1d(np.asarray(estimator.hidden_layer_sizes, dtype=object)))  # (100,), [8, 4], 8
    if not sizes or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in sizes):
        raise ValueError(
            f"hidden_layer_sizes must be positive integers, got {estimator.hidden_layer_sizes!r}"
        )
    activation, dropout = estimator.activation, estimator.dropout
    return {
        "hidden_layer_sizes": [int(n) for n in sizes],
        "activation": activation if isinstance(activation, str) else list(activation),
        "dropout": float(dropout) if np.isscalar(dropout) else [float(rate) for rate in dropout],
    }
