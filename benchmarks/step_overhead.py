"""Where a seed-sized NumPy step's time goes: NumPy's own calls against the Python around them.

    python benchmarks/step_overhead.py

On seed 000's 3-4-1 sigmoid network (4 rows, float64, no biases, half squared error, SGD) it
times, interleaved, microseconds per step:

- the tutorial's own loop (out-of-place NumPy, six lines);
- ``straight line``: the very NumPy calls chainrule's step makes (``out=`` buffers, the loss
  value included), written one after another with no function around them;
- chainrule's `train_step`, and its parts: each layer's forward, the output block, the backward
  pass, the optimizer's update;
- `fit` per epoch (one step an epoch, fast-forwarded: `Trainer.steps_forward`).

The gap between ``straight line`` and `train_step` is the Python of the step (layer objects,
kernels, checks); the gap between `train_step` and `fit` is the epoch's bookkeeping.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import chainrule as cr
from chainrule.examples import seed_000_truth_table as seed
from chainrule.nn.activations import overflow_ignored
from chainrule.nn.output import OutputBlock
from chainrule.train.step import backward, train_step

sys.path.insert(0, str(Path(__file__).resolve().parent))
from contenders import SeedLoop

X, y = seed.X.astype(np.float64), seed.y.astype(np.float64)
tutorial_weights = seed.tutorial_weights
STEPS = 2000


def network() -> cr.Network:
    W01, W12 = tutorial_weights()
    hidden = cr.Dense(3, 4, "sigmoid", weights=W01, bias=False)
    return cr.Network([hidden, cr.Dense(4, 1, "sigmoid", weights=W12, bias=False)], dtype=np.float64)


def tutorial_loop() -> None:
    loop = SeedLoop(SimpleNamespace(X=X, y=y, steps=STEPS))  # run.py's contender
    loop.setup([(W, None) for W in tutorial_weights()])
    loop.epoch()


def straight_line() -> None:
    A, B = tutorial_weights()
    z1, h, z2, out, d2, s2 = (np.empty(shape) for shape in [(4, 4), (4, 4), (4, 1), (4, 1), (4, 1), (4, 1)])
    g1, d1, gA, gB, sA, sB = (np.empty(shape) for shape in [(4, 4), (4, 4), (3, 4), (4, 1), (3, 4), (4, 1)])
    for _ in range(STEPS):
        np.dot(X, A, out=z1)
        np.reciprocal(np.add(np.exp(np.negative(z1, out=h), out=h), 1.0, out=h), out=h)
        np.dot(h, B, out=z2)
        np.reciprocal(np.add(np.exp(np.negative(z2, out=out), out=out), 1.0, out=out), out=out)
        np.subtract(out, y, out=d2)
        float(np.vdot(d2, d2))  # the loss value, as the output block computes it
        np.multiply(np.multiply(np.subtract(1.0, out, out=s2), out, out=s2), d2, out=s2)
        np.dot(h.T, s2, out=gB)
        np.dot(s2, B.T, out=g1)
        np.multiply(np.multiply(np.subtract(1.0, h, out=d1), h, out=d1), g1, out=d1)
        np.dot(X.T, d1, out=gA)
        np.subtract(A, np.multiply(gA, 1.0, out=sA), out=A)
        np.subtract(B, np.multiply(gB, 1.0, out=sB), out=B)


def parts() -> dict:
    net, optimizer = network(), cr.SGD(lr=1.0)
    loss = net.resolve_loss("half_sse")
    block, slots = OutputBlock(loss, net.output_activation, y), net.slots()
    first, second = net.layers
    hidden = first.forward(X, training=True)
    out = second.forward(hidden, training=True)
    _, grad = block(y, out)

    def repeat(step):
        def run():
            for _ in range(STEPS):
                step()

        return run

    return {
        "train_step": repeat(lambda: train_step(net, X, y, loss, optimizer, block=block, slots=slots)),
        "  layer 1 forward": repeat(lambda: first.forward(X, training=True)),
        "  layer 2 forward": repeat(lambda: second.forward(hidden, training=True)),
        "  output block": repeat(lambda: block(y, out)),
        "  backward (both layers)": repeat(lambda: backward(net.layers, grad, block.fused)),
        "  optimizer update": repeat(lambda: optimizer.step(slots)),
    }


def fit_per_epoch() -> None:
    network().fit(X, y, loss="half_sse", optimizer=cr.SGD(lr=1.0), epochs=STEPS, shuffle=False, metrics=[])


def main(rounds: int = 9) -> None:
    cr.set_backend("numpy")
    cases = {"tutorial's loop": tutorial_loop, "straight line": straight_line, **parts()}
    cases["fit"] = fit_per_epoch
    samples: dict[str, list[float]] = {name: [] for name in cases}
    with overflow_ignored():  # as inside fit
        for case in cases.values():
            case()  # warm-up
        for _ in range(rounds):
            for name, case in cases.items():
                start = time.perf_counter()
                case()
                samples[name].append((time.perf_counter() - start) / STEPS * 1e6)
    base = statistics.median(samples["tutorial's loop"])
    print(f"{'case':<28} {'us/step':>8} {'vs tutorial':>12}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<28} {median:>8.2f} {median / base:>11.2f}x")


if __name__ == "__main__":
    main()
