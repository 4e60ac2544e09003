"""chainrule's speed and memory against the GEMM floor, a hand-written loop, PyTorch and scikit-learn.

    python benchmarks/run.py                 # every workload
    python benchmarks/run.py mnist tiny      # some of them
    python benchmarks/run.py --threads 1     # another BLAS / PyTorch thread count (default: 1,2)
    python benchmarks/run.py mnist tiny firstfit serve --write docs/performance.md   # the docs' table

Every contender trains the same network from the same initial weights on the same batches, at
the same thread count; runs are interleaved (A B C A B C ...) after a warm-up, and the table
gives median times and, per contender, the median over rounds of its time relative to the GEMM
floor's and to chainrule's in the same round, all measured in this one run. Final losses are
compared so that nobody is timed doing less work. PyTorch and scikit-learn are skipped, with a
note, when they are not installed.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from contenders import (
    Chainrule,
    ChainruleNumba,
    GemmFloor,
    NumpyLoop,
    SeedLoop,
    Sklearn,
    Torch,
    Workload,
    reference_loss,
)
from first_use import bench_first_fit, bench_serve

import chainrule as cr


def set_threads(n: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def available(contender_classes, workload):
    ready, notes = [], []
    for cls in contender_classes:
        try:
            ready.append(cls(workload))
        except ImportError as exc:
            notes.append(f"{cls.name} skipped: {exc.name or exc} is not installed")
    return ready, notes


def race(workload: Workload, contenders, repeats: int):
    """Time ``epoch()`` of each contender, interleaved, from the same weights every time."""
    weights = workload.initial_weights()
    times = {c.name: [] for c in contenders}
    losses = {}
    for c in contenders:  # warm-up: allocations, BLAS thread start, PyTorch's first-call costs
        c.setup(weights)
        c.epoch()
    for _ in range(repeats):
        for c in contenders:
            c.setup(weights)
            gc.collect()
            start = time.perf_counter()
            c.epoch()
            times[c.name].append(time.perf_counter() - start)
            trained = c.weights()
            if trained is not None:
                losses[c.name] = reference_loss(workload, trained)
    medians = {name: statistics.median(t) for name, t in times.items()}
    # Ratios as the median over rounds of each round's ratio: neighbours in a round share the
    # machine's state, so this resists drift on a shared machine better than a ratio of medians.
    ratios = {
        (a, b): statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))
        for a in times
        for b in times
    }
    return medians, losses, ratios


REFERENCES = ("GEMM floor", "chainrule", "chainrule (numba)", "seed tutorial's loop")


def table(title: str, medians: dict, losses: dict, ratios: dict, notes: list[str]) -> str:
    columns = [name for name in REFERENCES if name in medians]
    lines = [
        f"### {title}",
        "",
        "| contender | median (s) | " + " | ".join(f"vs {c}" for c in columns) + " | final loss |",
        "|---|---|" + "---|" * len(columns) + "---|",
    ]
    for name, t in sorted(medians.items(), key=lambda kv: kv[1]):
        cells = " | ".join(f"{ratios[(name, c)]:.3g}x" for c in columns)
        loss = f"{losses[name]:.6f}" if name in losses else "-"
        lines.append(f"| {name} | {t:.4g} | {cells} | {loss} |")
    reference = losses.get("chainrule")
    if reference is not None:
        spread = max(abs(v - reference) / abs(reference) for v in losses.values())
        lines.append("")
        lines.append(f"final losses agree within {spread:.1e} (relative)")
    lines.extend(f"note: {n}" for n in notes)
    return "\n".join(lines) + "\n"


def mnist_workload(optimizer: str, rows: int = 60000) -> Workload:
    rng = np.random.default_rng(0)
    X = rng.random((rows, 784), dtype=np.float32)
    teacher = rng.standard_normal((784, 10)).astype(np.float32)
    labels = ((X - 0.5) @ teacher).argmax(axis=1)  # a learnable rule using every class
    y = np.eye(10, dtype=np.float32)[labels]
    lr = 0.001 if optimizer == "adam" else 0.01
    return Workload(
        X, y, [784, 256, 128, 10], "relu", "softmax", "categorical_crossentropy", optimizer, lr, 128
    )


def bench_mnist(args) -> str:
    out = []
    for optimizer in args.optimizers:
        workload = mnist_workload(optimizer, args.rows)
        contenders, notes = available(
            [GemmFloor, Chainrule, ChainruleNumba, NumpyLoop, Torch, Sklearn], workload
        )
        medians, losses, ratios = race(workload, contenders, args.repeats)
        args.results[("mnist", optimizer, args.current_threads)] = ratios
        title = (
            f"mnist: 784-256-128-10 ReLU/softmax, batch 128, {optimizer}, float32, "
            f"one epoch of {args.rows} rows, {args.current_threads} thread(s)"
        )
        out.append(table(title, medians, losses, ratios, notes))
    return "\n".join(out)


def bench_tiny(args) -> str:
    from chainrule.examples.seed_000_truth_table import X, tutorial_weights, y

    W01, W12 = tutorial_weights()
    workload = Workload(
        X.astype(np.float64),
        y.astype(np.float64),
        [3, 4, 1],
        "sigmoid",
        "sigmoid",
        "half_sse",
        "sgd",
        1.0,
        None,
        steps=5000,
        bias=False,
    )
    workload.initial_weights = lambda seed=0: [(W01, np.zeros(4)), (W12, np.zeros(1))]
    contenders, notes = available(
        [GemmFloor, Chainrule, ChainruleNumba, SeedLoop, NumpyLoop, Torch, Sklearn], workload
    )
    notes.append(
        "scikit-learn cannot put a squared loss on a sigmoid output, nor drop the biases: it trains "
        "the same layer sizes on log-loss, so its final loss is not comparable"
    )
    medians, losses, ratios = race(workload, contenders, args.repeats)
    args.results[("tiny", "sgd", args.current_threads)] = ratios
    losses.pop("scikit-learn", None)
    threads = args.current_threads
    title = f"tiny: seed 000's 3-4-1 sigmoid network, 5000 full-batch steps, float64, {threads} thread(s)"
    return table(title, medians, losses, ratios, notes)


def bench_scaling(args) -> str:
    rng = np.random.default_rng(0)
    lines = [
        "### scaling: time per step relative to the GEMM floor (784-w-w-10, ReLU/softmax, SGD, float32)",
        "",
    ]
    batches = [1, 16, 128, 1024]
    lines.append("| hidden width | " + " | ".join(f"batch {b}" for b in batches) + " |")
    lines.append("|---" * (len(batches) + 1) + "|")
    for width in (32, 128, 512, 2048):
        cells = []
        for batch in batches:
            steps = int(np.clip(2e8 / (batch * width * (784 + width + 10) * 6), 3, 300))
            X = rng.random((batch * steps, 784), dtype=np.float32)
            y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(X))]
            workload = Workload(
                X,
                y,
                [784, width, width, 10],
                "relu",
                "softmax",
                "categorical_crossentropy",
                "sgd",
                0.01,
                batch,
            )
            _, _, ratios = race(
                workload, [GemmFloor(workload), Chainrule(workload)], max(3, args.repeats // 2)
            )
            cells.append(f"{ratios[('chainrule', 'GEMM floor')]:.2f}x")
        lines.append(f"| {width} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def bench_predict(args) -> str:
    workload = mnist_workload("sgd", 10000)
    weights = workload.initial_weights()
    net = Chainrule(workload)
    net.setup(weights)
    model = net.net

    def bare(x):
        a = x
        for i, (W, b) in enumerate(weights):
            a = a @ W + b
            if i < len(weights) - 1:
                a = np.maximum(a, 0)
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    one = workload.X[:1]
    cases = {
        "chainrule predict, 10000 rows": lambda: model.predict(workload.X),
        "bare NumPy forward, 10000 rows": lambda: bare(workload.X),
        "chainrule predict, 1 row": lambda: model.predict(one),
        "bare NumPy forward, 1 row": lambda: bare(one),
    }
    np.testing.assert_allclose(model.predict(workload.X[:100]), bare(workload.X[:100]), rtol=1e-4, atol=1e-6)
    results = {}
    for name, fn in cases.items():
        number = 20 if "10000" in name else 2000
        fn()
        samples = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - start) / number)
        results[name] = statistics.median(samples)
    lines = [
        "### predict: 784-256-128-10, float32",
        "",
        "| case | median | rows/s | vs bare NumPy |",
        "|---|---|---|---|",
    ]
    for name, t in results.items():
        rows = 10000 if "10000" in name else 1
        bare_t = results[f"bare NumPy forward, {'10000 rows' if rows > 1 else '1 row'}"]
        lines.append(f"| {name} | {t * 1e6:.1f} us | {rows / t:,.0f} | {t / bare_t:.2f}x |")
    return "\n".join(lines) + "\n"


def bench_memory(args) -> str:
    import tracemalloc

    workload = mnist_workload("sgd", 60000)
    X, y = workload.X, workload.y
    net = cr.Network(
        [784, 256, 128, 10], activation="relu", output_activation="softmax", dtype="float32", seed=0
    )
    # Load the kernels first (with numba: its import and cached machine code, ~35 MiB of Python
    # objects once per process, which is not memory the data costs).
    net.fit(X[:256], y[:256], optimizer=cr.SGD(0.01), epochs=1, batch_size=128, metrics=[])
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    net.fit(X, y, optimizer=cr.SGD(0.01), epochs=1, batch_size=128, metrics=[])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    added = peak - before
    data = X.nbytes + y.nbytes
    return (
        f"### memory: fit on 60000x784 float32 (mini-batch 128, shuffled), {cr.backend()} kernels\n\n"
        f"data {data / 2**20:.1f} MiB; peak memory that fit allocated on top of it: {added / 2**20:.1f} MiB "
        f"= {added / data:.1%} of the data (tracemalloc, which sees NumPy's allocations)\n"
    )


OUT_OF_CORE_SCRIPT = """
import resource, sys, threading, time
import numpy as np
budget = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_DATA, (budget, budget))  # caps heap and anonymous mmaps
import chainrule as cr

