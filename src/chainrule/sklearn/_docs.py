"""The parameter and attribute sections the two estimators' docstrings share."""

PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (100,)
        The width of each hidden layer, input side first.
    activation : str or list of str, default "relu"
        scikit-learn's names ("identity", "logistic", "tanh", "relu") and chainrule's
        ("sigmoid", "leaky_relu"); one for all hidden layers, or (chainrule) one per layer.
    solver : {"adam", "sgd", "rmsprop", "lbfgs"}, default "adam"
        "adam" and "sgd" update exactly as scikit-learn's; "rmsprop" is chainrule's.
        "lbfgs" is scikit-learn's full-batch L-BFGS through SciPy (``max_iter``, ``tol``,
        ``max_fun``; `chainrule.LBFGS`); with Dask collections and a Dask client it runs
        data-parallel on the workers (`chainrule.dask.fit_lbfgs`).
    alpha : float, default 1e-4
        L2 penalty on the weights (not the biases), scaled as in scikit-learn: each batch adds
        ``alpha * W / n_batch`` to the gradient and ``alpha / 2 * sum(W**2) / n_batch`` to
        the loss (``n_batch``: the batch's sample weight sum), and ``loss_curve_`` includes it.
    batch_size : int or "auto", default "auto" (``min(200, n_samples)``)
        Samples per step of "sgd", "adam" and "rmsprop" (ignored by "lbfgs").
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        scikit-learn's schedules for ``solver="sgd"``. A number is still accepted, with a
        FutureWarning, as the step size (what it meant before chainrule 0.2).
    learning_rate_init : float, default 0.001
        The step size at the start (all of training with "constant").
    power_t : float, default 0.5
        The exponent of "invscaling".
    max_iter : int, default 200
        The most epochs; training may end sooner, by the ``tol`` rule. (``chainrule train``
        allows 2000 and decays weights instead: with this ``alpha``, 2000 epochs overfit small
        noisy regressions such as diabetes, whose 5-fold R^2 falls from 0.43 to 0.12.)
    shuffle : bool, default True
        Reshuffle every epoch (chainrule's generator, so not scikit-learn's order).
    random_state : int or None
        Seeds the initial weights, shuffling, dropout and the validation split.
    tol : float, default 1e-4
        The least improvement of the loss (or validation score) that counts, as in
        scikit-learn; "lbfgs" stops when its projected gradient is this small.
    verbose : int, default 0
        scikit-learn's ``Iteration N, loss = ...`` (and ``Validation score: ...``) lines on
        stdout; from 2, chainrule's progress bar on stderr too.
    warm_start : bool, default False
        Continue from the fitted weights; as in scikit-learn, ``loss_curve_`` goes on and
        ``n_iter_`` counts this fit's epochs (before chainrule 0.2 it accumulated). If
        ``hidden_layer_sizes``, ``activation`` or ``dropout`` changed since the network was
        built, the fit starts from scratch with a warning saying why.
    momentum : float, default 0.9
        SGD's momentum, in [0, 1].
    nesterovs_momentum : bool, default True
        Nesterov's form of SGD momentum.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data (stratified for classifiers) and stop
        when the validation score (accuracy or R^2) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the best epoch's weights are kept (scikit-learn's rule),
        also when a later epoch diverges (with a ``ConvergenceWarning``). ``partial_fit``
        refuses it, as scikit-learn does.
    validation_fraction : float, default 0.1
        The share of the data held out with ``early_stopping``.
    beta_1, beta_2, epsilon : float, default 0.9, 0.999, 1e-8
        Adam's; ``epsilon`` is RMSprop's too.
    n_iter_no_change : int, default 10
        Epochs without an improvement of ``tol`` before training stops.
    max_fun : int, default 15000
        The most loss evaluations of "lbfgs" (SciPy's ``maxfun``), as in scikit-learn.
    loss : str, optional
        chainrule: any chainrule loss name ("mae", "mse", "sse", ...) instead of the
        scikit-learn loss ("log_loss", "squared_error").
    dropout : float or list of float, default 0
        chainrule: the dropout rate after each hidden layer.
    restore_best_weights : bool, default True
        chainrule: with early stopping, end with the best epoch's weights (scikit-learn
        always does).
    callbacks : list of chainrule callbacks, optional
        chainrule: run at each epoch's end (after the stopping rule has updated the logs).
    dtype : "float64", "float32" or None, default None
        chainrule: the network's floating-point type; None follows ``X`` (float32 stays
        float32, as in scikit-learn; anything else is float64).
    optimizer : str, optional
        Deprecated spelling of ``solver``.
"""

ATTRIBUTES_DOC = """
    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        The weights and biases per layer, as in scikit-learn (live views of ``network_``'s
        parameters; assigning copies values in). Assigned before the first fit, they are
        its starting weights.
    n_layers_, n_outputs_, out_activation_, n_iter_, t_, loss_, loss_curve_, best_loss_,
    validation_scores_, best_validation_score_, n_features_in_, feature_names_in_
        As in scikit-learn. ``best_loss_`` is None with early stopping, the validation
        attributes None without.
    network_ : chainrule.Network
    history_ : chainrule.History
        The last ``fit``'s per-epoch logs.
    validation_loss_curve_ : list of float
        chainrule: the held-out loss per epoch with early stopping (no penalty term).
"""
