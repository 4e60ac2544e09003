"""Export a network to ONNX, so it can be served without Python or chainrule.

Each Dense layer becomes ``MatMul`` + ``Add`` and its activation the matching ONNX operator
(``Sigmoid``, ``Tanh``, ``Relu``, ``LeakyRelu``, ``Softmax``; identity adds nothing); dropout
is the identity at inference and is left out. A `TableModel` (what ``chainrule train`` and
``chainrule.train_table`` make) carries its scaling into the graph: the input is the table's
feature columns in original units (the categorical ones one-hot, in the order of the
``feature_names`` metadata entry), and a regression output comes back in the target's units.
Input features derived from raw columns (`chainrule.io.derived`: x1², x1·x2, sin x1) are
computed in the graph (``Mul``, ``Sin``), so it takes the raw columns, as
`TableModel.predict` does (`onnx_columns` lists them). A fitted `NeuralNetRegressor` carries
its target scaling the same way; a fitted `NeuralNetClassifier` exports as scikit-learn
classifiers do in ONNX: a ``label`` output (the class, integer or string; a 0/1 matrix for
multi-label targets) and a ``probabilities`` output (one column per class, in ``classes_``
order; the ``classes`` metadata entry lists them).

The file uses opset 13 (the first with today's ``Softmax(axis=-1)``) and the lowest IR
version that opset allows (7), so onnxruntime 1.17, the oldest the ``onnx`` extra allows,
reads it (it reads IR <= 9 and opset <= 20). Needs ``pip install "chainrule[onnx]"``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.io.atomic import atomic_write
from chainrule.io.derived import FORMULAS
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.nn.checks import check_int
from chainrule.nn.layers import Dense, Dropout, Layer

if TYPE_CHECKING:
    from chainrule.network import Network

OPSET = 13
#: The oldest opset written (and tested): 13, the default; the newest is the installed onnx's.
MIN_OPSET = OPSET
#: Each activation's ONNX operator (identity adds no node; leaky_relu and softmax take attributes).
ONNX_ACTIVATIONS = {
    "identity": "",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "leaky_relu": "LeakyRelu",
    "softmax": "Softmax",
}


class Emitter:
    """Collects graph pieces, with names unique in the graph: nodes and constants.

    `export_onnx` turns them into a graph; the skl2onnx converter adds them to its container.
    """

    def __init__(self, dtype: np.dtype, unique: Callable[[str], str] = lambda name: name) -> None:
        self.dtype, self.unique = np.dtype(dtype), unique
        self.nodes: list[tuple[str, list[str], str, dict[str, Any]]] = []
        self.constants: list[tuple[str, np.ndarray]] = []

    def constant(self, name: str, value: Any, keep_type: bool = False) -> str:
        """Add a constant (of the graph's float type unless ``keep_type``); return its name."""
        name = self.unique(name)
        self.constants.append((name, np.asarray(value) if keep_type else np.asarray(value, dtype=self.dtype)))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        """Add an ``op`` node with one output; return the output's name."""
        output = self.unique(output)
        self.nodes.append((op, inputs, output, attributes))
        return output


def network_of(model: Any) -> Network:
    """The `Network` of a network, a `TableModel` or a fitted chainrule estimator; else TypeError."""
    net = getattr(model, "network_", None)
    if net is None:
        net = getattr(model, "network", model)
    layers = getattr(net, "layers", None)
    if not isinstance(layers, list) or not all(isinstance(layer, Layer) for layer in layers):
        raise TypeError(
            "export_onnx needs a chainrule Network, TableModel or fitted estimator, "
            f"got {type(model).__name__}"
        )
    return net


def preprocessing_of(model: Any, net: Network) -> TablePreprocessor | None:
    """The table preprocessing of a `TableModel`, or stored in a network's metadata; else None."""
    prep = getattr(model, "preprocessor", None)
    if isinstance(prep, TablePreprocessor):
        return prep
    stored = net.metadata.get("preprocessing")
    return TablePreprocessor.from_dict(stored) if stored is not None else None


def emit_model(model: Any, source: str, emit: Emitter) -> dict[str, str]:
    """Add ``model``'s inference graph reading ``source``; return its outputs by name.

    The outputs are ``{"output": ...}``, or ``{"label": ..., "probabilities": ...}`` for a
    chainrule classifier estimator.
    """
    net = network_of(model)
    prep = preprocessing_of(model, net)
    current = source if prep is None or not prep.derived else _derive(emit, prep, source)
    if prep is not None and prep.numeric:
        n_onehot = net.n_inputs - len(prep.numeric)
        offset = np.concatenate([prep.scaler.offset, np.zeros(n_onehot)])
        scale = np.concatenate([prep.scaler.scale, np.ones(n_onehot)])
        centred = emit.node("Sub", [current, emit.constant("scaler_offset", offset)], "centred")
        current = emit.node("Div", [centred, emit.constant("scaler_scale", scale)], "scaled")
    number = 0
    for layer in net.layers:
        if isinstance(layer, Dropout):
            continue
        if not isinstance(layer, Dense):
            raise TypeError(f"cannot export layer {layer!r} to ONNX")
        number += 1
        current = emit.node(
            "MatMul", [current, emit.constant(f"W{number}", layer.params["W"])], f"xw{number}"
        )
        if layer.bias:
            current = emit.node(
                "Add", [current, emit.constant(f"b{number}", layer.params["b"])], f"z{number}"
            )
        current = _activation(emit, layer, current, f"a{number}", number)
    target = None
    if prep is not None and prep.task == "regression":
        target = (prep.target_scaler.scale, prep.target_scaler.offset)
    elif hasattr(model, "_y_scale"):  # NeuralNetRegressor's target_scaling
        target = (model._y_scale, model._y_mean)
    if target is not None:
        scaled = emit.node("Mul", [current, emit.constant("target_scale", target[0])], "target_scaled")
        current = emit.node("Add", [scaled, emit.constant("target_offset", target[1])], "target")
    if hasattr(model, "classes_") and hasattr(model, "_label_binarizer"):
        return _classifier_outputs(model, current, emit)
    return {"output": current}


def onnx_columns(prep: TablePreprocessor) -> list[str]:
    """The columns a table model's graph takes: its raw numeric columns, then the one-hot ones.

    Without derived features these are ``prep.feature_names``, the network's own inputs.

    Parameters
    ----------
    prep : TablePreprocessor

    Returns
    -------
    list of str
    """
    numeric = [c for c in prep.inputs if c not in prep.categorical]
    return [*numeric, *prep.feature_names[len(prep.numeric) :]]


def _derive(emit: Emitter, prep: TablePreprocessor, source: str) -> str:
    """The network's unscaled inputs from the raw columns `onnx_columns` lists: each derived
    feature computed by its formula's ONNX operator, then the one-hot columns."""
    columns, made = onnx_columns(prep), {step.name: step for step in prep.derived}

    def pick(indices: list[int], name: str) -> str:
        index = emit.constant(f"{name}_index", np.array(indices, dtype=np.int64), keep_type=True)
        return emit.node("Gather", [source, index], name, axis=1)

    parts = []
    for j, name in enumerate(prep.numeric):
        if name not in made:
            parts.append(pick([columns.index(name)], f"raw{j}"))
            continue
        step = made[name]
        inputs = [pick([columns.index(c)], f"raw{j}_{k}") for k, c in enumerate(step.of)]
        if FORMULAS[step.formula].onnx == "Mul" and len(inputs) == 1:
            inputs = inputs * 2  # a square: the column times itself
        parts.append(emit.node(FORMULAS[step.formula].onnx, inputs, f"derived{j}"))
    n_raw = len(columns) - (len(prep.feature_names) - len(prep.numeric))
    if n_raw < len(columns):
        parts.append(pick(list(range(n_raw, len(columns))), "one_hot"))
    return emit.node("Concat", parts, "features", axis=1) if len(parts) > 1 else parts[0]


def _classifier_outputs(model: Any, probabilities: str, emit: Emitter) -> dict[str, str]:
    from onnx import TensorProto

    if model._multilabel():
        above = emit.node("Greater", [probabilities, emit.constant("half", [0.5])], "above_half")
        indicators = emit.node("Cast", [above], "label_indicators", to=TensorProto.INT64)
        return {"label": indicators, "probabilities": probabilities}
    if model.network_.n_outputs == 1:
        rest = emit.node("Sub", [emit.constant("one", [1.0]), probabilities], "negative")
        probabilities = emit.node("Concat", [rest, probabilities], "both_probabilities", axis=1)
    index = emit.node("ArgMax", [probabilities], "class_index", axis=1, keepdims=0)
    classes = emit.constant("classes", onnx_classes(model.classes_), keep_type=True)
    return {
        "label": emit.node("Gather", [classes, index], "class_label", axis=0),
        "probabilities": probabilities,
    }


def onnx_classes(classes: Any) -> np.ndarray:
    """Class labels as ONNX holds them: int64 for integer (or boolean) labels, else strings."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iub" or (classes.dtype.kind == "f" and np.all(classes == np.round(classes))):
        return classes.astype(np.int64)
    return np.array([str(c) for c in classes], dtype=object)


def export_onnx(
    model: Any, path: str | os.PathLike[str], *, dtype: str = "float32", opset: int = OPSET
) -> Any:
    """Write ``model`` (a `Network`, a `TableModel`, or a fitted chainrule estimator) to ``path``.

    A `TableModel`'s graph takes its table's feature columns in original units (numeric ones
    first, then the one-hot ``column=category`` ones, as `onnx_columns` lists them; derived
    features such as x1² are computed in the graph from their raw columns): the scaling is
    inside the graph, and a regression output comes back in the
    target's units. Its ``model.network`` alone exports a graph of preprocessed inputs.

    Parameters
    ----------
    model : Network, TableModel, NeuralNetClassifier or NeuralNetRegressor
        The model to export; an estimator must be fitted.
    path : str or path-like
        The ``.onnx`` file to write.
    dtype : "float32" or "float64"
        The graph's input, weights and output type; float32 is what ONNX runtimes serve.
    opset : int, default 13
        The ONNX operator set, from 13 to the newest the installed onnx knows (ValueError
        outside); the IR version is the lowest it allows.

    Returns
    -------
    onnx.ModelProto
        The exported model, already checked with ``onnx.checker``.

    Raises
    ------
    ImportError
        Without onnx (``pip install "chainrule[onnx]"``).
    ValueError
        For NaN or infinite weights, or another dtype.

    Examples
    --------
    ONNX Runtime's outputs match `Network.predict` to float32 precision:

    >>> import os, tempfile
    >>> import numpy as np
    >>> import onnxruntime
    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> X = np.array([[0, 1], [1, 0]], dtype=np.float32)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "net.onnx")
    ...     graph = cr.export_onnx(net, path)
    ...     session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    ...     out = session.run(None, {"input": X})[0]
    >>> [node.name for node in graph.graph.input], [node.name for node in graph.graph.output]
    (['input'], ['output'])
    >>> bool(np.abs(out - net.predict(X)).max() < 1e-6)
    True
    """
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError('ONNX export needs onnx: pip install "chainrule[onnx]"') from None

    newest = onnx.defs.onnx_opset_version()
    opset = check_int("opset", opset)
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"cannot write ONNX opset {opset}: supported: {MIN_OPSET} to {newest} (the newest this "
            f"onnx {onnx.__version__} knows; onnxruntime 1.17 reads up to 20); the default is {OPSET}"
        )
    net = network_of(model)
    if not all(np.isfinite(value).all() for layer in net.layers for value in layer.params.values()):
        raise ValueError("cannot export a network with NaN or infinite weights (did training diverge?)")
    np_dtype = np.dtype(dtype)
    if np_dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    elem = TensorProto.FLOAT if np_dtype == np.float32 else TensorProto.DOUBLE
    prep = preprocessing_of(model, net)
    n_columns = net.n_inputs if prep is None else len(onnx_columns(prep))
    emit = Emitter(np_dtype)
    outputs = emit_model(model, "input", emit)
    nodes = [
        helper.make_node(op, inputs, [output], name=f"{op}_{output}", **attributes)
        for op, inputs, output, attributes in emit.nodes
    ]
    graph_outputs = []
    for name, value in outputs.items():
        nodes.append(helper.make_node("Identity", [value], [name], name=f"Identity_{name}"))
        if name == "label":
            label_type = helper.np_dtype_to_tensor_dtype(onnx_classes(model.classes_).dtype)
            shape = ["batch", net.n_outputs] if model._multilabel() else ["batch"]
            graph_outputs.append(helper.make_tensor_value_info(name, label_type, shape))
        else:
            width = len(model.classes_) if name == "probabilities" else net.n_outputs
            graph_outputs.append(helper.make_tensor_value_info(name, elem, ["batch", width]))
    graph = helper.make_graph(
        nodes,
        "chainrule_network",
        [helper.make_tensor_value_info("input", elem, ["batch", n_columns])],
        graph_outputs,
        [numpy_helper.from_array(value, name) for name, value in emit.constants],
    )
    from chainrule._version import __version__

    opsets = [helper.make_opsetid("", opset)]
    onnx_model = helper.make_model(
        graph,
        producer_name="chainrule",
        producer_version=__version__,
        opset_imports=opsets,
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    metadata = {"sizes": "-".join(map(str, net.sizes))}
    if prep is not None:
        metadata.update(
            feature_names=",".join(onnx_columns(prep)), task=prep.task, classes=",".join(prep.classes)
        )
    if hasattr(model, "classes_"):
        metadata["classes"] = ",".join(map(str, model.classes_))
    if hasattr(model, "feature_names_in_"):
        metadata["feature_names"] = ",".join(map(str, model.feature_names_in_))
    helper.set_model_props(onnx_model, metadata)
    onnx.checker.check_model(onnx_model, full_check=True)
    with atomic_write(path) as stream:
        stream.write(onnx_model.SerializeToString())
    return onnx_model


def _activation(emit: Emitter, layer: Dense, z: str, out: str, number: int) -> str:
    """The ONNX node of Dense layer ``number``'s activation (none for identity)."""
    name = layer.activation.name
    if name not in ONNX_ACTIVATIONS:
        raise ValueError(
            f"cannot export to ONNX: layer {number}'s activation {name!r} has no ONNX form here; "
            f"exportable activations: {', '.join(ONNX_ACTIVATIONS)} (train with one of them, or "
            "serve this network with chainrule)"
        )
    if name == "identity":
        return z
    if name == "leaky_relu":
        return emit.node("LeakyRelu", [z], out, alpha=layer.activation.alpha)
    if name == "softmax":
        return emit.node("Softmax", [z], out, axis=-1)
    return emit.node(ONNX_ACTIVATIONS[name], [z], out)
