"""The int8 network of a header: integer-only ``NAME_predict_q`` and its float wrappers.

``NAME_predict_q`` and ``NAME_predict_class_q`` use integers only (int8 data, int32
accumulators, 64-bit rescaling products, table lookups): a file that calls only them compiles
with no floating-point code. ``NAME_quantize``, ``NAME_predict`` and ``NAME_predict_class``
take and give floats around them, as the float32 header's functions do.
"""

from __future__ import annotations

from chainrule.io.c_export.cfloat import output_expression
from chainrule.io.c_export.ctext import array_bytes, c_array, float_literal
from chainrule.io.c_export.quantize import QModel
from chainrule.io.c_export.spec import CModel


def int8_weights(q: QModel, prefix: str) -> tuple[str, int]:
    """Weights, folded biases, multipliers, shifts and tables as arrays; their bytes."""
    low, text, size = prefix.lower(), [], 0
    for number, layer in enumerate(q.layers, start=1):
        arrays = [
            ("qw", "i8", layer.w),
            ("qb", "i32", layer.bias),
            ("qm", "i32", layer.multiplier),
            ("qs", "u8", layer.shift),
        ]
        if layer.table is not None:
            arrays.append(("qt", "u16" if layer.activation == "softmax" else "i8", layer.table))
        for stem, kind, values in arrays:
            text.append(c_array(prefix, f"{low}_{stem}{number}_", kind, values, per_line=16))
            size += array_bytes(kind, values)
    return "".join(text), size


def int8_macros(q: QModel, prefix: str) -> str:
    """The quantization of the inputs and outputs: ``real = scale * (q - zero_point)``."""
    p = prefix
    lines = [
        f"#define {p}_Q_INPUT_SCALE {float_literal(q.input_scale)}\n",
        f"#define {p}_Q_INPUT_ZERO_POINT ({q.input_zero})\n",
        f"#define {p}_Q_OUTPUT_SCALE {float_literal(q.output_scale)}\n",
        f"#define {p}_Q_OUTPUT_ZERO_POINT ({q.output_zero})\n",
    ]
    if len(q.layers[-1].w) == 1:
        lines.append(f"#define {p}_Q_CLASS_THRESHOLD ({q.class_threshold}) /* class 1 when q > this */\n")
    return "".join(lines)


def integer_functions(q: QModel, prefix: str) -> str:
    """The integer layer loop, the lookups, ``NAME_predict_q`` (and ``NAME_predict_class_q``)."""
    p, low = prefix, prefix.lower()
    parts = [
        f"""
/* One int8 layer: acc = b + sum x*w in int32, then (acc * m + 2^(s-1)) >> s in 64 bits, plus the
 * zero point, saturated to int8 (TFLite's integer requantization). */
static inline void {low}_dense_q_(const int8_t *w, const int32_t *b, const int32_t *m, const uint8_t *s,
                                  int32_t zero, int n_in, int n_out, const int8_t *x, int8_t *z) {{
    for (int j = 0; j < n_out; ++j, w += n_in) {{
        int32_t acc = {p}_RD_I32(b + j);
        for (int i = 0; i < n_in; ++i) acc += (int16_t)x[i] * (int16_t){p}_RD_I8(w + i);
        const int shift = (int){p}_RD_U8(s + j);
        int64_t r = (int64_t)acc * {p}_RD_I32(m + j) + ((int64_t)1 << (shift - 1));
        r = (r >> shift) + zero;
        z[j] = (int8_t)(r < -128 ? -128 : (r > 127 ? 127 : r));
    }}
}}
"""
    ]
    kinds = {layer.activation for layer in q.layers}
    if kinds - {"identity", "softmax"}:
        parts.append(f"""
/* An activation by table: the int8 output for each int8 pre-activation. */
static inline void {low}_lookup_q_(const int8_t *table, int8_t *z, int n) {{
    for (int i = 0; i < n; ++i) z[i] = {p}_RD_I8(table + (z[i] + 128));
}}
""")
    if "softmax" in kinds:
        parts.append(f"""
/* Integer softmax: e = T[max - z] (Q15 exp), then 256 * e / sum, at scale 1/256, zero point -128. */
static inline void {low}_softmax_q_(const uint16_t *table, int8_t *z, int n) {{
    int top = z[0];
    int32_t sum = 0;
    for (int i = 1; i < n; ++i) top = z[i] > top ? z[i] : top;
    for (int i = 0; i < n; ++i) sum += {p}_RD_U16(table + (top - z[i]));
    for (int i = 0; i < n; ++i) {{
        const int32_t e = {p}_RD_U16(table + (top - z[i]));
        const int32_t prob = (e * 256 + sum / 2) / sum;
        z[i] = (int8_t)((prob > 255 ? 255 : prob) - 128);
    }}
}}
""")
    parts.append(predict_q_function(q, prefix))
    return "".join(parts)


