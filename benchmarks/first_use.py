"""What a user feels first: a first fit in a fresh process (cold and warm Numba cache), one-row predict.

Both workloads return ``(markdown, results)``; `benchmarks/run.py` prints the markdown and
checks the issue's targets from the results.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import chainrule as cr

FIRST_FIT = """
import numpy as np
import chainrule as cr
rng = np.random.default_rng(0)
X = rng.normal(size=(150, 4))
y = (X @ rng.normal(size=(4, 3))).argmax(axis=1)  # an iris-sized table, three classes
net = cr.Network([4, 16, 3], activation="relu", output_activation="softmax", seed=0)
history = net.fit(X, y, epochs=100, batch_size=32)
print(history.backend)
"""


def _child(env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of a fresh interpreter running `FIRST_FIT`, and its backend."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", FIRST_FIT], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        raise RuntimeError(result.stderr[-2000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout.split()[-1]


def bench_first_fit(repeats: int) -> tuple[str, dict[str, float]]:
    """Fresh processes, interleaved: NumPy by name, unchosen (auto), Numba by name; cold and warm."""
    from chainrule.nn import kernels

    base = {k: v for k, v in os.environ.items() if k not in ("CHAINRULE_BACKEND", "NUMBA_CACHE_DIR")}
    cases = ["NumPy by name", "unchosen, empty cache", "unchosen, warm cache"]
    if kernels.numba_installed():
        cases += ["Numba by name, empty cache", "Numba by name, warm cache"]
    times: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
    backends: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as root:
        warm = os.path.join(root, "warm")  # filled once (compiled), then only loaded
        for round_ in range(repeats):
            for case in cases:
                env = dict(base)
                if "by name" in case:
                    env["CHAINRULE_BACKEND"] = "numpy" if case.startswith("NumPy") else "numba"
                cold = os.path.join(root, f"cold{round_}-{len(times[case])}-{case[:5]}")
                env["NUMBA_CACHE_DIR"] = cold if "empty" in case else warm
                if "warm" in case:  # fill the cache first (a numba run compiles what this case needs)
                    _child({**env, "CHAINRULE_BACKEND": env.get("CHAINRULE_BACKEND", "numba")})
                wall, cpu, backends[case] = _child(env)
                times[case].append((wall, cpu))
    medians = {case: statistics.median(w for w, _ in t) for case, t in times.items()}
    cpus = {case: statistics.median(c for _, c in t) for case, t in times.items()}
    numpy_wall = times["NumPy by name"]
    extra = {
        case: statistics.median(w - n for (w, _), (n, _) in zip(t, numpy_wall, strict=True))
        for case, t in times.items()
    }
    lines = [
        "### first fit: a fresh process imports chainrule and fits an iris-sized table "
        "(150 rows, 4-16-3, 100 epochs)",
        "",
        "| case | backend used | wall (s) | CPU (s) | wall over NumPy by name (s) |",
        "|---|---|---|---|---|",
    ]
    for case in cases:
        lines.append(
            f"| {case} | {backends[case]} | {medians[case]:.2f} | {cpus[case]:.2f} | {extra[case]:+.2f} |"
        )
    lines.append("")
    lines.append(f"medians of {repeats} interleaved rounds; each empty cache is a new NUMBA_CACHE_DIR")
    return "\n".join(lines) + "\n", {f"first fit: {case}": value for case, value in extra.items()}


def bench_serve(repeats: int) -> tuple[str, dict[str, float]]:
    """One row through a 4-16-3 ReLU/softmax network: chainrule, bare NumPy, scikit-learn, onnxruntime."""
    from chainrule.nn import kernels

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    labels = (X @ rng.normal(size=(4, 3))).argmax(axis=1)
    net = cr.Network([4, 16, 3], activation="relu", output_activation="softmax", seed=0)
    with cr.use_backend("numpy"):
        net.fit(X, labels, epochs=20)
        predictor = net.predictor()
    (W1, b1), (W2, b2) = ((layer.params["W"], layer.params["b"]) for layer in net.layers)
    row = X[:1].copy()

    def bare(x):
        z = np.maximum(x @ W1 + b1, 0.0) @ W2 + b2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    cases = {
        "chainrule predict": lambda: net.predict(row),
        "chainrule predictor": lambda: predictor(row),
        "two bare NumPy products": lambda: bare(row),
    }
    notes = []
    if kernels.numba_installed():
        with cr.use_backend("numba"):
            compiled = net.predictor()  # bit-identical to predict under the same backend
            assert np.array_equal(compiled(row), net.predict(row))
        cases["chainrule predictor, Numba kernels"] = lambda: compiled(row)
    try:
        from sklearn.neural_network import MLPClassifier

        model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=1).fit(X, labels)
        model.coefs_, model.intercepts_ = [W1.copy(), W2.copy()], [b1.copy(), b2.copy()]
        cases["scikit-learn predict_proba"] = lambda: model.predict_proba(row)
    except ImportError:
        notes.append("scikit-learn skipped: not installed")
    try:
        import onnxruntime as ort

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "net.onnx")
            cr.export_onnx(net, path, dtype="float64")
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        cases["onnxruntime (float64 graph)"] = lambda: session.run(None, {name: row})
    except ImportError:
        notes.append("onnxruntime skipped: not installed")
    with cr.use_backend("numpy"):
        assert np.array_equal(predictor(row), net.predict(row))
        samples: dict[str, list[float]] = {case: [] for case in cases}
        for _ in range(repeats):
            for case, fn in cases.items():  # interleaved, 2000 calls each
                fn()
                start = time.perf_counter()
                for _ in range(2000):
                    fn()
                samples[case].append((time.perf_counter() - start) / 2000)
    medians = {case: statistics.median(s) for case, s in samples.items()}
    reference = medians.get("onnxruntime (float64 graph)")
    lines = [
        "### one-row predict: 4-16-3 ReLU/softmax, float64",
        "",
        "| case | median (us) | vs onnxruntime |",
        "|---|---|---|",
    ]
    for case, t in sorted(medians.items(), key=lambda kv: kv[1]):
        ratio = f"{t / reference:.2f}x" if reference else "-"
        lines.append(f"| {case} | {t * 1e6:.1f} | {ratio} |")
    lines.extend(f"note: {n}" for n in notes)
    return "\n".join(lines) + "\n", {f"serve: {case}": t for case, t in medians.items()}
