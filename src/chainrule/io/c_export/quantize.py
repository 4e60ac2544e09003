"""int8 quantization of a `CModel`, TFLite's integer scheme, and its NumPy integer reference.

The scheme (as TensorFlow Lite's int8 reference kernels compute it):

- a tensor's real value is ``scale * (q - zero_point)`` with ``q`` an int8; the network's input,
  each layer's pre-activation and each layer's output have one scale and zero point, calibrated
  from the float network's values on calibration rows (the range always contains 0); a sigmoid
  output uses TFLite's fixed ``1/256, -128``, a tanh output ``1/128, 0``, a softmax output
  ``1/256, -128``;
- weights are int8 per output channel, symmetric (``scale_w[j] = max|W[:, j]| / 127``, zero
  point 0); biases are int32 at scale ``scale_in * scale_w[j]``, with the input zero point's
  term ``-zero_in * sum_i q_w[i, j]`` folded in, so the inner loop is ``acc += x * w``;
- the int32 accumulator is rescaled by ``M = scale_in * scale_w[j] / scale_z`` written as an
  int32 multiplier ``M0`` in Q31 and a shift: ``(acc * M0 + 2**(s - 1)) >> s`` in 64 bits
  (TFLite's single-rounding ``MultiplyByQuantizedMultiplier``), plus the zero point, saturated;
- sigmoid, tanh, ReLU and leaky ReLU are a 256-entry int8 table indexed by the quantized
  pre-activation; softmax is integer too: ``e = T[max - q]`` from a 256-entry Q15 table of
  ``exp(-scale_z * d)``, then ``(256 * e + sum / 2) / sum`` with an integer division.

`predict_q` is the NumPy integer reference the C must equal bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainrule.io.c_export.spec import CModel, activate

FIXED_OUTPUT = {"sigmoid": (1.0 / 256, -128), "tanh": (1.0 / 128, 0), "softmax": (1.0 / 256, -128)}


@dataclass
class QLayer:
    """One quantized Dense layer; ``table`` is the activation's lookup table (None: identity)."""

    w: np.ndarray  # int8, (n_out, n_in): one row per output channel
    bias: np.ndarray  # int32, (n_out,)
    multiplier: np.ndarray  # int32 Q31, (n_out,)
    shift: np.ndarray  # right shift, 1..62, (n_out,)
    z_scale: float
    z_zero: int
    activation: str
    table: np.ndarray | None
    out_scale: float
    out_zero: int


@dataclass
class QModel:
    """The quantized network: input quantization and layers."""

    input_scale: float
    input_zero: int
    layers: list[QLayer]

    @property
    def output_scale(self) -> float:
        return self.layers[-1].out_scale

    @property
    def output_zero(self) -> int:
        return self.layers[-1].out_zero

    @property
    def class_threshold(self) -> int:
        """One output: the class is 1 when ``q > class_threshold`` (probability above 0.5)."""
        return int(np.floor(0.5 / self.output_scale + self.output_zero))


def affine(lo: float, hi: float) -> tuple[float, int]:
    """Scale and zero point of an int8 covering ``[lo, hi]`` (widened to contain 0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = max(hi - lo, 1e-8) / 255.0
    zero = int(np.clip(np.round(-128.0 - lo / scale), -128, 127))
    return scale, zero


def requantize_factors(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``M0`` (Q31 int32) and right shifts with ``real ~= M0 * 2**-shift``."""
    mantissa, exponent = np.frexp(np.asarray(real, dtype=np.float64))
    m0 = np.round(mantissa * 2.0**31).astype(np.int64)
    carry = m0 == 2**31
    m0[carry] //= 2
    exponent = np.minimum(exponent + carry, 30)
    shift = 31 - exponent
    tiny = shift > 62
    m0[tiny], shift[tiny] = 0, 62
    return m0.astype(np.int32), shift.astype(np.int64)


