"""A skl2onnx converter for the estimators, so ``skl2onnx.to_onnx(pipeline)`` converts a pipeline
that ends in (or contains) a chainrule estimator.

The graph is the one `chainrule.export_onnx` writes (`chainrule.io.onnx.emit_model`), added
to skl2onnx's container; a classifier has skl2onnx's usual ``label`` and ``probabilities``
outputs (and its ``zipmap`` option). Registered on ``import chainrule.sklearn`` when
skl2onnx is installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.io.onnx import Emitter, emit_model
from chainrule.sklearn._estimators import NeuralNetClassifier, NeuralNetRegressor


def _convert(scope: Any, operator: Any, container: Any) -> None:
    from onnx import helper
    from skl2onnx.common.data_types import DoubleTensorType

    model = operator.raw_operator
    dtype = np.float64 if isinstance(operator.inputs[0].type, DoubleTensorType) else np.float32
    emit = Emitter(np.dtype(dtype), unique=scope.get_unique_variable_name)
    outputs = emit_model(model, operator.inputs[0].full_name, emit)
    for name, value in emit.constants:
        container.add_initializer(
            name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape, value.ravel().tolist()
        )
    for op, inputs, output, attributes in emit.nodes:
        container.add_node(op, inputs, [output], name=scope.get_unique_operator_name(op), **attributes)
    names = ["label", "probabilities"] if "label" in outputs else ["output"]
    for variable, name in zip(operator.outputs, names, strict=True):
        container.add_node(
            "Identity", [outputs[name]], [variable.full_name], name=scope.get_unique_operator_name("Identity")
        )


def _regressor_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    input_type = operator.inputs[0].type
    kind = DoubleTensorType if isinstance(input_type, DoubleTensorType) else FloatTensorType
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = kind([n, operator.raw_operator.n_outputs_])


def register_skl2onnx() -> None:
    """Register the converters with skl2onnx (done on import when skl2onnx is installed)."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    update_registered_converter(
        NeuralNetClassifier,
        "ChainruleNeuralNetClassifier",
        calculate_linear_classifier_output_shapes,
        _convert,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    update_registered_converter(NeuralNetRegressor, "ChainruleNeuralNetRegressor", _regressor_shape, _convert)
