"""What a generated C header computes, read from a model: layers, preprocessing, outputs.

`CModel` gathers the facts once, from the model's own fields (the network's layers, a table
model's `TablePreprocessor`, a fitted estimator's classes and target scaling), the same facts
`chainrule.io.onnx` compiles into a graph. Both the C emitters and the NumPy references of the
tests read this one object, so what the header does and what it is checked against cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.io.derived import FORMULAS
from chainrule.io.onnx import network_of, preprocessing_of
from chainrule.nn.layers import Dense, Dropout

#: The activations a header can compute.
C_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax")


@dataclass
class CLayer:
    """One Dense layer: ``W`` of shape ``(n_in, n_out)``, ``b`` (zeros without a bias), activation."""

    W: np.ndarray
    b: np.ndarray
    activation: str
    alpha: float = 0.0
    has_bias: bool = True

    @property
    def n_in(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[1])

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pre-activation and activation in float64, as ``Dense.forward`` computes them."""
        z = x @ self.W + self.b
        return z, activate(self.activation, z, self.alpha)


def activate(name: str, z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """The activation ``name`` of ``z`` (rows), in NumPy."""
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.maximum(z, alpha * z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return z


@dataclass
class CModel:
    """Everything a header compiles in.

    Attributes
    ----------
    input_names : list of str
        The header's inputs, in order: numeric columns, then one per categorical column.
    offset, scale : ndarray
        The numeric columns' scaling ``(x - offset) / scale``.
    categories : dict of str to list of str
        Each categorical column's categories; the input is the category's index.
    layers : list of CLayer
    kind : str
        ``"classifier"``, ``"regression"`` or ``"network"`` (outputs as the network gives them).
    class_labels : list of str
        The classes in output order (classifiers).
    target_scale, target_offset : float
        A regression output is ``out * target_scale + target_offset``.
    derived : list of (str, tuple of int)
        When some numeric network inputs are derived from raw columns (x1², sin x1): for each
        numeric network input, its `chainrule.io.derived.FORMULAS` name (``""``: a raw input
        itself) and the positions of the header inputs it is computed from.
    """

    input_names: list[str]
    layers: list[CLayer]
    offset: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0))
    categories: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "network"
    class_labels: list[str] = field(default_factory=list)
    target_scale: float = 1.0
    target_offset: float = 0.0
    derived: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def n_features(self) -> int:
        """The network's inputs: numeric columns, then the one-hot columns."""
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def n_numeric(self) -> int:
        return len(self.offset)

    @property
    def n_raw(self) -> int:
        """The header's numeric inputs (as many as `n_numeric` unless some are derived)."""
        return self.n_inputs - len(self.categories)

    def numeric(self, inputs: np.ndarray) -> np.ndarray:
        """The unscaled numeric network inputs of header inputs, in their dtype: derived ones computed."""
        if not self.derived:
            return inputs[:, : self.n_numeric]
        columns = [
            FORMULAS[name].function(*(inputs[:, i] for i in at)) if name else inputs[:, at[0]]
            for name, at in self.derived
        ]
        return np.column_stack(columns)

    @property
    def max_width(self) -> int:
        return max(self.n_features, *(layer.n_out for layer in self.layers))

    def features(self, inputs: np.ndarray) -> np.ndarray:
        """The network's inputs for header inputs (float64): scaling and one-hot, as the C does."""
        inputs = np.atleast_2d(np.asarray(inputs, dtype=np.float64))
        blocks = [(self.numeric(inputs) - self.offset) / self.scale]
        for j, cats in enumerate(self.categories.values()):
            column = inputs[:, self.n_raw + j]
            blocks.append((column[:, None] == np.arange(len(cats))[None, :]).astype(np.float64))
        return np.hstack(blocks)

    def outputs(self, network_outputs: np.ndarray) -> np.ndarray:
        """Network outputs as the header's predict gives them (regression: target units)."""
        if self.kind == "regression":
            return network_outputs * self.target_scale + self.target_offset
        return network_outputs

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """What the float header computes, in float64 (the reference of the tests)."""
        x = self.features(inputs)
        for layer in self.layers:
            x = layer.forward(x)[1]
        return self.outputs(x)


