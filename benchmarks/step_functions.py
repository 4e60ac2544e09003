"""Count the chainrule functions (and files) one `train_step` visits, as `fit` calls it.

    python benchmarks/step_functions.py [numpy|numba]

A reader following one step through the code visits these functions; `sys.setprofile` lists
them (a 4-8-3 ReLU/softmax network, 32 rows, SGD, after one warm-up step).
"""

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.nn import kernels
from chainrule.nn.output import OutputBlock
from chainrule.train.step import train_step

root = str(Path(cr.__file__).parent)
backend = sys.argv[1] if len(sys.argv) > 1 else "numpy"
kernels.set_backend(backend)
rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4))
y = cr.one_hot(rng.integers(0, 3, 32), 3)
net = cr.Network([4, 8, 3], activation="relu", output_activation="softmax", seed=0)
opt = cr.SGD(0.1)
loss = net.resolve_loss(None)
block = OutputBlock(loss, net.output_activation, y)
slots = net.slots()
train_step(net, X, y, loss, opt, block=block, slots=slots)  # warm up: buffers, kernels bound
seen = {}


def prof(frame, event, arg):
    if event == "call" and frame.f_code.co_filename.startswith(root):
        key = (frame.f_code.co_filename[len(root) + 1 :], frame.f_code.co_name)
        seen[key] = seen.get(key, 0) + 1


sys.setprofile(prof)
train_step(net, X, y, loss, opt, block=block, slots=slots)
sys.setprofile(None)
files = sorted({f for f, _ in seen})
print(f"{backend}: {len(seen)} functions in {len(files)} files, {sum(seen.values())} calls")
for (f, n), c in sorted(seen.items()):
    print(f"  {f}:{n} x{c}")
