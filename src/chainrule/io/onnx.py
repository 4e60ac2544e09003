"""Export a network to ONNX, so it can be served without Python or chainrule.

Each Dense layer becomes ``MatMul`` + ``Add`` and its activation the matching ONNX operator
(``Sigmoid``, ``Tanh``, ``Relu``, ``LeakyRelu``, ``Softmax``; identity adds nothing); dropout
is the identity at inference and is left out. A model trained by ``chainrule train`` carries
its scaling into the graph: the input is the table's feature columns in original units (the
categorical ones one-hot, in the order of the ``feature_names`` metadata entry), and a
regression output comes back in the target's units. Needs ``pip install "chainrule[onnx]"``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from chainrule.io.atomic import atomic_write
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.nn.layers import Dense, Dropout, Layer

OPSET = 17


def export_onnx(
    model: Any, path: str | os.PathLike[str], *, dtype: str = "float32", opset: int = OPSET
) -> Any:
    """Write ``model`` (a `Network`, or a fitted chainrule scikit-learn estimator) to ``path``.

    Parameters
    ----------
    dtype : "float32" or "float64"
        The graph's input, weights and output type; float32 is what ONNX runtimes serve.

    Returns
    -------
    onnx.ModelProto
        The exported model, already checked with ``onnx.checker``.
    """
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError('ONNX export needs onnx: pip install "chainrule[onnx]"') from None

    net = getattr(model, "network_", model)
    layers = getattr(net, "layers", None)
    if not isinstance(layers, list) or not all(isinstance(layer, Layer) for layer in layers):
        raise TypeError(
            f"export_onnx needs a chainrule Network or fitted estimator, got {type(model).__name__}"
        )
    if not all(np.isfinite(value).all() for layer in layers for value in layer.params.values()):
        raise ValueError("cannot export a network with NaN or infinite weights (did training diverge?)")
    np_dtype = np.dtype(dtype)
    if np_dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    elem = TensorProto.FLOAT if np_dtype == np.float32 else TensorProto.DOUBLE
    prep = (
        TablePreprocessor.from_dict(net.metadata["preprocessing"])
        if "preprocessing" in net.metadata
        else None
    )

    nodes: list[Any] = []
    initializers: list[Any] = []

    def constant(name: str, value: Any) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value, dtype=np_dtype), name))
        return name

    current = "input"
    if prep is not None and prep.numeric:
        n_onehot = net.n_inputs - len(prep.numeric)
        offset = np.concatenate([prep.scaler.offset, np.zeros(n_onehot)])
        scale = np.concatenate([prep.scaler.scale, np.ones(n_onehot)])
        nodes.append(helper.make_node("Sub", [current, constant("scaler_offset", offset)], ["centred"]))
        nodes.append(helper.make_node("Div", ["centred", constant("scaler_scale", scale)], ["scaled"]))
        current = "scaled"
    dense_count = 0
    for layer in net.layers:
        if isinstance(layer, Dropout):
            continue
        if not isinstance(layer, Dense):
            raise TypeError(f"cannot export layer {layer!r} to ONNX")
        dense_count += 1
        z = f"z{dense_count}"
        nodes.append(
            helper.make_node(
                "MatMul",
                [current, constant(f"W{dense_count}", layer.params["W"])],
                [f"xw{dense_count}" if layer.bias else z],
            )
        )
        if layer.bias:
            nodes.append(
                helper.make_node(
                    "Add", [f"xw{dense_count}", constant(f"b{dense_count}", layer.params["b"])], [z]
                )
            )
        current = _activation(helper, nodes, layer, z, f"a{dense_count}")
    if prep is not None and prep.task == "regression":
        nodes.append(
            helper.make_node(
                "Mul", [current, constant("target_scale", prep.target_scaler.scale)], ["target_scaled"]
            )
        )
        nodes.append(
            helper.make_node(
                "Add", ["target_scaled", constant("target_offset", prep.target_scaler.offset)], ["target"]
            )
        )
        current = "target"
    nodes.append(helper.make_node("Identity", [current], ["output"]))

    graph = helper.make_graph(
        nodes,
        "chainrule_network",
        [helper.make_tensor_value_info("input", elem, ["batch", net.n_inputs])],
        [helper.make_tensor_value_info("output", elem, ["batch", net.n_outputs])],
        initializers,
    )
    from chainrule._version import __version__

    onnx_model = helper.make_model(
        graph,
        producer_name="chainrule",
        producer_version=__version__,
        opset_imports=[helper.make_opsetid("", opset)],
    )
    metadata = {"sizes": "-".join(map(str, net.sizes))}
    if prep is not None:
        metadata.update(
            feature_names=",".join(prep.feature_names), task=prep.task, classes=",".join(prep.classes)
        )
    helper.set_model_props(onnx_model, metadata)
    onnx.checker.check_model(onnx_model, full_check=True)
    with atomic_write(path) as stream:
        stream.write(onnx_model.SerializeToString())
    return onnx_model


def _activation(helper: Any, nodes: list[Any], layer: Dense, z: str, out: str) -> str:
    name = layer.activation.name
    if name == "identity":
        return z
    if name == "leaky_relu":
        nodes.append(helper.make_node("LeakyRelu", [z], [out], alpha=layer.activation.alpha))
    elif name == "softmax":
        nodes.append(helper.make_node("Softmax", [z], [out], axis=-1))
    else:
        nodes.append(
            helper.make_node({"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}[name], [z], [out])
        )
    return out
