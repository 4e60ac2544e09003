"""The C export's size and speed: AVR flash, RAM and cycles, and host latency, in one run.

    python benchmarks/c_export.py            # writes its tables into docs/performance.md
    python benchmarks/c_export.py --print    # only prints them

Needs gcc, and for the AVR rows avr-gcc, avr-libc and simavr (Debian: ``gcc-avr avr-libc
simavr``); onnxruntime for its latency row (``pip install ".[onnx]"``) and scikit-learn for iris.

AVR (ATmega328P, an Arduino Uno, ``avr-gcc -Os``, weights in flash with ``NAME_PROGMEM``): a
program that calls ``NAME_predict`` once on volatile inputs is measured with ``avr-size`` against
the same program without the call (flash = text + data, static RAM = data + bss; the stack a call
uses is the header's ``NAME_SCRATCH_BYTES`` plus the call frames). Cycles are counted by Timer 1
in simavr, median over the rows. Host: one-row predictions of the mnist-shaped network
(784-256-128-10, ReLU/softmax, float32), median of repeated timed loops; chainrule's
``Network.predict`` and onnxruntime's ``InferenceSession.run`` on the same one-row array.
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.examples import seed_002_xor_train
from chainrule.io.c_export import export_c
from chainrule.io.c_export.ctext import float_literal
from chainrule.io.c_export.harness import AVR_SUPPORT, parse_output

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- c-export:begin -->", "<!-- c-export:end -->"
AVR = ["avr-gcc", "-mmcu=atmega328p", "-Os", "-std=c99", "-Wall", "-Werror"]

SIZE_MAIN = """#include "{name}.h"
volatile float in_[{P}_N_INPUTS];
volatile float out_;
int main(void) {{
    float x[{P}_N_INPUTS], y[{P}_N_OUTPUTS];
    for (int i = 0; i < {P}_N_INPUTS; ++i) x[i] = in_[i];
    {call}
    out_ = y[0];
    return 0;
}}
"""

SIZE_Q_MAIN = """#include "{name}.h"
volatile int8_t in_[{P}_N_FEATURES];
volatile int8_t out_;
int main(void) {{
    int8_t x[{P}_N_FEATURES], y[{P}_N_OUTPUTS];
    for (int i = 0; i < {P}_N_FEATURES; ++i) x[i] = in_[i];
    {call}
    out_ = y[0];
    return 0;
}}
"""

CYCLES_MAIN = """#include "{name}.h"
{support}
static const float rows[{n}][{P}_N_INPUTS] = {{ {rows} }};
int main(void) {{
    UCSR0B = _BV(TXEN0);
    stdout = &uart;
    for (int r = 0; r < {n}; ++r) {{
        float out[{P}_N_OUTPUTS];
        start_clock();
        {name}_predict(rows[r], out);
        const uint32_t cycles = stop_clock();
        printf("row %d cycles %lu", r, (unsigned long)cycles);
{q_part}        printf(" end\\n");
    }}
    cli();
    sleep_cpu();
    return 0;
}}
"""

Q_PART = """        int8_t q[{P}_N_FEATURES], o[{P}_N_OUTPUTS];
        {name}_quantize(rows[r], q);
        start_clock();
        {name}_predict_q(q, o);
        const uint32_t q_cycles = stop_clock();
        printf(" qcycles %lu", (unsigned long)q_cycles);
