"""
From chainrule to a microcontroller: one C header, float32 and int8
===================================================================

One of the tutorials chainrule grows from trains a network on a PC and runs it as a separate
program on small hardware. ``chainrule.export_c`` writes a trained network (or a table model,
with its scaling compiled in) as one dependency-free C header: ``static const`` weights, buffers
sized at compile time, no malloc, only ``<math.h>`` and ``<stdint.h>``. Here the XOR network of
seed 002 (tanh, with biases) is exported twice, as float32 and as int8 with integer-only inner
loops, and, where a C compiler is installed, compiled and run beside chainrule's own predictions.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.examples import seed_002_xor_train

net, _ = seed_002_xor_train.train_tanh_with_biases()
X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
print("chainrule:", np.round(net.predict(X)[:, 0], 5))

# %%
# The header: the weights as ``static const`` arrays and ``xor_predict`` as a ``static inline``
# function, so it can be included from several files.
folder = Path(tempfile.mkdtemp())
cr.export_c(net, folder / "xor.h", name="xor")
cr.export_c(net, folder / "xor_q.h", name="xor_q", quantize="int8", calibration=X)
header = (folder / "xor.h").read_text()
shown = (
    "#define XOR_N_",
    "#define XOR_SCRATCH",
    "static inline void xor_predict",
    "static inline int xor_predict",
)
print("\n".join(line for line in header.splitlines() if line.startswith(shown)))

# %%
# A program that includes the float32 header and the int8 one, and predicts the four rows.
program = """
#include <stdio.h>
#include "xor.h"
#include "xor_q.h"
int main(void) {
    const float rows[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    for (int r = 0; r < 4; r++) {
        float out[1], out_q[1];
        xor_predict(rows[r], out);
        xor_q_predict(rows[r], out_q);
        printf("row %d: float32 %.5f  int8 %.5f\\n", r, (double)out[0], (double)out_q[0]);
    }
    return 0;
}
"""
compiler = shutil.which("cc") or shutil.which("gcc")
if compiler is None:
    print("no C compiler here: install gcc to run the header")
else:
    (folder / "main.c").write_text(program)
    flags = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O2"]
    subprocess.run([compiler, *flags, "main.c", "-o", "xor", "-lm"], cwd=folder, check=True)
    print(subprocess.run([str(folder / "xor")], capture_output=True, text=True, check=True).stdout)

# %%
# The float32 outputs agree with chainrule's to float32 rounding; the int8 ones to the
# quantization's step (1/128 of the output range), with the same classes. The guide
# "From chainrule to a microcontroller" shows the test program, the ATmega328P build in
# simavr, and the sizes and cycle counts of both headers.
