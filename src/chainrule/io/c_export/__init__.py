"""Export a network to one dependency-free C header: float32, or int8 with integer-only loops.

`export_c` writes ``NAME.h``: C99 that is also valid C++, every function ``static inline`` (the
header can be included from several files), no allocation, no I/O, only ``<math.h>`` and
``<stdint.h>``. A table model's scaling, categories and class labels are compiled in, so the
device takes raw inputs in original units. `write_test_program` writes a program that includes
the header from two translation units and prints its outputs for given rows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule._version import __version__
from chainrule.io.atomic import atomic_write
from chainrule.io.c_export.cfloat import float_functions, float_scratch_bytes, float_weights
from chainrule.io.c_export.cint8 import (
    float_wrappers,
    int8_class_functions,
    int8_macros,
    int8_scratch_bytes,
    int8_weights,
    integer_functions,
)
from chainrule.io.c_export.ctext import declarations, describe, features_function, storage_macros
from chainrule.io.c_export.harness import write_test_program
from chainrule.io.c_export.quantize import QModel, quantize
from chainrule.io.c_export.spec import CModel, c_model, raw_inputs
from chainrule.io.onnx import network_of, preprocessing_of

__all__ = ["CExport", "export_c", "write_test_program"]


@dataclass
class CExport:
    """What `export_c` wrote: the header's text, and the facts it compiled in.

    Attributes
    ----------
    name : str
        The C name: functions are ``name_predict``..., macros ``NAME_N_INPUTS``...
    header : str
        The header's text.
    spec : CModel
        The layers, scaling, categories and labels (its ``predict`` is the float64 reference).
    quantized : QModel or None
        The int8 network (``quantize="int8"``); `chainrule.io.c_export.quantize.predict_q`
        is its NumPy integer reference.
    preprocessor : TablePreprocessor or None
        A table model's preprocessing, which reads raw rows for `write_test_program`.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     export = cr.export_c(net, os.path.join(folder, "xor.h"), name="xor")
    >>> export.name, "xor_predict" in export.header
    ('xor', True)
    >>> bool(np.allclose(export.spec.predict(np.array([[0.0, 1.0]])), net.predict([[0, 1]])))
    True
    """

    name: str
    header: str
    spec: CModel
    quantized: QModel | None = None
    preprocessor: Any = None

    def inputs(self, rows: Any) -> np.ndarray:
        """``rows`` as the header takes them (category indices for categorical columns).

        Parameters
        ----------
        rows : rows or array
            Raw rows of a table model (DataFrame or dict of columns) or network inputs.

        Returns
        -------
        ndarray of shape (n_rows, n_header_inputs)
            The values to pass to ``name_predict``: numeric columns in original units, then one
            category index per categorical column (a network's inputs unchanged).
        """
        return raw_inputs(self.spec, rows, self.preprocessor)


def export_c(
    model: Any,
    path: str | os.PathLike[str],
    name: str = "model",
    quantize: str | None = None,
    calibration: Any = None,
) -> CExport:
    """Write ``model`` as a C header (float32, or int8 with ``quantize="int8"``) to ``path``.

    Parameters
    ----------
    model : Network, TableModel or fitted chainrule estimator
        A table model's header takes raw inputs in original units (numeric columns, then one
        category index per categorical column) and gives probabilities (classifiers) or the
        target in its units (regression), as ``chainrule predict`` does.
    path : str or path-like
        The ``.h`` file to write.
    name : str, default "model"
        A C identifier: the functions are ``name_predict``..., the macros ``NAME_...``.
    quantize : None or "int8"
        ``"int8"``: int8 weights per output channel, int32 accumulators and TFLite's
        fixed-point rescaling; ``name_predict_q`` then runs on integers only.
    calibration : rows, array or str, optional
        Rows whose ranges set the int8 scales: raw rows (DataFrame, dict of columns, or a data
        file's path) for a table model, network inputs for a network. Default: the training
        data file the model's metadata names (``chainrule train`` records it).

    Returns
    -------
    CExport
        The header's text and the facts in it.

    Raises
    ------
    ValueError
        For a bad name, an unknown ``quantize``, non-finite weights, or int8 without
        calibration rows.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     export = cr.export_c(net, os.path.join(folder, "xor.h"), name="xor")
    ...     small = cr.export_c(net, os.path.join(folder, "xq.h"), name="xq", quantize="int8",
    ...                         calibration=corners)
    ...     sorted(os.listdir(folder))
    ['xor.h', 'xq.h']
    >>> "xor_predict" in export.header, "xq_predict_q" in small.header
    (True, True)
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be a C identifier (letters, digits, _), got {name!r}")
    if quantize not in (None, "int8"):
        raise ValueError(f"quantize must be None or 'int8', got {quantize!r}")
    spec = c_model(model)
    prep = preprocessing_of(model, network_of(model))
    result = CExport(name, "", spec, preprocessor=prep)
    if quantize == "int8":
        rows = calibration_rows(model, calibration)
        result.quantized = quantize_model(spec, result.inputs(rows))
    result.header = header_text(spec, name, result.quantized)
    with atomic_write(path, "w") as stream:
        stream.write(result.header)
    return result


def quantize_model(spec: CModel, inputs: np.ndarray) -> QModel:
    """The int8 network, calibrated on header inputs (the network inputs they make)."""
    return quantize(spec, spec.features(inputs))


def calibration_rows(model: Any, calibration: Any) -> Any:
    """The calibration rows: given, read from a path, or the training data the metadata names."""
    if calibration is None:
        metadata = getattr(model, "metadata", None) or getattr(network_of(model), "metadata", {})
        calibration = (metadata.get("training") or {}).get("data")
        if calibration is None or not os.path.isfile(calibration):
            raise ValueError(
                "int8 export needs calibration rows (calibration=..., or --calibration DATA): "
                "the model does not name a training data file that exists"
            )
    if isinstance(calibration, str | os.PathLike):
        from chainrule.io.tables import read_table

        calibration = read_table(str(calibration))
        if preprocessing_of(model, network_of(model)) is None:
            calibration = calibration.to_numpy(dtype=np.float64)
    return calibration


def header_text(spec: CModel, name: str, q: QModel | None = None) -> str:
    """The whole header for ``spec`` (int8 when ``q`` is given)."""
    prefix, low = name.upper(), name.lower()
    if q is None:
        weights, size = float_weights(spec, prefix)
        body, scratch, precision = float_functions(spec, prefix), float_scratch_bytes(spec), "float32"
    else:
        weights, size = int8_weights(q, prefix)
        body = (
            integer_functions(q, prefix)
            + float_wrappers(spec, q, prefix)
            + int8_class_functions(spec, q, prefix)
        )
        scratch, precision = int8_scratch_bytes(spec), "int8 (TFLite's integer scheme)"
    shape = "-".join(str(n) for n in [spec.n_features, *(layer.n_out for layer in spec.layers)])
    activations = "/".join(layer.activation for layer in spec.layers)
    about = [
        f"{low}.h: a chainrule network as C99 (also valid C++), generated by chainrule {__version__}.",
        f"Network: {shape}, {activations}; {precision}.",
        *describe(spec, prefix),
        f"Memory: {size} bytes of constant weights; each call uses about {scratch} bytes of stack",
        f"({prefix}_SCRATCH_BYTES); no malloc, no static state, no I/O.",
        f"Use: float out[{prefix}_N_OUTPUTS]; {low}_predict(inputs, out);",
    ]
    if q is not None:
        about.append(f"int8: {low}_predict_q(q_in, q_out) uses integers only (no float code).")
    comment = "/* " + "\n * ".join(about) + "\n */\n"
    guard = f"CHAINRULE_{prefix}_H"
    return (
        f"{comment}#ifndef {guard}\n#define {guard}\n\n#include <math.h>\n#include <stdint.h>\n\n"
        f"{storage_macros(prefix)}\n{declarations(spec, prefix)}"
        f"#define {prefix}_SCRATCH_BYTES {scratch}\n"
        + (int8_macros(q, prefix) if q is not None else "")
        + f"\n{weights}{features_function(spec, prefix)}{body}\n#endif /* {guard} */\n"
    )
