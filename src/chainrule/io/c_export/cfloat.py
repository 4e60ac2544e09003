"""The float32 network of a header: weights, the layer loop, the activations, predict."""

from __future__ import annotations

from chainrule.io.c_export.ctext import array_bytes, c_array, float_literal
from chainrule.io.c_export.spec import CModel

# The (float) casts: avr-libc defines expf and tanhf as exp and tanh (its double is 32 bits),
# which -Wdouble-promotion would otherwise flag.
ACTIVATION_CODE = {
    "sigmoid": "for (int i = 0; i < n; ++i) z[i] = 1.0f / (1.0f + (float)expf(-z[i]));",
    "tanh": "for (int i = 0; i < n; ++i) z[i] = (float)tanhf(z[i]);",
    "relu": "for (int i = 0; i < n; ++i) z[i] = z[i] > 0.0f ? z[i] : 0.0f;",
    "leaky_relu": "for (int i = 0; i < n; ++i) z[i] = z[i] > 0.0f ? z[i] : alpha * z[i];",
    "softmax": """float top = z[0], sum = 0.0f;
    for (int i = 1; i < n; ++i) top = z[i] > top ? z[i] : top;
    for (int i = 0; i < n; ++i) {
        z[i] = (float)expf(z[i] - top);
        sum += z[i];
    }
    for (int i = 0; i < n; ++i) z[i] /= sum;""",
}


def float_weights(spec: CModel, prefix: str) -> tuple[str, int]:
    """The weights (one row per output unit) and biases as float arrays; their bytes."""
    low, text, size = prefix.lower(), [], 0
    for number, layer in enumerate(spec.layers, start=1):
        text.append(c_array(prefix, f"{low}_w{number}_", "f32", layer.W.T))
        size += array_bytes("f32", layer.W)
        if layer.has_bias:
            text.append(c_array(prefix, f"{low}_b{number}_", "f32", layer.b))
            size += array_bytes("f32", layer.b)
    return "".join(text), size


def float_functions(spec: CModel, prefix: str) -> str:
    """The layer loop, the activations used, ``NAME_predict`` and ``NAME_predict_class``."""
    p, low = prefix, prefix.lower()
    parts = [
        f"""
/* z = W x + b for one layer; w holds one row of n_in weights per output unit. Four running
 * sums: independent additions a CPU can overlap (float addition is not reordered for us). */
static inline void {low}_dense_f32_(const float *w, const float *b, int n_in, int n_out,
                                    const float *x, float *z) {{
    for (int j = 0; j < n_out; ++j, w += n_in) {{
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        int i = 0;
        for (; i + 4 <= n_in; i += 4) {{
            s0 += x[i] * {p}_RD_F32(w + i);
            s1 += x[i + 1] * {p}_RD_F32(w + i + 1);
            s2 += x[i + 2] * {p}_RD_F32(w + i + 2);
            s3 += x[i + 3] * {p}_RD_F32(w + i + 3);
        }}
        for (; i < n_in; ++i) s0 += x[i] * {p}_RD_F32(w + i);
        z[j] = (b ? {p}_RD_F32(b + j) : 0.0f) + ((s0 + s1) + (s2 + s3));
    }}
}}
"""
    ]
    for name in sorted({layer.activation for layer in spec.layers} - {"identity"}):
        alpha = ", float alpha" if name == "leaky_relu" else ""
        parts.append(
            f"\nstatic inline void {low}_{name}_f32_(float *z, int n{alpha}) {{\n"
            f"    {ACTIVATION_CODE[name]}\n}}\n"
        )
    calls = []
    buffers = ["features", "buf_a", "buf_b"]
    for number, layer in enumerate(spec.layers, start=1):
        source, target = buffers[0] if number == 1 else buffers[1 + number % 2], buffers[1 + (number + 1) % 2]
        bias = f"{low}_b{number}_" if layer.has_bias else "0"
        shape = f"{layer.n_in}, {layer.n_out}"
        calls.append(f"    {low}_dense_f32_({low}_w{number}_, {bias}, {shape}, {source}, {target});")
        if layer.activation != "identity":
            alpha = f", {float_literal(layer.alpha)}" if layer.activation == "leaky_relu" else ""
            calls.append(f"    {low}_{layer.activation}_f32_({target}, {layer.n_out}{alpha});")
    last = buffers[1 + (len(spec.layers) + 1) % 2]
    second = f", buf_b[{p}_MAX_WIDTH]" if len(spec.layers) > 1 else ""
    parts.append(
        f"""
/* The outputs for one row of raw inputs (see the top of this file). */
static inline void {low}_predict(const float *inputs, float *outputs) {{
    float features[{p}_N_FEATURES], buf_a[{p}_MAX_WIDTH]{second};
    {low}_features(inputs, features);
{chr(10).join(calls)}
    for (int i = 0; i < {p}_N_OUTPUTS; ++i) outputs[i] = {output_expression(spec, f"{last}[i]")};
}}
"""
    )
    parts.append(class_function(spec, prefix))
    return "".join(parts)


def output_expression(spec: CModel, value: str) -> str:
    """The header's output from a network output (a regression's target scaling)."""
    if spec.kind == "regression":
        return f"{value} * {float_literal(spec.target_scale)} + {float_literal(spec.target_offset)}"
    return value


def class_function(spec: CModel, prefix: str) -> str:
    """``NAME_predict_class`` from the float outputs (classifiers only)."""
    if spec.kind != "classifier":
        return ""
    p, low = prefix, prefix.lower()
    if spec.n_outputs == 1:
        rule = "return out[0] > 0.5f ? 1 : 0;"
    else:
        rule = (
            "int best = 0;\n"
            f"    for (int i = 1; i < {p}_N_OUTPUTS; ++i) best = out[i] > out[best] ? i : best;\n"
            "    return best;"
        )
    return f"""
/* The predicted class's index in {p}_CLASS_LABELS. */
static inline int {low}_predict_class(const float *inputs) {{
    float out[{p}_N_OUTPUTS];
    {low}_predict(inputs, out);
    {rule}
}}
"""


def float_scratch_bytes(spec: CModel) -> int:
    """Stack bytes of one ``predict`` call's buffers."""
    return 4 * (spec.n_features + 2 * spec.max_width)
