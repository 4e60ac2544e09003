"""Data-parallel L-BFGS on 1, 2 and 4 Dask worker processes: time and bytes per iteration, and a model.

    python benchmarks/dask_scaling.py                 # writes its table into docs/performance.md
    python benchmarks/dask_scaling.py --rows 100000 --workers 1 2 4 --no-write

Each run trains the same network from the same weights on the same rows (split into 8 blocks)
with `chainrule.dask.fit_lbfgs` on a `LocalCluster` of N single-threaded worker processes,
after a warm-up fit. It reports seconds and payload bytes per evaluation (one evaluation per
L-BFGS iteration, plus line-search retries), then fits ``t(N) = a / N + b + c * N`` to the
measurements (a: the compute that splits over workers; b: the fixed cost of an iteration on the
driver and scheduler; c: the cost of each extra worker, the weights' broadcast and one more
gradient back) and predicts N machines: communication starts to dominate where ``b + c N``
exceeds ``a / N``. On a machine with fewer cores than workers the measured points are
oversubscribed, and the fitted ``a`` understates what more machines would split.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from pathlib import Path

import numpy as np

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
START, END = "<!-- dask-scaling:start -->", "<!-- dask-scaling:end -->"


def measure(workers: int, X: np.ndarray, Y: np.ndarray, blocks: int, iterations: int) -> dict[str, float]:
    """One cluster of ``workers`` processes: a warm-up fit, then the timed one."""
    import dask.array as da
    import distributed

    import chainrule as cr
    from chainrule.dask import fit_lbfgs

    os.environ["CHAINRULE_BACKEND"] = "numpy"  # the workers inherit it: no compile in the timings
    rows = X.shape[0] // blocks
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        Xd = client.persist(da.from_array(X, chunks=(rows, X.shape[1])))
        Yd = client.persist(da.from_array(Y, chunks=(rows, Y.shape[1])))
        sizes = [X.shape[1], 64, Y.shape[1]]
        fit_lbfgs(
            cr.Network(sizes, activation="tanh", output_activation="softmax", seed=0), Xd, Yd, max_iter=2
        )
        net = cr.Network(sizes, activation="tanh", output_activation="softmax", seed=0)
        began = time.perf_counter()
        history = fit_lbfgs(net, Xd, Yd, max_iter=iterations)
        wall = time.perf_counter() - began
    result = history.result
    assert result is not None
    return {
        "workers": workers,
        "iterations": result["nit"],
        "evaluations": result["nfev"],
        "seconds_per_evaluation": result["seconds_per_evaluation"],
        "seconds_per_iteration": wall / max(result["nit"], 1),
        "bytes_per_evaluation": result["bytes_per_evaluation"],
        "loss": result["fun"],
    }


def fit_model(points: list[dict[str, float]]) -> tuple[float, float, float]:
    """Least squares of ``t(N) = a / N + b + c N`` (non-negative terms) through the measurements."""
    n = np.array([p["workers"] for p in points], dtype=float)
    t = np.array([p["seconds_per_evaluation"] for p in points])
    from scipy.optimize import nnls

    design = np.column_stack([1.0 / n, np.ones_like(n), n])
    coefficients, _ = nnls(design, t)
    a, b, c = (float(x) for x in coefficients)
    return a, b, c


def table(points: list[dict[str, float]], rows: int, features: int, blocks: int) -> str:
    a, b, c = fit_model(points)
    lines = [
        f"{rows} rows x {features} features in {blocks} blocks, a {features}-64-3 tanh/softmax network "
        f"({features * 64 + 64 + 64 * 3 + 3} parameters); {platform.machine()}, {os.cpu_count()} cores, "
        "LocalCluster worker processes with 1 thread each, NumPy kernels; load average "
        f"{os.getloadavg()[0]:.1f} when written (other processes share the cores).",
        "",
        "| workers | s / iteration | s / evaluation | bytes / evaluation | iterations (evaluations) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        lines.append(
            f"| {p['workers']} | {p['seconds_per_iteration']:.4f} | {p['seconds_per_evaluation']:.4f} | "
            f"{p['bytes_per_evaluation']:,} | {p['iterations']} ({p['evaluations']}) |"
        )
    lines += [
        "",
        f"Model fitted to those points: t(N) = {a:.4f}/N + {b:.4f} + {c:.5f} N seconds per evaluation.",
        "",
        "| machines N | predicted s / evaluation | compute a/N | communication b + cN |",
        "|---:|---:|---:|---:|",
    ]
    for machines in (1, 2, 4, 8, 16, 32, 64):
        compute, comm = a / machines, b + c * machines
        lines.append(f"| {machines} | {compute + comm:.4f} | {compute:.4f} | {comm:.4f} |")
    crossover = (
        "never (no per-worker cost was measured)"
        if c == 0 and b == 0
        else (f"from about N = {next((m for m in range(1, 10_000) if b + c * m > a / m), 10_000)}")
    )
    lines += ["", f"Communication exceeds compute {crossover}."]
    return "\n".join(lines)


def write(text: str) -> None:
    doc = DOC.read_text()
    block = f"{START}\n{text}\n{END}"
    if START in doc:
        doc = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, doc, flags=re.S)
    else:
        doc = (
            doc.rstrip()
            + "\n\n## Data-parallel L-BFGS on Dask\n\n`benchmarks/dask_scaling.py` writes this section.\n\n"
            + block
            + "\n"
        )
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()
    from sklearn.datasets import make_classification

    X, labels = make_classification(
        n_samples=args.rows, n_features=args.features, n_informative=10, n_classes=3, random_state=0
    )
    Y = np.eye(3)[labels]
    points = [measure(n, X, Y, args.blocks, args.iterations) for n in args.workers]
    text = table(points, args.rows, args.features, args.blocks)
    print(text)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main()
