"""A test program for a generated header: two translation units, given rows, printed outputs.

`write_test_program` writes, into one folder, a copy of the header and:

- ``main.c``: the rows compiled in; for each one line ``row R [class C second C2 | second Y]
  out O1 O2 ... [qin ... qout ...] [cycles N] end``, the floats with ``%.9g`` (they read back
  as the same float32);
- ``second.c``: a second translation unit that includes the header and predicts too (the
  header's functions must not clash when linked);
- ``qonly.c`` (int8 headers): a translation unit that calls only ``NAME_predict_q``, so it can
  be compiled with no floating-point code (``gcc -mgeneral-regs-only``).

On AVR (``__AVR__``) the program writes to the UART (simavr prints it), times each ``predict``
with Timer 1 in CPU cycles, and sleeps with interrupts off at the end, which ends a simavr run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.io.c_export.ctext import float_literal

BUILD = "cc -std=c99 -Wall -Wextra -Wpedantic -Werror -Wdouble-promotion -O2 main.c second.c{q} -lm"

AVR_SUPPORT = """\
#ifdef __AVR__
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <stdio.h>
static volatile uint16_t overflows;
ISR(TIMER1_OVF_vect) { ++overflows; }
static int uart_put(char c, FILE *stream) {
    (void)stream;
    loop_until_bit_is_set(UCSR0A, UDRE0);
    UDR0 = (uint8_t)c;
    return 0;
}
static FILE uart = FDEV_SETUP_STREAM(uart_put, NULL, _FDEV_SETUP_WRITE);
/* The barriers keep the compiler from moving the prediction out of the timed span. */
static void start_clock(void) {
    __asm__ __volatile__("" ::: "memory");
    TCCR1A = 0; TCCR1B = 0; TCNT1 = 0; overflows = 0;
    TIFR1 = _BV(TOV1); TIMSK1 = _BV(TOIE1); sei();
    TCCR1B = _BV(CS10);
}
static uint32_t stop_clock(void) {
    __asm__ __volatile__("" ::: "memory");
    cli();
    const uint16_t count = TCNT1; /* read before stopping: simavr reads a stopped timer as 0 */
    uint32_t cycles = ((uint32_t)overflows << 16) | count;
    if ((TIFR1 & _BV(TOV1)) && count < 0x8000) cycles += 65536UL;
    TCCR1B = 0;
    return cycles;
}
#else
#include <stdio.h>
#endif
"""


def write_test_program(export: Any, directory: str | os.PathLike[str], rows: Any) -> list[Path]:
    """Write the test program for ``export`` (a `CExport`) into ``directory``; return its files.

    Parameters
    ----------
    export : CExport
        What `export_c` returned.
    directory : str or path-like
        Created if missing; gets ``NAME.h``, ``main.c``, ``second.c`` (and ``qonly.c``).
    rows : rows or array
        Raw rows of a table model (DataFrame or dict of columns) or network inputs.

    Returns
    -------
    list of Path
        The files written; ``main.c`` starts with the command that builds it.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    inputs = export.inputs(rows)
    name, quantized = export.name, export.quantized is not None
    files = {
        f"{name}.h": export.header,
        "main.c": main_source(export, inputs),
        "second.c": second_source(export),
    }
    if quantized:
        files["qonly.c"] = (
            f"/* Calls only {name}_predict_q: compiles with no floating-point code. */\n"
            f'#include "{name}.h"\n\n'
            "void q_only(const int8_t *inputs, int8_t *outputs);\n\n"
            f"void q_only(const int8_t *inputs, int8_t *outputs) {{ {name}_predict_q(inputs, outputs); }}\n"
        )
    written = []
    for filename, text in files.items():
        (folder / filename).write_text(text)
        written.append(folder / filename)
    return written


