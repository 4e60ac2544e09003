"""C source text: literals, identifiers, constant arrays, and the header's common parts.

Everything here is C99 that a C++ compiler also accepts; float literals carry the ``f`` suffix
(``-Wdouble-promotion`` stays quiet) and are written so they read back as the same float32.
"""

from __future__ import annotations

import re

import numpy as np

from chainrule.io.c_export.spec import CModel
from chainrule.io.derived import FORMULAS

C_TYPES = {"f32": "float", "i8": "int8_t", "u8": "uint8_t", "u16": "uint16_t", "i32": "int32_t"}
C_SIZES = {"f32": 4, "i8": 1, "u8": 1, "u16": 2, "i32": 4}


def float_literal(value: float) -> str:
    """A C float literal that reads back as ``float32(value)``: ``-1.25e-01f``."""
    return np.format_float_scientific(np.float32(value), unique=True, exp_digits=2) + "f"


def int_literal(value: int) -> str:
    """A C integer literal (``INT32_MIN`` is written as an expression, as C requires)."""
    value = int(value)
    return "(-2147483647 - 1)" if value == -(2**31) else str(value)


def string_literal(text: str) -> str:
    """A C string literal of ``text`` in UTF-8; quotes, backslashes, ``?`` (trigraphs) and
    non-printable or non-ASCII bytes escaped."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\?':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def identifier(text: str) -> str:
    """``text`` as the tail of a C identifier: letters, digits and underscores, upper case."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").upper() or "X"
    return name


def unique_identifiers(texts: list[str]) -> list[str]:
    """`identifier` of each text, made unique with ``_2``, ``_3``... suffixes."""
    seen: dict[str, int] = {}
    out = []
    for text in texts:
        name = identifier(text)
        while name in seen:
            seen[name] += 1
            name = f"{identifier(text)}_{seen[name]}"
        seen[name] = 1
        out.append(name)
    return out