def predict_q_function(q: QModel, prefix: str) -> str:
    """``NAME_predict_q``: int8 network inputs to int8 outputs, integers only."""
    p, low = prefix, prefix.lower()
    calls = []
    for number, layer in enumerate(q.layers, start=1):
        source = "inputs" if number == 1 else ("buf_b" if number % 2 else "buf_a")
        target = "buf_a" if number % 2 else "buf_b"
        n_out, n_in = layer.w.shape
        arrays = ", ".join(f"{low}_q{stem}{number}_" for stem in "wbms")
        calls.append(f"    {low}_dense_q_({arrays}, {layer.z_zero}, {n_in}, {n_out}, {source}, {target});")
        if layer.activation == "softmax":
            calls.append(f"    {low}_softmax_q_({low}_qt{number}_, {target}, {n_out});")
        elif layer.table is not None:
            calls.append(f"    {low}_lookup_q_({low}_qt{number}_, {target}, {n_out});")
    last = "buf_a" if len(q.layers) % 2 else "buf_b"
    second = f", buf_b[{p}_MAX_WIDTH]" if len(q.layers) > 1 else ""
    return f"""
/* int8 outputs for int8 network inputs ({p}_N_FEATURES of them, quantized with
 * {p}_Q_INPUT_SCALE and {p}_Q_INPUT_ZERO_POINT; {low}_quantize makes them): integers only. */
static inline void {low}_predict_q(const int8_t *inputs, int8_t *outputs) {{
    int8_t buf_a[{p}_MAX_WIDTH]{second};
{chr(10).join(calls)}
    for (int i = 0; i < {p}_N_OUTPUTS; ++i) outputs[i] = {last}[i];
}}
"""


def int8_class_functions(spec: CModel, q: QModel, prefix: str) -> str:
    """``NAME_predict_class_q`` (integers) and ``NAME_predict_class`` (float inputs)."""
    if spec.kind != "classifier":
        return ""
    p, low = prefix, prefix.lower()
    if spec.n_outputs == 1:
        rule = f"return out[0] > {p}_Q_CLASS_THRESHOLD ? 1 : 0;"
    else:
        rule = (
            "int best = 0;\n"
            f"    for (int i = 1; i < {p}_N_OUTPUTS; ++i) best = out[i] > out[best] ? i : best;\n"
            "    return best;"
        )
    return f"""
/* The predicted class's index in {p}_CLASS_LABELS, from int8 network inputs: integers only. */
static inline int {low}_predict_class_q(const int8_t *inputs) {{
    int8_t out[{p}_N_OUTPUTS];
    {low}_predict_q(inputs, out);
    {rule}
}}

/* The predicted class's index in {p}_CLASS_LABELS, for one row of raw inputs. */
static inline int {low}_predict_class(const float *inputs) {{
    int8_t q[{p}_N_FEATURES];
    {low}_quantize(inputs, q);
    return {low}_predict_class_q(q);
}}
"""


def float_wrappers(spec: CModel, q: QModel, prefix: str) -> str:
    """``NAME_quantize`` and ``NAME_predict`` on raw float inputs, around the integer network."""
    p, low = prefix, prefix.lower()
    inverse = float_literal(1.0 / q.input_scale)
    real = f"{p}_Q_OUTPUT_SCALE * (float)(out[i] - {p}_Q_OUTPUT_ZERO_POINT)"
    return f"""
/* The int8 network inputs for one row of raw inputs: scaling, one-hot, then
 * floor(x / {p}_Q_INPUT_SCALE + 0.5) + {p}_Q_INPUT_ZERO_POINT, saturated. */
static inline void {low}_quantize(const float *inputs, int8_t *q) {{
    float features[{p}_N_FEATURES];
    {low}_features(inputs, features);
    for (int i = 0; i < {p}_N_FEATURES; ++i) {{
        float v = (float)floorf(features[i] * {inverse} + 0.5f) + (float){p}_Q_INPUT_ZERO_POINT;
        v = v > -128.0f ? (v < 127.0f ? v : 127.0f) : -128.0f; /* NaN: -128 */
        q[i] = (int8_t)v;
    }}
}}

/* The outputs for one row of raw inputs (see the top of this file), through the int8 network. */
static inline void {low}_predict(const float *inputs, float *outputs) {{
    int8_t q[{p}_N_FEATURES], out[{p}_N_OUTPUTS];
    {low}_quantize(inputs, q);
    {low}_predict_q(q, out);
    for (int i = 0; i < {p}_N_OUTPUTS; ++i) outputs[i] = {output_expression(spec, real)};
}}
"""


def int8_scratch_bytes(spec: CModel) -> int:
    """Stack bytes of one ``predict`` call's buffers (float features, int8 layers)."""
    return 4 * spec.n_features + spec.n_features + spec.n_outputs + 2 * spec.max_width