def quantize(spec: CModel, calibration: np.ndarray) -> QModel:
    """Quantize ``spec``'s network with ranges from ``calibration`` (rows of network inputs)."""
    x = np.atleast_2d(np.asarray(calibration, dtype=np.float64))
    in_scale, in_zero = affine(x.min(), x.max())
    model, scale_x, zero_x = QModel(in_scale, in_zero, []), in_scale, in_zero
    for layer in spec.layers:
        z, a = layer.forward(x)
        w_scale = np.abs(layer.W).max(axis=0) / 127.0
        w_scale[w_scale == 0] = 1.0
        w = np.clip(np.round(layer.W / w_scale), -127, 127).astype(np.int64).T
        bias = np.round(layer.b / (scale_x * w_scale)) - zero_x * w.sum(axis=1)
        bias = np.clip(bias, -(2**30), 2**30).astype(np.int32)
        z_scale, z_zero = affine(z.min(), z.max())
        m0, shift = requantize_factors(scale_x * w_scale / z_scale)
        table, (out_scale, out_zero) = None, (z_scale, z_zero)
        if layer.activation != "identity":
            out_scale, out_zero = FIXED_OUTPUT.get(layer.activation) or affine(a.min(), a.max())
            table = activation_table(layer.activation, layer.alpha, z_scale, z_zero, out_scale, out_zero)
        w8, name = w.astype(np.int8), layer.activation
        model.layers.append(QLayer(w8, bias, m0, shift, z_scale, z_zero, name, table, out_scale, out_zero))
        x, scale_x, zero_x = a, out_scale, out_zero
    return model


def activation_table(
    name: str, alpha: float, z_scale: float, z_zero: int, scale: float, zero: int
) -> np.ndarray:
    """The 256-entry table of an activation, indexed by ``q_z + 128``.

    Softmax: ``round(2**15 * exp(-z_scale * d))`` for ``d = max - q_z`` in 0..255 (uint16).
    Others: the int8 output for each int8 pre-activation.
    """
    q = np.arange(-128, 128)
    if name == "softmax":
        return np.round(2.0**15 * np.exp(-z_scale * np.arange(256))).astype(np.uint16)
    real = activate(name, z_scale * (q - z_zero)[None, :].astype(np.float64), alpha)[0]
    return np.clip(np.round(real / scale) + zero, -128, 127).astype(np.int8)


def predict_q(model: QModel, q_inputs: np.ndarray) -> np.ndarray:
    """The int8 outputs for int8 network inputs: the integer arithmetic of the header, in NumPy."""
    x = np.atleast_2d(np.asarray(q_inputs)).astype(np.int64)
    for layer in model.layers:
        acc = x @ layer.w.astype(np.int64).T + layer.bias.astype(np.int64)
        rounding = np.left_shift(np.int64(1), layer.shift - 1)
        q = np.right_shift(acc * layer.multiplier.astype(np.int64) + rounding, layer.shift)
        q = np.clip(q + layer.z_zero, -128, 127)
        if layer.activation == "softmax":
            e = layer.table[q.max(axis=1, keepdims=True) - q].astype(np.int64)
            total = e.sum(axis=1, keepdims=True)
            x = np.minimum((e * 256 + total // 2) // total, 255) - 128
        elif layer.table is not None:
            x = layer.table[q + 128].astype(np.int64)
        else:
            x = q
    return x.astype(np.int8)


def quantize_inputs(model: QModel, features: np.ndarray) -> np.ndarray:
    """int8 network inputs from float32 ones, as the header rounds them: ``floor(x / s + 0.5) + zero``."""
    f = np.asarray(features, dtype=np.float32)
    inverse = np.float32(1.0 / model.input_scale)
    v = np.floor(f * inverse + np.float32(0.5)) + np.float32(model.input_zero)
    return np.clip(v, -128, 127).astype(np.int8)


def features32(spec: CModel, inputs: np.ndarray) -> np.ndarray:
    """The network inputs in float32, computed as the header computes them (scaling, one-hot)."""
    inputs = np.atleast_2d(np.asarray(inputs, dtype=np.float32))
    off, scale = spec.offset.astype(np.float32), spec.scale.astype(np.float32)
    blocks = [(spec.numeric(inputs) - off) / scale]
    for j, cats in enumerate(spec.categories.values()):
        column = inputs[:, spec.n_raw + j]
        blocks.append((column[:, None] == np.arange(len(cats), dtype=np.float32)).astype(np.float32))
    return np.hstack(blocks)


def classes_q(model: QModel, q_outputs: np.ndarray) -> np.ndarray:
    """The class index of int8 outputs: first maximum, or ``q > class_threshold`` for one output."""
    q = np.atleast_2d(q_outputs)
    if q.shape[1] > 1:
        return q.argmax(axis=1)
    return (q[:, 0] > model.class_threshold).astype(np.int64)


def dequantize(spec: CModel, model: QModel, q_outputs: np.ndarray) -> np.ndarray:
    """Float outputs of int8 ones, as the header's float ``predict`` returns them (float32)."""
    scale = np.float32(model.output_scale)
    real = scale * (np.asarray(q_outputs, dtype=np.float32) - np.float32(model.output_zero))
    if spec.kind == "regression":
        return real * np.float32(spec.target_scale) + np.float32(spec.target_offset)
    return real