def second_source(export: Any) -> str:
    """The second translation unit: it includes the header and predicts for one row."""
    name, p = export.name, export.name.upper()
    if export.spec.kind == "classifier":
        function = f"int second(const float *inputs) {{ return {name}_predict_class(inputs); }}"
        declaration = "int second(const float *inputs);"
    else:
        function = (
            f"float second(const float *inputs) {{\n    float out[{p}_N_OUTPUTS];\n"
            f"    {name}_predict(inputs, out);\n    return out[0];\n}}"
        )
        declaration = "float second(const float *inputs);"
    head = f'/* A second file that includes {name}.h. */\n#include "{name}.h"\n'
    return f"{head}\n{declaration}\n\n{function}\n"


def main_source(export: Any, inputs: np.ndarray) -> str:
    """``main.c``: the rows, and a line of outputs per row."""
    name, p = export.name, export.name.upper()
    quantized, classifier = export.quantized is not None, export.spec.kind == "classifier"
    values = ",\n    ".join("{" + ", ".join(float_literal(v) for v in row) + "}" for row in inputs)
    build = BUILD.format(q=" qonly.c" if quantized else "")
    lines = ['    printf("row %d", r);']
    if classifier:
        lines.append(f'    printf(" class %d second %d", {name}_predict_class(rows[r]), second(rows[r]));')
    else:
        lines.append('    printf(" second %.9g", (double)second(rows[r]));')
    lines.append('    printf(" out");')
    lines.append(f'    for (int i = 0; i < {p}_N_OUTPUTS; ++i) printf(" %.9g", (double)out[i]);')
    if quantized:
        lines += [
            f"    int8_t q_in[{p}_N_FEATURES], q_out[{p}_N_OUTPUTS];",
            f"    {name}_quantize(rows[r], q_in);",
            "    q_only(q_in, q_out);",
            '    printf(" qin");',
            f'    for (int i = 0; i < {p}_N_FEATURES; ++i) printf(" %d", (int)q_in[i]);',
            '    printf(" qout");',
            f'    for (int i = 0; i < {p}_N_OUTPUTS; ++i) printf(" %d", (int)q_out[i]);',
        ]
    declarations = "int second(const float *inputs);" if classifier else "float second(const float *inputs);"
    if quantized:
        declarations += "\nvoid q_only(const int8_t *inputs, int8_t *outputs);"
    return f"""/* Test program for {name}.h, generated by chainrule. Build and run:
 *   {build} && ./a.out
 */
#include "{name}.h"

{AVR_SUPPORT}
{declarations}

#define N_ROWS {len(inputs)}
static const float rows[N_ROWS][{p}_N_INPUTS] = {{
    {values}
}};

int main(void) {{
#ifdef __AVR__
    UCSR0B = _BV(TXEN0);
    stdout = &uart;
#endif
    for (int r = 0; r < N_ROWS; ++r) {{
    float out[{p}_N_OUTPUTS];
#ifdef __AVR__
    start_clock();
    {name}_predict(rows[r], out);
    const uint32_t cycles = stop_clock();
#else
    {name}_predict(rows[r], out);
#endif
{chr(10).join(lines)}
#ifdef __AVR__
    printf(" cycles %lu", (unsigned long)cycles);
#endif
    printf(" end\\n");
    }}
#ifdef __AVR__
    cli();
    sleep_cpu();
#endif
    return 0;
}}
"""


def parse_output(text: str) -> list[dict[str, list[float]]]:
    """The rows of a test program's output (host or simavr, whose UART lines may carry colour
    codes and a trailing dot): a dict per row of each field's numbers."""
    import re

    rows = []
    for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines():
        tokens = line.strip().rstrip(".").split()
        if not tokens or tokens[0] != "row" or tokens[-1] != "end":
            continue
        fields: dict[str, list[float]] = {}
        key = ""
        for token in tokens[:-1]:
            try:
                value = float(token)
            except ValueError:
                key = token
                fields[key] = []
            else:
                fields[key].append(value)
        rows.append(fields)
    return rows