peak_anon = 0
def sample():
    global peak_anon
    while True:
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                peak_anon = max(peak_anon, int(line.split()[1]) * 1024)
        time.sleep(0.01)
threading.Thread(target=sample, daemon=True).start()
X = np.load(sys.argv[1], mmap_mode="r")
y = np.load(sys.argv[2], mmap_mode="r")
net = cr.Network([X.shape[1], 256, 128, 10], activation="relu", output_activation="softmax",
                 dtype="float32", seed=0)
start = time.perf_counter()
history = net.fit(X, y, optimizer=cr.SGD(0.01), epochs=1, batch_size=128, metrics=[])
elapsed = time.perf_counter() - start
hwm = max(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(elapsed, peak_anon, hwm, history["loss"][-1])
"""


def bench_out_of_core(args) -> str:
    import subprocess
    import tempfile

    rows = int(args.file_gib * 2**30 / (784 * 4))
    budget = int(args.budget_mib * 2**20)
    with tempfile.TemporaryDirectory() as folder:
        x_path, y_path = Path(folder) / "X.npy", Path(folder) / "y.npy"
        X = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(rows, 784))
        y = np.lib.format.open_memmap(y_path, mode="w+", dtype=np.float32, shape=(rows, 10))
        rng = np.random.default_rng(0)
        for start in range(0, rows, 65536):
            block = rng.random((min(65536, rows - start), 784), dtype=np.float32)
            X[start : start + len(block)] = block
            y[start : start + len(block)] = np.eye(10, dtype=np.float32)[block[:, :10].argmax(axis=1)]
        X.flush()
        y.flush()
        del X, y
        result = subprocess.run(
            [sys.executable, "-c", OUT_OF_CORE_SCRIPT, str(x_path), str(y_path), str(budget)],
            capture_output=True,
            text=True,
        )
        if result.returncode:
            return (
                f"### out-of-core\n\nfailed under a {args.budget_mib} MiB budget:\n{result.stderr[-2000:]}\n"
            )
        elapsed, anon, hwm, loss = (float(v) for v in result.stdout.split())
    size = rows * (784 + 10) * 4
    return (
        "### out-of-core: one epoch from a memory-mapped .npy larger than the memory budget\n\n"
        f"data file {size / 2**30:.2f} GiB ({rows} rows); budget {args.budget_mib} MiB of anonymous memory "
        f"(RLIMIT_DATA) = {size / budget:.1f}x smaller than the data\n"
        f"trained one epoch (batch 128, shuffled) in {elapsed:.1f} s, final loss {loss:.4f}; "
        f"peak anonymous memory {anon / 2**20:.0f} MiB; peak RSS {hwm / 2**20:.0f} MiB, of which the rest is "
        "the file's pages in the kernel's page cache (shared and reclaimable, not the process's own)\n"
    )


COMPILE_SCRIPT = """
import sys, time
import numpy as np
t0 = time.perf_counter()
import chainrule as cr
cr.set_backend("numba")
t1 = time.perf_counter()
rng = np.random.default_rng(0)
for dtype in ("float32", "float64"):
    X = rng.random((256, 20)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 256)]
    for optimizer in ("sgd", "momentum", "adam"):
        big = cr.Network([20, 600, 3], activation="relu", output_activation="softmax", seed=0)
        big.fit(X, y, optimizer=optimizer, epochs=1, batch_size=128)  # the per-step kernels
    small = cr.Network([20, 4, 3], activation="sigmoid", output_activation="softmax", seed=0)
    small.fit(X, y, epochs=10)  # the compiled chunk