"""


def avr_models() -> dict[str, tuple[object, np.ndarray, object]]:
    """XOR (the tutorial's tanh network) and iris (4-16-3): model, header rows, calibration."""
    net, _ = seed_002_xor_train.train_tanh_with_biases()
    X = seed_002_xor_train.X[:, :2].astype(float)
    models = {"xor": (net, X, X)}
    try:
        from sklearn import datasets
    except ImportError:
        print("scikit-learn is not installed: no iris row", file=sys.stderr)
        return models
    data = datasets.load_iris(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["target"] = np.asarray(data.target_names)[frame["target"]]
    iris = cr.train_table(frame, "target", layers=[16], lr=0.01, seed=0)
    models["iris"] = (iris, frame.iloc[::15], frame)
    return models


def avr_size(folder: Path, source: str) -> tuple[int, int]:
    """Flash (text + data) and static RAM (data + bss) of an ATmega328P build of ``source``."""
    (folder / "size.c").write_text(source)
    elf = folder / "size.elf"
    subprocess.run([*AVR, *defines(folder), "size.c", "-o", elf.name, "-lm"], cwd=folder, check=True)
    text, data, bss = map(
        int, subprocess.run(["avr-size", str(elf)], capture_output=True, text=True).stdout.split()[6:9]
    )
    return text + data, data + bss


def defines(folder: Path) -> list[str]:
    return [f"-D{h.stem.upper()}_PROGMEM" for h in folder.glob("*.h")]


def avr_row(key: str, model, rows, calibration, quantize: str | None, folder: Path) -> dict[str, object]:
    """One model on the ATmega328P: sizes, then cycles in simavr."""
    name = key
    export = export_c(model, folder / f"{name}.h", name=name, quantize=quantize, calibration=calibration)
    P = name.upper()
    call = f"{name}_predict(x, y);"
    flash, ram = avr_size(folder, SIZE_MAIN.format(name=name, P=P, call=call))
    base_flash, base_ram = avr_size(folder, SIZE_MAIN.format(name=name, P=P, call="y[0] = x[0];"))
    q_flash = q_ram = None
    if quantize:
        q_flash, q_ram = avr_size(folder, SIZE_Q_MAIN.format(name=name, P=P, call=f"{name}_predict_q(x, y);"))
        q_base = avr_size(folder, SIZE_Q_MAIN.format(name=name, P=P, call="y[0] = x[0];"))
        q_flash, q_ram = q_flash - q_base[0], q_ram - q_base[1]
    inputs = export.inputs(rows)
    literal = ", ".join("{" + ", ".join(float_literal(v) for v in row) + "}" for row in inputs)
    q_part = Q_PART.format(name=name, P=P) if quantize else ""
    source = CYCLES_MAIN.format(
        name=name, P=P, support=AVR_SUPPORT, n=len(inputs), rows=literal, q_part=q_part
    )
    (folder / "cycles.c").write_text(source)
    link = ["-Wl,-u,vfprintf", "-lprintf_flt", "-lm"]
    subprocess.run([*AVR, *defines(folder), "cycles.c", "-o", "cycles.elf", *link], cwd=folder, check=True)
    sim = subprocess.run(
        ["simavr", "-m", "atmega328p", "-f", "16000000", "cycles.elf"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    parsed = parse_output(sim.stdout + sim.stderr)
    cycles = statistics.median(row["cycles"][0] for row in parsed)
    q_cycles = statistics.median(row["qcycles"][0] for row in parsed) if quantize else None
    shape = [export.spec.n_features, *(layer.n_out for layer in export.spec.layers)]
    scratch = int(re.search(rf"#define {P}_SCRATCH_BYTES (\d+)", export.header).group(1))
    return {
        "model": f"{key} ({'-'.join(map(str, shape))})",
        "precision": quantize or "float32",
        "flash": flash - base_flash,
        "ram": ram - base_ram,
        "scratch": scratch,
        "cycles": cycles,
        "q_cycles": q_cycles,
        "q_flash": q_flash,
        "q_ram": q_ram,
    }


def avr_table() -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, (model, header_rows, calibration) in avr_models().items():
            for quantize in (None, "int8"):
                folder = Path(tmp) / f"{key}-{quantize}"
                folder.mkdir()
                rows.append(avr_row(key, model, header_rows, calibration, quantize, folder))
    lines = [
        "| model | precision | flash (bytes) | static RAM (bytes) | stack scratch (bytes) "
        "| cycles per `predict` | ms at 16 MHz | `predict_q` alone: flash, cycles |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        q = f"{r['q_flash']}, {r['q_cycles']:.0f}" if r["q_cycles"] is not None else "-"
        lines.append(
            f"| {r['model']} | {r['precision']} | {r['flash']} | {r['ram']} | {r['scratch']} | "
            f"{r['cycles']:.0f} | {r['cycles'] / 16000:.2f} | {q} |"
        )
    return "\n".join(lines)


HOST_MAIN = """#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>
#include "{name}.h"
static float rows[8][{P}_N_INPUTS];
int main(void) {{
    for (int r = 0; r < 8; ++r)
        for (int i = 0; i < {P}_N_INPUTS; ++i) rows[r][i] = (float)((r * 31 + i * 17) % 256) / 255.0f;
    float out[{P}_N_OUTPUTS];
    volatile float sink = 0.0f;
    for (int repeat = 0; repeat < {repeats}; ++repeat) {{
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int k = 0; k < {loops}; ++k) {{ {name}_predict(rows[k % 8], out); sink += out[0]; }}
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
        printf("%.1f\\n", ns / {loops});
    }}
    return 0;
}}
"""


def host_c(net, quantize: str | None, X: np.ndarray, folder: Path, repeats: int) -> float:
    """Median ns per one-row prediction of the generated C (gcc -O2)."""
    export_c(net, folder / "mnist.h", name="mnist", quantize=quantize, calibration=X)
    (folder / "bench.c").write_text(HOST_MAIN.format(name="mnist", P="MNIST", repeats=repeats, loops=2000))
    subprocess.run(["gcc", "-std=c99", "-O2", "bench.c", "-o", "bench", "-lm"], cwd=folder, check=True)
    out = subprocess.run([str(folder / "bench")], capture_output=True, text=True, check=True).stdout
    return statistics.median(float(v) for v in out.split())


def timed(function, repeats: int, loops: int = 2000) -> float:
    """Median ns per call over ``repeats`` loops of ``loops`` calls, after a warm-up."""
    for _ in range(100):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(loops):
            function()
        times.append((time.perf_counter_ns() - start) / loops)
    return statistics.median(times)


def host_table(repeats: int = 7) -> str:
    net = cr.Network(
        [784, 256, 128, 10], activation="relu", output_activation="softmax", seed=0, dtype="float32"
    )
    X = np.random.default_rng(0).random((256, 784)).astype(np.float32)
    row = X[:1]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["generated C, float32 (gcc -O2)"] = host_c(net, None, X, Path(tmp), repeats)
        results["generated C, int8 (gcc -O2)"] = host_c(net, "int8", X, Path(tmp), repeats)
        results["chainrule `Network.predict`"] = timed(lambda: net.predict(row), repeats)
        try:
            import onnxruntime as ort

            cr.export_onnx(net, Path(tmp) / "m.onnx")
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            session = ort.InferenceSession(
                str(Path(tmp) / "m.onnx"), options, providers=["CPUExecutionProvider"]
            )
            results["onnxruntime (1 thread)"] = timed(
                lambda: session.run(["output"], {"input": row}), repeats
            )
        except ImportError:
            print("onnxruntime is not installed: no onnxruntime row", file=sys.stderr)
    lines = ["| one-row predict, 784-256-128-10 | µs per row |", "|---|---:|"]
    lines += [f"| {name} | {ns / 1000:.1f} |" for name, ns in results.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the tables; do not write the doc")
    args = parser.parse_args()
    machine = f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}"
    text = (
        f"Measured by `python benchmarks/c_export.py` ({machine}; simavr for the ATmega328P).\n\n"
        f"{avr_table()}\n\n{host_table()}\n"
    )
    print(text)
    if not args.print:
        doc = DOC.read_text()
        start, stop = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        DOC.write_text(doc[:start] + "\n" + text + doc[stop:])
        print(f"wrote the tables into {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
