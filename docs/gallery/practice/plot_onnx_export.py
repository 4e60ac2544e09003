"""
ONNX export and inference with onnxruntime
==========================================

``cr.export_onnx`` writes a trained ``Network`` (or a fitted chainrule scikit-learn estimator)
as an ONNX graph that any ONNX runtime can serve, without chainrule or Python on the other side.
Needs ``pip install "chainrule[onnx]"``. The graph computes what ``predict`` computes; in
float32 the two agree to within about 1e-6.
"""

import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.datasets import load_digits

import chainrule as cr

digits = load_digits()
X = (digits.data / 16.0).astype(np.float32)
net = cr.Network([64, 32, 10], activation="relu", output_activation="softmax", seed=0)
net.fit(X, digits.target, optimizer="adam", lr=0.01, epochs=15, batch_size=32)

path = Path(tempfile.mkdtemp()) / "digits.onnx"
model = cr.export_onnx(net, path)
for tensor in model.graph.input:
    print("input:", tensor.name, [d.dim_value or d.dim_param for d in tensor.type.tensor_type.shape.dim])
print("outputs:", [o.name for o in model.graph.output])
print("operators:", sorted({node.op_type for node in model.graph.node}))

# %%
# Inference in onnxruntime
# ------------------------
session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
onnx_out = session.run(None, {input_name: X[:100]})[0]
chainrule_out = net.predict(X[:100])
print("largest difference from chainrule's predict:", float(np.abs(onnx_out - chainrule_out).max()))
print("same classes:", bool(np.array_equal(onnx_out.argmax(axis=1), chainrule_out.argmax(axis=1))))
