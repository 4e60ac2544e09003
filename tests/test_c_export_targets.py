"""Export to C on its targets: an ATmega328P simulated by simavr, no floating point in the
integer path, the header's promises (includes, ``static inline``, names), and the CLI.

Needs avr-gcc, avr-libc and simavr for the AVR tests (Debian: ``gcc-avr avr-libc simavr``),
gcc for the host ones; each skips, naming what is missing, without them.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess

import numpy as np
import pytest

import chainrule as cr
from chainrule.examples import seed_002_xor_train
from chainrule.io.c_export import export_c, write_test_program
from chainrule.io.c_export.harness import parse_output
from chainrule.io.c_export.quantize import features32, predict_q, quantize_inputs
from tests.conftest import run

AVR = ["avr-gcc", "-mmcu=atmega328p", "-Os", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
AVR_FLOAT_ROUTINES = re.compile(
    r"\b__(add|sub|mul|div)sf3\b|\b__(fix|fixuns)sfsi\b|\b__float(un)?sisf\b|\b__fp_"
)


def need(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: apt-get install gcc g++ gcc-avr avr-libc simavr)")


@pytest.fixture(scope="module")
def xor():
    """The tutorial's XOR network with biases and a tanh hidden layer, trained by chainrule."""
    net, _ = seed_002_xor_train.train_tanh_with_biases()
    return net, seed_002_xor_train.X[:, :2].astype(float)


def avr_build(folder, sources: list[str], *extra: str):
    elf = folder / "prog.elf"
    flags = ["-Wdouble-promotion", "-DXOR_PROGMEM", *extra]
    build = subprocess.run(
        [*AVR, *flags, *sources, "-o", elf.name], cwd=folder, capture_output=True, text=True
    )
    assert build.returncode == 0, build.stderr
    return elf


def simulate(elf) -> list[dict[str, list[float]]]:
    """Run an ATmega328P program in simavr at 16 MHz; its UART output is on stderr."""
    result = subprocess.run(
        ["simavr", "-m", "atmega328p", "-f", "16000000", str(elf)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return parse_output(result.stdout + result.stderr)


@pytest.mark.toolchain
@pytest.mark.parametrize("quantize", [None, "int8"])
def test_xor_on_an_atmega328p_in_simavr_prints_chainrules_classes(quantize, xor, tmp_path):
    need("avr-gcc", "simavr")
    net, X = xor
    export = export_c(net, tmp_path / "xor.h", name="xor", quantize=quantize, calibration=X)
    write_test_program(export, tmp_path, X)
    sources = ["main.c", "second.c"] + (["qonly.c"] if quantize else [])
    elf = avr_build(tmp_path, sources, "-Wl,-u,vfprintf", "-lprintf_flt", "-lm")
    rows = simulate(elf)
    assert [row["row"][0] for row in rows] == [0, 1, 2, 3]
    assert [row["class"][0] for row in rows] == net.predict_classes(X).tolist() == [0, 1, 1, 0]
    assert [row["second"][0] for row in rows] == [0, 1, 1, 0]
    assert all(row["cycles"][0] > 0 for row in rows)
    outputs = np.array([row["out"] for row in rows])
    if quantize is None:
        assert np.max(np.abs(outputs - net.predict(X))) < 1e-5
    else:
        q_in = quantize_inputs(export.quantized, features32(export.spec, X))
        assert np.array_equal([row["qin"] for row in rows], q_in)
        assert np.array_equal([row["qout"] for row in rows], predict_q(export.quantized, q_in))


Q_MAIN = """#include <stdint.h>
#include "xor.h"
void q_only(const int8_t *inputs, int8_t *outputs);
volatile int8_t sink;
int main(void) {
    int8_t in[XOR_N_FEATURES] = {-128, 127}, out[XOR_N_OUTPUTS];
    q_only(in, out);
    sink = out[0];
    return 0;
}
"""


FLOAT_CALL = """q_only(in, out);
    float f[XOR_N_INPUTS] = {(float)in[0], 1.0f}, g[XOR_N_OUTPUTS];
    xor_predict(f, g);
    out[0] = (int8_t)(g[0] > 0.5f);"""


@pytest.mark.toolchain
def test_the_int8_path_links_no_floating_point_code_on_avr(xor, tmp_path):
    """An FPU-less chip: a program calling only xor_predict_q links none of libgcc's soft-float."""
    need("avr-gcc", "avr-nm")
    net, X = xor
    export = export_c(net, tmp_path / "xor.h", name="xor", quantize="int8", calibration=X)
    write_test_program(export, tmp_path, X)
    (tmp_path / "qmain.c").write_text(Q_MAIN)
    (tmp_path / "fmain.c").write_text(Q_MAIN.replace("q_only(in, out);", FLOAT_CALL))

    def symbols(source: str) -> str:
        elf = avr_build(tmp_path, [source, "qonly.c"])
        return subprocess.run(["avr-nm", str(elf)], capture_output=True, text=True, check=True).stdout

    assert not AVR_FLOAT_ROUTINES.search(symbols("qmain.c"))
    assert AVR_FLOAT_ROUTINES.search(symbols("fmain.c"))  # the check can fail: the float path has them


@pytest.mark.toolchain
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="-mgeneral-regs-only: x86-64 gcc")
def test_the_int8_path_compiles_without_floating_point_registers_on_the_host(xor, tmp_path):
    need("gcc")
    net, X = xor
    export = export_c(net, tmp_path / "xor.h", name="xor", quantize="int8", calibration=X)
    write_test_program(export, tmp_path, X)
    flags = [
        "gcc",
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-Wpedantic",
        "-Werror",
        "-O2",
        "-mgeneral-regs-only",
        "-c",
    ]
    assert subprocess.run([*flags, "qonly.c"], cwd=tmp_path, capture_output=True).returncode == 0
    # the float functions of the same header do need them: the flag does catch float code
    assert subprocess.run([*flags, "second.c"], cwd=tmp_path, capture_output=True).returncode != 0


def functions_and_includes(header: str) -> tuple[list[str], list[str]]:
    definitions = re.findall(r"^([A-Za-z].*\)) \{$", header, flags=re.MULTILINE)
    includes = re.findall(r"^#include (\S+)", header, flags=re.MULTILINE)
    return definitions, includes


@pytest.mark.parametrize("quantize", [None, "int8"])
def test_the_header_keeps_its_promises(quantize, tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "color": rng.choice(["red", "blue"], 60)})
    frame["label"] = np.where(frame["a"] > 0, "yes", "no")
    model = cr.train_table(frame, "label", layers=[4], epochs=3, seed=0)
    header = export_c(model, tmp_path / "m.h", name="m", quantize=quantize, calibration=frame).header
    definitions, includes = functions_and_includes(header)
    assert definitions and all(d.startswith("static inline ") for d in definitions)
    assert sorted(includes) == ["<avr/pgmspace.h>", "<math.h>", "<stdint.h>"]
    assert "#if defined(M_PROGMEM) && defined(__AVR__)\n#include <avr/pgmspace.h>" in header
    code = re.sub(r"/\*.*?\*/", "", header, flags=re.DOTALL)
    for word in ("malloc", "printf", "stdio", "double", "static float", "static int8_t"):
        assert word not in code  # no allocation, no I/O, no double, no mutable static state
    assert 'M_INPUT_NAMES[M_N_INPUTS] = {"a", "color"}' in header
    assert 'M_CLASS_LABELS[M_N_CLASSES] = {"no", "yes"}' in header
    assert "enum m_color { M_COLOR_BLUE = 0, M_COLOR_RED = 1 };" in header