print(t1 - t0, time.perf_counter() - t1)
"""


def bench_compile(args) -> str:
    """First-call cost of the Numba backend: compiling into an empty cache, then loading it."""
    import subprocess
    import tempfile

    from chainrule.nn import kernels

    if not kernels.numba_installed():
        return "### compile\n\nnumba is not installed\n"
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for case in ("empty cache (compiles)", "warm cache (loads)"):
            result = subprocess.run(
                [sys.executable, "-c", COMPILE_SCRIPT], capture_output=True, text=True, env=env
            )
            if result.returncode:
                return f"### compile\n\nfailed:\n{result.stderr[-2000:]}\n"
            imported, first = (float(v) for v in result.stdout.split())
            rows.append(f"| {case} | {imported:.2f} s | {first:.2f} s |")
    return (
        "### compile: first use of the Numba backend in a fresh process\n\n"
        "| numba cache | import chainrule + numba | first fits (3 optimizers x 2 dtypes + compiled chunk) |\n"
        "|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def bench_firstfit(args) -> str:
    text, results = bench_first_fit(max(1, min(args.repeats, 3)))
    args.results.update(results)
    return text


def bench_one_row(args) -> str:
    text, results = bench_serve(args.repeats)
    args.results.update(results)
    return text


def verdicts(results: dict) -> str:
    """The issue's targets, each met or missed with the measured number (only those measured)."""
    rows = []

    def check(target: str, key, pick, limit: float, unit: str = "x") -> None:
        value = pick(results[key]) if key in results else None
        if value is not None:
            rows.append(f"| {target} | {value:.3g}{unit} | {'met' if value <= limit else '**missed**'} |")

    def ratio(a, b):
        return lambda r: r.get((a, b))

    check(
        "cold first fit, Numba installed, unchosen: <= 1.5 s over NumPy",
        "first fit: unchosen, empty cache",
        lambda v: v,
        1.5,
        " s",
    )
    check(
        "warm first fit, unchosen: <= 0.1 s over NumPy",
        "first fit: unchosen, warm cache",
        lambda v: v,
        0.1,
        " s",
    )
    for threads, numba_limit, numpy_limit in ((1, 1.10, 1.20), (2, 1.15, 1.30)):
        key = ("mnist", "sgd", threads)
        check(
            f"mnist, Numba, {threads} thread(s): <= {numba_limit}x the floor",
            key,
            ratio("chainrule (numba)", "GEMM floor"),
            numba_limit,
        )
        check(
            f"mnist, NumPy backend, {threads} thread(s): <= {numpy_limit}x the floor",
            key,
            ratio("chainrule", "GEMM floor"),
            numpy_limit,
        )
    check(
        "mnist, Numba, 2 threads: >= 1.5x faster than PyTorch (time ratio <= 0.667)",
        ("mnist", "sgd", 2),
        ratio("chainrule (numba)", "PyTorch"),
        1 / 1.5,
    )
    for threads in (1, 2):
        key = ("tiny", "sgd", threads)
        check(
            f"seed-sized, NumPy backend, {threads} thread(s): <= 1.3x the classic loop",
            key,
            ratio("chainrule", "seed tutorial's loop"),
            1.3,
        )
        check(
            f"seed-sized, Numba, {threads} thread(s): <= 0.10x the classic loop",
            key,
            ratio("chainrule (numba)", "seed tutorial's loop"),
            0.10,
        )
    if "serve: onnxruntime (float64 graph)" in results:
        ort = results["serve: onnxruntime (float64 graph)"]
        check(
            "one-row predict (predictor): <= onnxruntime",
            "serve: chainrule predictor",
            lambda v: v / ort,
            1.0,
        )
    if not rows:
        return ""
    return "### the issue's targets\n\n| target | measured | |\n|---|---|---|\n" + "\n".join(rows) + "\n"