def c_array(prefix: str, name: str, kind: str, values: np.ndarray, per_line: int = 8) -> str:
    """``static const TYPE name[N] PREFIX_ROM = {...};`` for a 1-D array."""
    flat = np.ravel(values)
    literal = float_literal if kind == "f32" else int_literal
    items = [literal(v) for v in flat.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {C_TYPES[kind]} {name}[{len(items)}] {prefix}_ROM = {{\n    {body}\n}};\n"


def array_bytes(kind: str, values: np.ndarray) -> int:
    """The bytes an array of ``kind`` takes."""
    return C_SIZES[kind] * int(np.size(values))


def storage_macros(prefix: str) -> str:
    """The placement macros: weights in flash with ``-D<PREFIX>_PROGMEM`` on AVR, else plain const."""
    p = prefix
    return f"""\
/* Constant data: plain `static const` arrays. On AVR, define {p}_PROGMEM (before including
 * this header, or with -D{p}_PROGMEM) to place them in flash with PROGMEM and read them with
 * pgm_read_*; elsewhere the macros below are plain reads. */
#if defined({p}_PROGMEM) && defined(__AVR__)
#include <avr/pgmspace.h>
#define {p}_ROM PROGMEM
#define {p}_RD_F32(p) pgm_read_float(p)
#define {p}_RD_I8(p) ((int8_t)pgm_read_byte(p))
#define {p}_RD_U8(p) ((uint8_t)pgm_read_byte(p))
#define {p}_RD_U16(p) ((uint16_t)pgm_read_word(p))
#define {p}_RD_I32(p) ((int32_t)pgm_read_dword(p))
#else
#define {p}_ROM
#define {p}_RD_F32(p) (*(p))
#define {p}_RD_I8(p) (*(p))
#define {p}_RD_U8(p) (*(p))
#define {p}_RD_U16(p) (*(p))
#define {p}_RD_I32(p) (*(p))
#endif
"""


def describe(spec: CModel, prefix: str) -> list[str]:
    """Comment lines that say what the inputs and outputs are."""
    lines = [f"Inputs ({prefix}_N_INPUTS floats, in this order, in original units):"]
    categorical = set(spec.categories)
    for i, name in enumerate(spec.input_names):
        if name in categorical:
            enum = f"enum {prefix.lower()}_{identifier(name).lower()}"
            lines.append(f"  [{i}] {name}: its category's index ({enum})")
        else:
            lines.append(f"  [{i}] {name}")
    if spec.kind == "classifier" and spec.n_outputs == 1:
        lines.append(
            f"Output: the probability of class {spec.class_labels[1]!r} "
            f"(class 1 of {prefix}_CLASS_LABELS); the other class is {spec.class_labels[0]!r}."
        )
    elif spec.kind == "classifier":
        lines.append(f"Outputs: one probability per class, in {prefix}_CLASS_LABELS order.")
    elif spec.kind == "regression":
        lines.append("Output: the prediction, in the target's own units.")
    else:
        lines.append(f"Outputs: the network's {spec.n_outputs} outputs.")
    return lines


def declarations(spec: CModel, prefix: str) -> str:
    """Size macros, input names, class labels, category enums, and the scaling constants."""
    p, low = prefix, prefix.lower()
    out = [
        f"#define {p}_N_INPUTS {spec.n_inputs}\n",
        f"#define {p}_N_FEATURES {spec.n_features} /* network inputs: scaled numbers, then one-hot */\n",
        f"#define {p}_N_OUTPUTS {spec.n_outputs}\n",
        f"#define {p}_MAX_WIDTH {spec.max_width} /* the widest layer */\n",
    ]
    if spec.kind == "classifier":
        out.append(f"#define {p}_N_CLASSES {len(spec.class_labels)}\n")
    names = ", ".join(string_literal(n) for n in spec.input_names)
    out.append(f"\nstatic const char *const {p}_INPUT_NAMES[{p}_N_INPUTS] = {{{names}}};\n")
    if spec.kind == "classifier":
        labels = ", ".join(string_literal(c) for c in spec.class_labels)
        out.append(f"static const char *const {p}_CLASS_LABELS[{p}_N_CLASSES] = {{{labels}}};\n")
    for column, cats in spec.categories.items():
        tag = identifier(column)
        members = ", ".join(f"{p}_{tag}_{c} = {i}" for i, c in enumerate(unique_identifiers(cats)))
        out.append(f"enum {low}_{tag.lower()} {{ {members} }}; /* column {string_literal(column)} */\n")
    out.append(f"\n#define {p}_N_NUMERIC {spec.n_numeric}\n")
    out.append(f"#define {p}_N_CATEGORICAL {len(spec.categories)}\n")
    if spec.n_numeric and not plain_scaling(spec):
        out.append(c_array(p, f"{low}_offset_", "f32", spec.offset))
        out.append(c_array(p, f"{low}_scale_", "f32", spec.scale))
    if spec.categories:
        counts = np.array([len(c) for c in spec.categories.values()])
        out.append(c_array(p, f"{low}_n_categories_", "u16", counts))
    return "".join(out)


def plain_scaling(spec: CModel) -> bool:
    """Whether the numeric inputs go in unscaled (a plain network)."""
    return bool(np.all(spec.offset == 0) and np.all(spec.scale == 1))


def features_function(spec: CModel, prefix: str) -> str:
    """``NAME_features``: the stored scaling and the one-hot encoding, inputs to network inputs."""
    p, low = prefix, prefix.lower()
    body = []
    if spec.derived:  # each numeric input by its formula of the raw inputs (chainrule.io.derived)
        for j, (name, at) in enumerate(spec.derived):
            raw = [f"inputs[{i}]" for i in at]
            value = FORMULAS[name].c.format(*raw) if name else raw[0]
            scaled = f"({value} - {p}_RD_F32({low}_offset_ + {j})) / {p}_RD_F32({low}_scale_ + {j})"
            body.append(f"    features[{j}] = {value if plain_scaling(spec) else scaled};\n")
    elif spec.n_numeric:
        value = (
            "inputs[i]"
            if plain_scaling(spec)
            else f"(inputs[i] - {p}_RD_F32({low}_offset_ + i)) / {p}_RD_F32({low}_scale_ + i)"
        )
        body.append(f"    for (int i = 0; i < {p}_N_NUMERIC; ++i) features[i] = {value};\n")
    if spec.categories:
        body.append(f"""\
    int f = {p}_N_NUMERIC;
    for (int c = 0; c < {p}_N_CATEGORICAL; ++c) {{
        const int n = (int){p}_RD_U16({low}_n_categories_ + c);
        const float v = inputs[{spec.n_raw} + c]; /* an index outside 0..n-1: all zeros */
        for (int k = 0; k < n; ++k) features[f + k] = (v == (float)k) ? 1.0f : 0.0f;
        f += n;
    }}
""")
    return f"""
/* The network's inputs for raw inputs: (x - offset) / scale for numbers, one-hot categories. */
static inline void {low}_features(const float *inputs, float *features) {{
{"".join(body)}}}
"""
