"""Where the compiled chunk stops paying: its time per step against the step path's, by step size.

    python benchmarks/chunk_threshold.py

For ReLU/softmax networks of growing width at batch 32 (4096 rows, SGD, Numba), it fits once
with every step in the compiled chunk and once with none (`chainrule.train.chunk.MAX_WORK`
forced either way), after a warm-up, and prints microseconds per step and their ratio. The
threshold `MAX_WORK` is set where the ratio crosses 1 (docs/performance.md, "The compiled chunk").
"""

from __future__ import annotations

import itertools
import time

import numpy as np

import chainrule as cr
from chainrule.train import chunk

SHAPES = [(4, 16, 3), (8, 32, 3), (16, 32, 4), (32, 32, 10), (32, 64, 10), (64, 64, 10)]


def per_step(sizes: tuple[int, ...], batch: int, in_chunk: bool, rows: int = 4096, epochs: int = 3) -> float:
    """Microseconds per step of `fit` with every step in the chunk, or none."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(rows, sizes[0])), cr.one_hot(rng.integers(0, sizes[-1], rows), sizes[-1])
    net = cr.Network(list(sizes), activation="relu", output_activation="softmax", seed=0)
    saved, chunk.MAX_WORK = chunk.MAX_WORK, (2**40 if in_chunk else 0)
    try:
        with cr.use_backend("numba"):
            options = dict(batch_size=batch, shuffle=False, metrics=[])
            net.fit(X, y, optimizer=cr.SGD(0.01), epochs=1, **options)  # warm-up: compiles
            start = time.perf_counter()
            net.fit(X, y, optimizer=cr.SGD(0.01), epochs=epochs, **options)
            return (time.perf_counter() - start) / (epochs * rows / batch) * 1e6
    finally:
        chunk.MAX_WORK = saved


def main(batch: int = 32) -> None:
    print(f"{'network':<16} {'multiply-adds':>14} {'chunk (us)':>11} {'steps (us)':>11} {'ratio':>6}")
    for sizes in SHAPES:
        work = batch * sum(a * b for a, b in itertools.pairwise(sizes))
        compiled, stepped = per_step(sizes, batch, True), per_step(sizes, batch, False)
        name, power = "-".join(map(str, sizes)), f"2^{np.log2(work):.1f}"
        print(f"{name:<16} {power:>14} {compiled:>11.1f} {stepped:>11.1f} {compiled / stepped:>6.2f}")


if __name__ == "__main__":
    main()