@pytest.mark.toolchain
def test_names_and_labels_read_back_from_c_as_the_model_has_them(tmp_path):
    need("gcc")
    pd = pytest.importorskip("pandas")
    names = ['quote"d', "süß", "tri??=graph", "back\\slash"]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({name: rng.normal(size=40) for name in names})
    frame["label"] = rng.choice(["é", "a?b"], 40)
    model = cr.train_table(frame, "label", layers=[3], epochs=2, seed=0)
    export_c(model, tmp_path / "m.h", name="m")
    (tmp_path / "names.c").write_text(
        '#include <stdio.h>\n#include "m.h"\nint main(void) {\n'
        '    for (int i = 0; i < M_N_INPUTS; ++i) printf("%s\\n", M_INPUT_NAMES[i]);\n'
        '    for (int i = 0; i < M_N_CLASSES; ++i) printf("%s\\n", M_CLASS_LABELS[i]);\n'
        "    return 0;\n}\n"
    )
    flags = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "names.c", "-o", "names"]
    subprocess.run(flags, cwd=tmp_path, check=True)
    printed = subprocess.run([str(tmp_path / "names")], capture_output=True, check=True).stdout.decode()
    assert printed.splitlines() == [*names, *model.preprocessor.classes]


def test_export_c_refuses_what_it_cannot_write(xor, tmp_path):
    net, _ = xor
    with pytest.raises(ValueError, match="C identifier"):
        export_c(net, tmp_path / "x.h", name="2fast")
    with pytest.raises(ValueError, match="quantize"):
        export_c(net, tmp_path / "x.h", quantize="int4")
    with pytest.raises(ValueError, match="calibration"):
        export_c(net, tmp_path / "x.h", quantize="int8")
    with pytest.raises(TypeError):
        export_c(object(), tmp_path / "x.h")
    assert not (tmp_path / "x.h").exists()


@pytest.mark.toolchain
def test_the_cli_writes_a_header_and_a_test_program_that_builds(folder):
    need("gcc")
    run("train", "signs.csv", "--target", "label", "--out", "m.npz", "--epochs", "20", "--quiet", cwd=folder)
    result = run("export", "m.npz", "signs.h", "--int8", "--test-program", "prog", cwd=folder)
    assert "signs_predict(inputs[2], outputs[1]), int8" in result.stderr
    command = result.stderr.strip().splitlines()[-1].split("&&", 1)[1].strip()
    built = subprocess.run(command, shell=True, cwd=folder / "prog", capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    rows = parse_output(built.stdout)
    model = cr.load(folder / "m.npz")
    frame = __import__("pandas").read_csv(folder / "signs.csv").head(20)
    expected = [list(model.classes_).index(label) for label in model.predict(frame)]
    agreement = np.mean([row["class"][0] == e for row, e in zip(rows, expected, strict=True)])
    assert len(rows) == 20 and agreement >= 0.9  # int8: nearly always chainrule's class
    float_run = run("export", "m.npz", "plain.h", "--name", "plain", cwd=folder)
    assert "float32" in float_run.stderr and "plain_predict(" in (folder / "plain.h").read_text()
    refused = run("export", "m.npz", "x.h", "--int8", "--calibration", "missing.csv", cwd=folder, ok=False)
    assert refused.returncode != 0 and "missing.csv" in refused.stderr
