"""The network users build, train and save: a stack of layers with its forward and backward passes.

`Network` assembles the layers of `chainrule.nn`; `fit` trains it with `chainrule.train`, and
`save`/`load` keep it in a `chainrule.io` model file. None of those packages imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.errors import ModelFileError
from chainrule.io.checkpoints import read_checkpoint
from chainrule.io.model_file import MAX_MODEL_BYTES, read_model_file, save
from chainrule.nn.activations import Activation
from chainrule.nn.checks import check_int
from chainrule.nn.inputs import as_matrix, as_targets, check_lengths
from chainrule.nn.layers import Dense, Layer
from chainrule.nn.losses import Loss, class_indices, default_loss, get_loss
from chainrule.nn.metrics import default_metrics, get_metric
from chainrule.nn.predictor import Predictor
from chainrule.nn.stack import cast_layers, check_stack, dense_stack, summary_html, summary_text
from chainrule.train.history import History
from chainrule.train.lbfgs import prepare_lbfgs
from chainrule.train.optimizers import Slot
from chainrule.train.prepare import prepare
from chainrule.train.settings import FitSettings, with_fit_options
from chainrule.train.step import backward

Array = np.ndarray


class Network:
    """A feed-forward network trained by backpropagation.

    Parameters
    ----------
    layers : list of Layer, or list of int
        The layers in order, or layer sizes as in Nielsen's ``Network([784, 30, 10])``:
        ``[3, 4, 1]`` builds ``Dense(3, 4)`` and ``Dense(4, 1)``.
    activation : str
        Hidden activation when ``layers`` are sizes.
    output_activation : str, optional
        Output activation when ``layers`` are sizes; default ``activation``.
    bias : bool
        Whether layers built from sizes have biases.
    init : str or callable, optional
        Initialiser for layers built from sizes (default He for ReLU, Glorot otherwise).
    seed : int or numpy.random.Generator, optional
        The source of all randomness: initial weights, shuffling, validation splits, dropout.
    dtype : {None, "float32", "float64"}
        ``None`` (default) follows the training data: a first `fit` on float32 arrays makes a
        float32 network (no upcast copy), anything else float64. A dtype given is kept.

    Examples
    --------
    >>> net = Network([2, 3, 1], activation="sigmoid", bias=False, seed=0)
    >>> net.predict([[1.0, 0.5]]).shape
    (1, 1)
    >>> net.sizes, net.count_params()
    ([2, 3, 1], 9)
    >>> history = net.fit([[0, 1], [1, 0]], [1, 0], lr=1.0, epochs=100)
    >>> {name: round(value, 3) for name, value in net.evaluate([[0, 1], [1, 0]], [1, 0]).items()}
    {'loss': 0.025, 'accuracy': 1.0}
    """

    def __init__(
        self,
        layers: Sequence[Layer] | Sequence[int],
        *,
        activation: str = "sigmoid",
        output_activation: str | None = None,
        bias: bool = True,
        init: Any = None,
        seed: int | np.random.Generator | None = None,
        dtype: str | np.dtype | None = None,
    ) -> None:
        if len(layers) == 0:
            raise ValueError("a network needs at least one layer")
        if not all(isinstance(layer, Layer) for layer in layers):
            widths = [check_int(f"layers[{i}] (a width)", n, 1) for i, n in enumerate(layers)]
            layers = dense_stack(widths, activation, output_activation, bias, init)
        self.layers: list[Layer] = list(layers)  # type: ignore[arg-type]
        self.dtype = np.dtype(dtype or "float64")
        #: Whether the next `fit` may still switch to its data's dtype (only when none was given).
        self.dtype_from_data = dtype is None
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.loss: Loss | None = None
        self.stop_training = False
        self.metadata: dict[str, Any] = {}
        check_stack(self.layers)
        for layer in self.layers:
            layer.initialize(self.rng, self.dtype)

    # ----------------------------------------------------------------------------- shape
    @property
    def dense_layers(self) -> list[Dense]:
        """The Dense layers, in order (the ones the tutorials number 1, 2, ...)."""
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def n_inputs(self) -> int:
        """The number of input features."""
        return self.dense_layers[0].n_in

    @property
    def n_outputs(self) -> int:
        """The number of outputs."""
        return self.dense_layers[-1].n_out

    @property
    def sizes(self) -> list[int]:
        """Widths from the input to the output, e.g. ``[3, 4, 1]``."""
        dense = self.dense_layers
        return [dense[0].n_in, *(layer.n_out for layer in dense)]

    @property
    def output_activation(self) -> Activation:
        """The activation of the last Dense layer."""
        return self.dense_layers[-1].activation

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def astype(self, dtype: str | np.dtype) -> Network:
        """Cast every parameter to ``dtype`` (float32 or float64) in place, all layers or none.

        Parameters
        ----------
        dtype : {"float32", "float64"} or numpy.dtype
            The new dtype of every weight and bias; it is kept by later `fit` calls.

        Returns
        -------
        Network
            This network (cast in place), so calls chain.

        Raises
        ------
        ValueError
            For any other dtype, changing nothing.
        """
        self.cast_for_training(dtype)
        return self

    def cast_for_training(self, dtype: str | np.dtype) -> Callable[[], None]:
        """Cast like `astype`, all or nothing; return a function that puts the exact arrays back.

        `fit` casts before checking the data, and undoes it when anything fails before training.

        Parameters
        ----------
        dtype : {"float32", "float64"} or numpy.dtype
            The dtype to cast every parameter to.

        Returns
        -------
        callable
            ``undo()``: restores the previous arrays (the same objects) and dtype.

        Raises
        ------
        ValueError
            For any other dtype, changing nothing.
        """
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        previous, restore_layers = (self.dtype, self.dtype_from_data), None

        def undo() -> None:
            if restore_layers is not None:
                restore_layers()
            self.dtype, self.dtype_from_data = previous

        try:
            restore_layers = cast_layers(self.layers, self.rng, dtype)
            self.dtype, self.dtype_from_data = dtype, False
            return undo
        except BaseException:
            undo()
            raise

    def count_params(self) -> int:
        """The number of trainable values (weights and biases).

        Returns
        -------
        int
            The total size of every layer's ``params`` arrays; ``[2, 3, 1]`` with biases has
            ``2*3 + 3 + 3*1 + 1 = 13``.
        """
        return sum(param.size for layer in self.layers for param in layer.params.values())

    def summary(self) -> None:
        """Print the layers with their output shapes and parameter counts (as Keras does)."""
        print(summary_text(self.layers, self.dtype))

    def _repr_html_(self) -> str:
        return summary_html(self.layers, self.dtype)

    def slots(self) -> list[Slot]:
        """Every trainable array with its gradient, for optimizers (weights decay, biases not).

        Returns
        -------
        list of Slot
            One per parameter array, named ``"<layer index>.<key>"`` (``"0.W"``, ``"0.b"``...),
            holding the live ``params`` and ``grads`` arrays (not copies).
        """
        return [
            Slot(f"{i}.{key}", layer.params[key], layer.grads[key], decay=key == "W")
            for i, layer in enumerate(self.layers)
            for key in layer.params
        ]

    # ------------------------------------------------------------------- forward / backward
    def forward(self, X: Array, training: bool = False) -> Array:
        """Run ``X`` (already a 2-D array of the network's dtype) through every layer.

        Unlike `predict`, nothing is checked or converted: this is the training loop's pass.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)
            Inputs, of the network's dtype.
        training : bool
            Training mode: layers cache what `backward` needs and dropout drops.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            The output layer's activations.
        """
        for layer in self.layers:
            X = layer.forward(X, training)
        return X

    def backward(self, grad: Array, *, grad_is_delta: bool = False) -> None:
        """Backpropagate from the output of the last training-mode `forward`, filling ``grads``.

        Parameters
        ----------
        grad : ndarray of shape (n_samples, n_outputs)
            dLoss/d(output) of the network, as `Layer.backward` takes it.
        grad_is_delta : bool
            ``grad`` is already the output layer's delta dLoss/dz (the fused sigmoid + binary
            or softmax + categorical cross-entropy shortcut), so the output activation's
            slope is not applied again.
        """
        backward(self.layers, grad, grad_is_delta)

    # ------------------------------------------------------------------------ inference
    def predict(self, X: Any) -> Array:
        """Network outputs for ``X`` of shape ``(n_samples, n_inputs)``.

        A single sample may be given as a 1-D array of length ``n_inputs``; its output is
        then 1-D too.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs) or (n_inputs,)
            Inputs; lists, NumPy arrays and DataFrames of numbers are accepted.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs), or (n_outputs,) for one 1-D sample
            The output layer's activations (probabilities for sigmoid/softmax outputs).

        Raises
        ------
        InputError
            For a wrong number of columns, or values that are not finite numbers.
        """
        single = np.ndim(X) == 1 and np.size(X) == self.n_inputs
        out = self.forward(self.as_inputs(X))
        return out[0] if single else out

    def predictor(self) -> Predictor:
        """`predict` for one row at a time, checked once: bit-identical outputs (`chainrule.nn.predictor`).

        Returns
        -------
        Predictor
            A callable taking one row of ``n_inputs`` values and returning its outputs, with
            less per-call overhead than `predict` (for serving one request at a time).
        """
        return Predictor(self.layers, self.dtype, self.predict)

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities: softmax rows, or ``[1 - p, p]`` for one sigmoid output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            Inputs, as for `predict`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Each row sums to 1; a single sigmoid output gives two columns.
        """
        out = self.predict(X)
        if out.ndim == 2 and out.shape[1] == 1:
            return np.hstack([1.0 - out, out])
        return out

    def predict_classes(self, X: Any) -> Array:
        """Class indices: argmax of several outputs, or ``out > 0.5`` for one output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            Inputs, as for `predict`.

        Returns
        -------
        ndarray of int, shape (n_samples,)
            The predicted class of each sample.
        """
        return class_indices(np.atleast_2d(self.predict(X)))

    def evaluate(
        self, X: Any, y: Any, loss: str | Loss | None = None, metrics: Sequence[str] | None = None
    ) -> dict[str, float]:
        """The loss and metrics of the network's predictions on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            Inputs.
        y : array-like of shape (n_samples, n_outputs) or (n_samples,)
            Targets; integer class labels for a softmax output are one-hot encoded.
        loss : str or Loss, optional
            Default: the loss the network was trained with, else the default for its output
            activation (see `resolve_loss`).
        metrics : list of str, optional
            Default: accuracy for classification losses, mse and mae for regression.

        Returns
        -------
        dict of str to float
            ``"loss"`` and one entry per metric, e.g. ``{"loss": 0.72, "accuracy": 0.5}``.
        """
        X, y = self.as_inputs(X), self.as_targets(y)
        check_lengths(X, y)
        loss_fn = self.resolve_loss(loss)
        out = self.forward(X)
        result = {"loss": loss_fn(y, out)}
        for name in metrics if metrics is not None else default_metrics(loss_fn):
            result[name] = get_metric(name)(y, out)
        return result

    # ------------------------------------------------------------------------ gradients
    def gradients(
        self, X: Any, y: Any, loss: str | Loss | None = None, fused: bool = True
    ) -> list[dict[str, Array]]:
        """dLoss/dParam for the batch ``(X, y)``: per layer, a dict with the keys of ``params``.

        With ``fused`` (the default) a fusing output/loss pair takes the output delta
        ``(out - y)/n`` directly, as training does; ``fused=False`` runs the chain rule term
        by term (the same numbers, up to rounding).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
            The batch's inputs.
        y : array-like of shape (n_samples, n_outputs) or (n_samples,)
            The batch's targets.
        loss : str or Loss, optional
            Default as in `evaluate`.
        fused : bool
            Use the fused output delta where the output activation and loss allow it.

        Returns
        -------
        list of dict of str to ndarray
            Per layer, copies of dLoss/dparam with the keys and shapes of its ``params``
            (``"W"`` of shape ``(n_in, n_out)``, ``"b"`` of shape ``(n_out,)``).
        """
        X, y = self.as_inputs(X), self.as_targets(y)
        check_lengths(X, y)
        loss_fn = self.resolve_loss(loss)
        out = self.forward(X, training=True)
        use_fused = fused and loss_fn.fuses_with(self.output_activation)
        grad = loss_fn.fused_delta(y, out) if use_fused else loss_fn.gradient(y, out)
        self.backward(grad, grad_is_delta=use_fused)
        return [{key: grad.copy() for key, grad in layer.grads.items()} for layer in self.layers]

    # ------------------------------------------------------------------------- training
    def fit(self, X: Any, y: Any, **options: Any) -> History:
        """Train on ``(X, y)`` (see `chainrule.fit`); return the `History`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs), or a callable returning batches
            The training inputs (see `chainrule.fit`).
        y : array-like of shape (n_samples, n_outputs), or None with a batch function
            The training targets.
        **options
            ``loss``, ``optimizer``, ``lr``, ``epochs``, ... as `FitSettings` documents them
            (their one home; ``inspect.signature`` lists them with their defaults).

        Returns
        -------
        History
            The loss and metrics of every epoch, as lists (``history["loss"]``).
        """
        return fit(self, X, y, **options)

    # -------------------------------------------------------------------------- weights
    def get_weights(self) -> list[dict[str, Array]]:
        """A copy of every layer's parameters, in layer order.

        Returns
        -------
        list of dict of str to ndarray
            Per layer, ``{"W": ..., "b": ...}`` (a Dropout layer's dict is empty); copies, so
            later training does not change them.
        """
        return [{key: value.copy() for key, value in layer.params.items()} for layer in self.layers]

    def set_weights(self, weights: Sequence[dict[str, Any]]) -> None:
        """Copy values into the parameters in place (shapes must match; dtype is kept).

        Parameters
        ----------
        weights : sequence of dict of str to array-like
            One dict per layer with the same keys and shapes as `get_weights` returns.

        Raises
        ------
        ValueError
            For a different number of layers, other keys or another shape.
        """
        if len(weights) != len(self.layers):
            raise ValueError(f"expected weights for {len(self.layers)} layers, got {len(weights)}")
        for i, (layer, values) in enumerate(zip(self.layers, weights, strict=True)):
            if set(values) != set(layer.params):
                raise ValueError(f"layer {i} has parameters {sorted(layer.params)}, got {sorted(values)}")
            for key, value in values.items():
                value = np.asarray(value)
                if value.shape != layer.params[key].shape:
                    raise ValueError(
                        f"layer {i} {key} has shape {layer.params[key].shape}, got {value.shape}"
                    )
                np.copyto(layer.params[key], value, casting="same_kind")

    def save(self, path: Any, metadata: dict[str, Any] | None = None) -> None:
        """Save to a ``.npz`` file; see `chainrule.save`.

        Parameters
        ----------
        path : str or path-like
            Where to write; the file is replaced atomically.
        metadata : dict, optional
            JSON-serialisable notes stored with the model (``load`` gives them back as
            ``net.metadata``).
        """
        save(self, path, metadata=metadata)

    # ---------------------------------------------------------------------- conversions
    def as_inputs(self, X: Any) -> Array:
        """``X`` as a checked 2-D array of the network's dtype with ``n_inputs`` columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs) or (n_inputs,)
            Inputs; one 1-D sample becomes one row.

        Returns
        -------
        ndarray of shape (n_samples, n_inputs)
            Of the network's dtype.

        Raises
        ------
        InputError
            For a wrong shape, non-numeric or non-finite values, naming the fix.
        """
        return as_matrix(X, "X", self.dtype, n_columns=self.n_inputs)

    def as_targets(self, y: Any) -> Array:
        """``y`` as a checked 2-D array of the network's dtype with ``n_outputs`` columns.

        For a softmax output, integer class labels ``0 .. n_outputs-1`` (one per sample, Keras'
        "sparse" targets) are one-hot encoded here.

        Parameters
        ----------
        y : array-like of shape (n_samples, n_outputs) or (n_samples,)
            Targets.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            Of the network's dtype.

        Raises
        ------
        InputError
            For a wrong shape (with the fix: a column, or one-hot labels), or bad values.
        """
        return as_targets(
            y, self.n_outputs, self.dtype, sparse_labels=self.output_activation.name == "softmax"
        )

    def resolve_loss(self, loss: str | Loss | None) -> Loss:
        """``loss`` by name or instance; else the network's own (from `fit`), else the default.

        Parameters
        ----------
        loss : str or Loss or None
            A loss name (see `chainrule.get_loss`), an instance, or None.

        Returns
        -------
        Loss
            ``loss`` when given; else the loss of the last `fit`; else the default for the
            output activation (cross-entropy for sigmoid/softmax, mse otherwise).
        """
        if loss is not None:
            return get_loss(loss)
        if self.loss is not None:
            return self.loss
        return default_loss(self.output_activation)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Network([{inner}], dtype={self.dtype.name})"


