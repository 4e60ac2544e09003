"""scikit-learn estimators: drop-in `NeuralNetClassifier` and `NeuralNetRegressor`.

They take ``MLPClassifier``'s and ``MLPRegressor``'s parameters and reproduce their
training (the same losses, penalty scaling, SGD and Adam updates, schedules and stopping
rule), follow scikit-learn's conventions (``check_estimator`` passes) and add what the MLP
estimators do not offer: per-layer activations, leaky ReLU, dropout, every chainrule loss,
RMSprop, ``class_weight``, callbacks with progress output, target standardisation, the
validation-loss curve and ONNX export (``chainrule.export_onnx``, and a converter for
``skl2onnx`` registered when skl2onnx is installed, so whole pipelines convert). Needs
``pip install "chainrule[sklearn]"``.
"""

from __future__ import annotations

import importlib.util
import warnings

try:
    import sklearn.base  # noqa: F401
except ImportError as exc:  # say which extra brings it, not a bare "No module named 'sklearn'"
    raise ModuleNotFoundError(
        f'chainrule.sklearn needs scikit-learn ({exc}): pip install "chainrule[sklearn]"', name="sklearn"
    ) from None

from chainrule.sklearn._estimators import NeuralNetClassifier, NeuralNetRegressor

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

if importlib.util.find_spec("skl2onnx") is not None:
    try:
        from chainrule.sklearn._onnx_converter import register_skl2onnx

        register_skl2onnx()
    except Exception as exc:  # a broken skl2onnx must not break the estimators
        warnings.warn(
            f"skl2onnx is installed but chainrule's converter was not registered: {exc}", stacklevel=2
        )