def c_model(model: Any) -> CModel:
    """The `CModel` of a `Network`, a `TableModel` or a fitted chainrule estimator.

    Raises
    ------
    TypeError
        For another object, or a layer the header cannot compute.
    ValueError
        For non-finite weights.
    """
    net = network_of(model)
    layers = []
    for layer in net.layers:
        if isinstance(layer, Dropout):
            continue
        if not isinstance(layer, Dense) or layer.activation.name not in C_ACTIVATIONS:
            raise TypeError(f"cannot export layer {layer!r} to C")
        W = np.asarray(layer.params["W"], dtype=np.float64)
        b = np.asarray(layer.params["b"], dtype=np.float64) if layer.bias else np.zeros(W.shape[1])
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ValueError("cannot export a network with NaN or infinite weights (did training diverge?)")
        alpha = float(getattr(layer.activation, "alpha", 0.0))
        layers.append(CLayer(W, b, layer.activation.name, alpha, bool(layer.bias)))
    spec = CModel([f"x{i}" for i in range(net.n_inputs)], layers)
    prep = preprocessing_of(model, net)
    if prep is not None:
        raw = [c for c in prep.inputs if c not in prep.categorical]
        spec.input_names = [*raw, *prep.categorical]
        made = {step.name: step for step in prep.derived}
        if made:
            spec.derived = [
                (made[c].formula, tuple(raw.index(s) for s in made[c].of))
                if c in made
                else ("", (raw.index(c),))
                for c in prep.numeric
            ]
        spec.offset = np.asarray(prep.scaler.offset, dtype=np.float64)
        spec.scale = np.asarray(prep.scaler.scale, dtype=np.float64)
        spec.categories = {k: list(v) for k, v in prep.categorical.items()}
        if prep.task == "regression":
            spec.kind = "regression"
            spec.target_scale = float(prep.target_scaler.scale[0])
            spec.target_offset = float(prep.target_scaler.offset[0])
        else:
            spec.kind, spec.class_labels = "classifier", [str(c) for c in prep.classes]
    else:
        spec.offset, spec.scale = np.zeros(net.n_inputs), np.ones(net.n_inputs)
        _estimator_facts(model, spec)
    return spec


def _estimator_facts(model: Any, spec: CModel) -> None:
    """A fitted estimator's column names, classes or target scaling (read as ONNX export does)."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None and len(names) == spec.n_inputs:
        spec.input_names = [str(n) for n in names]
    if hasattr(model, "_y_scale"):  # NeuralNetRegressor's target_scaling
        spec.kind = "regression"
        spec.target_scale = float(np.ravel(model._y_scale)[0])
        spec.target_offset = float(np.ravel(model._y_mean)[0])
    elif hasattr(model, "classes_") and not getattr(model, "_multilabel", lambda: False)():
        spec.kind, spec.class_labels = "classifier", [str(c) for c in model.classes_]
    elif spec.layers[-1].activation in ("softmax", "sigmoid") and spec.kind == "network":
        if spec.layers[-1].activation == "softmax" or spec.n_outputs == 1:
            count = max(spec.n_outputs, 2)
            spec.kind, spec.class_labels = "classifier", [str(i) for i in range(count)]


def raw_inputs(spec: CModel, rows: Any, preprocessor: Any = None) -> np.ndarray:
    """Rows as the header takes them: numeric values, then each category's index.

    ``rows`` is a DataFrame or dict of columns for a table model, whose ``preprocessor`` (its
    `TablePreprocessor`) reads the categories (its one-hot columns give each index), or an
    array of network inputs for a plain network.
    """
    if preprocessor is None:
        return np.atleast_2d(np.asarray(rows, dtype=np.float64))
    import pandas as pd

    frame = rows if hasattr(rows, "columns") else pd.DataFrame(rows)
    one_hot = preprocessor.transform(frame)
    out = np.empty((len(frame), spec.n_inputs))
    for j, name in enumerate(spec.input_names[: spec.n_raw]):
        out[:, j] = pd.to_numeric(frame[name]).to_numpy(dtype=np.float64)
    start = spec.n_numeric  # the one-hot columns follow the numeric network inputs
    for j, cats in enumerate(spec.categories.values()):
        out[:, spec.n_raw + j] = one_hot[:, start : start + len(cats)].argmax(axis=1)
        start += len(cats)
    return out
