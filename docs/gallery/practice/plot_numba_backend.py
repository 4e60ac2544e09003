"""
The Numba backend
=================

The element-wise work of a step (bias + activation, the activation's slope and the bias
gradient, the output block, the optimizer's update) goes through one seam,
``chainrule.nn.kernels``. ``pip install "chainrule[numba]"`` adds compiled versions of those
functions; the matrix products stay in NumPy's BLAS. ``chainrule.set_backend`` (or the
``CHAINRULE_BACKEND`` environment variable) chooses; with Numba installed it is chosen by
default, and ``History.backend`` records which one trained.

Here the same 2-16-16-1 network trains on the same data with each backend available, and the
weights agree to rounding (the compiled ``tanh`` and sums may round the last bit differently;
with a very large step size such differences grow over many steps, as any rounding does in a
chaotic run). The first Numba call compiles the kernels (cached on disk after that), so the
timings below are of a second run.
"""

import importlib.util
import time

import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)
X = rng.normal(size=(512, 2))
y = (X[:, 0] * X[:, 1] > 0).astype(float)  # XOR of the signs
EPOCHS = 100

backends = ["numpy"] + (["numba"] if importlib.util.find_spec("numba") else [])
results = {}
for name in backends:
    with cr.use_backend(name):  # this block only; the process default stays as it was
        for _ in range(2):  # the first run pays for compiling (numba) and warms the caches
            net = cr.Network([2, 16, 16, 1], activation="tanh", output_activation="sigmoid", seed=0)
            start = time.perf_counter()
            history = net.fit(X, y, optimizer=cr.SGD(lr=0.05, momentum=0.9), epochs=EPOCHS, batch_size=64)
            seconds = time.perf_counter() - start
    results[name] = net.get_weights()
    print(
        f"{history.backend:>5}: {EPOCHS} epochs in {seconds:.3f} s, final loss {history['loss'][-1]:.6f}, "
        f"accuracy {history['accuracy'][-1]:.3f}"
    )

if len(results) == 2:
    gap = max(
        float(np.max(np.abs(a[key] - b[key])))
        for a, b in zip(results["numpy"], results["numba"], strict=True)
        for key in a
    )
    print(f"largest weight difference between the backends: {gap:.2e}")
else:
    print("Numba is not installed here: pip install 'chainrule[numba]' to compare")
