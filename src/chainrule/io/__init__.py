"""Files: atomic writes, model files, checkpoints, ONNX export, and the table preprocessing
that model files carry.

Built on `chainrule.nn` and `chainrule.train`; loading never executes code.
"""