WORKLOADS = {
    "mnist": bench_mnist,
    "tiny": bench_tiny,
    "scaling": bench_scaling,
    "predict": bench_predict,
    "memory": bench_memory,
    "outofcore": bench_out_of_core,
    "compile": bench_compile,
    "firstfit": bench_firstfit,
    "serve": bench_one_row,
}
#: Workloads timed once per thread count; the others run once.
PER_THREADS = ("mnist", "tiny", "scaling")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workloads", nargs="*", choices=[*WORKLOADS, []], default=[])
    parser.add_argument("--threads", default="1,2", help="BLAS / PyTorch thread counts, e.g. 1,2")
    parser.add_argument("--write", help="also write the tables (markdown) to this file")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=60000, help="rows of the mnist workload")
    parser.add_argument("--optimizers", default="sgd,momentum,adam")
    parser.add_argument(
        "--file-gib", type=float, default=2.0, help="data file size of the outofcore workload"
    )
    parser.add_argument(
        "--budget-mib", type=float, default=512, help="memory budget of the outofcore workload"
    )
    args = parser.parse_args()
    args.optimizers = args.optimizers.split(",")
    counts = [int(n) for n in str(args.threads).split(",")]
    args.results = {}
    set_threads(counts[0])
    from threadpoolctl import threadpool_info

    blas = ", ".join(f"{i['internal_api']} {i['version']}" for i in threadpool_info())
    header = (
        f"chainrule {cr.__version__}, NumPy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores; BLAS: {blas}; threads {counts}; "
        f"load average {os.getloadavg()[0]:.1f} at the start; {time.strftime('%Y-%m-%d')}"
    )
    sections = [f"```\n{header}\n```\n"]
    print(sections[0], flush=True)
    for name in args.workloads or WORKLOADS:
        for threads in counts if name in PER_THREADS else counts[:1]:
            set_threads(threads)
            args.current_threads = threads
            sections.append(WORKLOADS[name](args))
            print(sections[-1], flush=True)
    sections.append(verdicts(args.results))
    print(sections[-1])
    if args.write:
        write_between_markers(Path(args.write), "\n".join(sections))


START, END = "<!-- measured: start", "<!-- measured: end -->"


def write_between_markers(path: Path, tables: str) -> None:
    """Put ``tables`` between the page's two markers (the whole file when it has none)."""
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        marker_line, _ = rest.split("\n", 1)
        _, tail = rest.split(END, 1)
        text = f"{head}{START}{marker_line}\n{tables}\n{END}{tail}"
    else:
        text = tables
    path.write_text(text)


if __name__ == "__main__":
    main()