def fit(net: Network, X: Any, y: Any, **options: Any) -> History:
    """Train ``net`` on ``(X, y)`` by backpropagation and return the per-epoch `History`.

    Parameters
    ----------
    net : Network
        The network to train, in place.
    X : array-like of shape (n_samples, n_inputs), or a callable returning batches
        See `chainrule.train.prepare.prepare` (memory-mapped arrays, batch functions).
    y : array-like of shape (n_samples, n_outputs), or None with a batch function
        The targets; integer class labels for a softmax output are one-hot encoded.
    **options
        ``loss``, ``optimizer``, ``lr``, ``epochs``, ``batch_size``, ...: the options that
        `chainrule.train.settings.FitSettings` names, defaults, documents and checks (their
        one home; ``inspect.signature(chainrule.fit)`` lists them with their defaults).

    Returns
    -------
    History
        The loss and metrics of every epoch, as lists (``history["loss"]``), with the
        optimizer's learning rate.

    Notes
    -----
    Settings are checked first, then a network whose dtype follows its data is cast (all layers
    or none), then the data and any checkpoint; a failure or Ctrl-C before the first epoch puts
    the exact previous arrays back. What training guarantees: `chainrule.train.prepare.prepare`.

    Examples
    --------
    XOR, learned by a 2-3-1 sigmoid network in full-batch gradient descent:

    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    >>> history = cr.fit(net, X, y, optimizer=cr.Adam(lr=0.1), epochs=500)
    >>> len(history["loss"]), round(history["loss"][-1], 3) < 0.05
    (500, True)
    >>> net.predict_classes(X)
    array([0, 1, 1, 0])
    """
    settings = FitSettings(**options)
    undo = train = None
    try:
        if net.dtype_from_data:  # float32 data trains a float32 network, without an upcast copy
            undo = net.cast_for_training("float32" if getattr(X, "dtype", None) == np.float32 else net.dtype)
        source, run, start = settings.resume_from, None, None
        if source is not None:
            run, start = read_checkpoint(source, net, settings.trainer)
        start_run = prepare if settings.full_batch is None else prepare_lbfgs  # L-BFGS: its own driver
        train = start_run(net, X, y, settings, run=run, resume=start, resume_source=str(source))
        return train()
    except BaseException:
        if undo is not None and (train is None or not train.started):
            undo()
        raise


with_fit_options(fit, leading=3)
with_fit_options(Network.fit, leading=3)


def load(path: str | os.PathLike[str], *, max_bytes: int = MAX_MODEL_BYTES) -> Network:
    """Read a network written by `save` (or a checkpoint, as a plain model).

    Loading never executes code (no pickles; a JSON header) and is bounded: every array's
    header is checked before any data is read; over ``max_bytes`` of arrays is refused.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` model file.
    max_bytes : int
        The most array data to accept.

    Returns
    -------
    Network
        The network with its weights, loss and ``metadata``.

    Raises
    ------
    ModelFileError
        If the file is not a chainrule model, is truncated or corrupt, comes from a newer
        format version, or its arrays disagree with its header.
    FileNotFoundError
        If there is no such file.
    """
    file = read_model_file(path, max_bytes)
    try:
        net = Network(file.layers(), dtype=file.dtype)
        net.loss = get_loss(file.header["loss"]) if file.header.get("loss") else None
        net.metadata = dict(file.header.get("metadata") or {})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: the header does not describe a valid network ({exc})") from None
    return net
