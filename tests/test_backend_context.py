"""The backend belongs to the run: independent networks train in threads as they do alone,
`use_backend` scopes a backend to a context, and an interrupted Numba import leaves the library
usable.

The thread tests run under each backend (numba skipped when it is not installed): four networks
trained at once from four threads must end with the weights, bit for bit, that the same networks
reach one after another. With a work buffer shared between networks (the NumPy kernels' ReLU
mask once was) they do not.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import kernels

NUMBA = pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent")
BACKENDS = ["numpy", pytest.param("numba", marks=NUMBA)]

#: (second hidden activation, output activation, loss, seed) of each thread's network. The first
#: hidden layer is ReLU in all four, of one shape, so a shared ReLU work array would be raced for.
NETWORKS = [
    ("relu", "softmax", "categorical_crossentropy", 1),
    ("relu", "softmax", "categorical_crossentropy", 2),
    ("tanh", "softmax", "categorical_crossentropy", 3),
    ("sigmoid", "sigmoid", "binary_crossentropy", 4),
]


@pytest.fixture(params=BACKENDS)
def default_backend(request):
    """The process default for the test (threads without a `use_backend` of their own use it)."""
    previous = kernels.backend()
    kernels.set_backend(request.param)
    yield request.param
    kernels.set_backend(previous)


def problem(seed: int, rows: int = 192, features: int = 12, classes: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features))
    y = np.zeros((rows, classes))
    y[np.arange(rows), rng.integers(0, classes, rows)] = 1.0
    return X, y


def train(spec: tuple, barrier: threading.Barrier | None = None) -> list[np.ndarray]:
    """Train one network of ``spec`` (waiting at ``barrier`` first); its final weights.

    A fifth entry in ``spec`` names a backend to train with (`use_backend`).
    """
    hidden, output, loss, seed = spec[:4]
    X, y = problem(seed)
    layers = [cr.Dense(12, 48, "relu"), cr.Dense(48, 48, hidden), cr.Dense(48, 3, output)]
    net = cr.Network(layers, seed=seed)
    if barrier is not None:
        barrier.wait()
    with cr.use_backend(spec[4]) if len(spec) > 4 else nullcontext():
        history = net.fit(X, y, loss=loss, optimizer="momentum", lr=0.05, epochs=4, batch_size=16, seed=seed)
    assert len(spec) == 4 or history.backend == spec[4]
    return [value for layer in net.get_weights() for value in layer.values()]


def in_threads(target, specs) -> list:
    """Run ``target(spec, barrier)`` for every spec at once, one thread each; their results."""
    barrier = threading.Barrier(len(specs))
    results: list = [None] * len(specs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = target(specs[i], barrier)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(specs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def assert_identical(got: list[np.ndarray], expected: list[np.ndarray], label: str) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert np.array_equal(a, b), f"{label}: weights differ from the serial run by {np.abs(a - b).max()}"


def test_networks_trained_in_threads_equal_serial_runs(default_backend):
    serial = [train(spec) for spec in NETWORKS]
    for trial in range(8):
        concurrent = in_threads(train, NETWORKS)
        for spec, got, expected in zip(NETWORKS, concurrent, serial, strict=True):
            assert_identical(got, expected, f"trial {trial}, {spec[0]} network seed {spec[3]}")


@NUMBA
def test_threads_each_with_their_own_backend_equal_serial_runs():
    specs = [(*spec, backend) for spec in NETWORKS for backend in ("numpy", "numba")]
    serial = [train(spec) for spec in specs]
    for trial in range(2):
        for spec, got, expected in zip(specs, in_threads(train, specs), serial, strict=True):
            assert_identical(got, expected, f"trial {trial}, {spec}")


# ------------------------------------------------------------------------------ use_backend
OTHER = "numba" if kernels.numba_installed() else "numpy"


def test_use_backend_nests_and_restores(default_backend):
    outside = kernels.current()
    with cr.use_backend("numpy") as name:
        assert name == cr.backend() == "numpy"
        assert kernels.current().dense_forward is kernels.ops.dense_forward
        assert kernels.ops.dense_forward.__module__ == "chainrule.nn.kernels.numpy_kernels"
        with cr.use_backend(OTHER):
            assert cr.backend() == OTHER
            assert kernels.ops.dense_forward.__module__ == f"chainrule.nn.kernels.{OTHER}_kernels"
        assert cr.backend() == "numpy"
        with pytest.raises(RuntimeError, match="inside"), cr.use_backend(OTHER):
            raise RuntimeError("inside")
        assert cr.backend() == "numpy"
    assert kernels.current() is outside and cr.backend() == default_backend


def test_use_backend_leaves_the_process_default_and_history_says_which_ran(default_backend):
    X, y = problem(0)
    with cr.use_backend(OTHER):
        history = cr.Network([12, 4, 3], seed=0).fit(X, y, epochs=1)
        assert kernels.planned() == OTHER
    assert history.backend == OTHER
    assert cr.backend() == kernels.planned() == default_backend
    cr.set_backend(default_backend)  # set_backend inside no block: the default, as before
    assert cr.backend() == default_backend


def test_a_thread_started_inside_use_backend_uses_the_process_default():
    """New threads start from an empty context: ContextVars are not inherited."""
    previous = kernels.backend()
    cr.set_backend(OTHER)
    try:
        process_default = kernels.current()
        seen = {}
        with cr.use_backend("numpy"):
            inside = kernels.current()
            thread = threading.Thread(target=lambda: seen.update(obj=kernels.current(), name=cr.backend()))
            thread.start()
            thread.join()
        assert inside is not process_default
        assert seen == {"obj": process_default, "name": OTHER}
    finally:
        cr.set_backend(previous)


def test_asyncio_tasks_keep_their_own_backend():
    async def task(name: str) -> list[str]:
        seen = []
        with cr.use_backend(name):
            for _ in range(3):
                await asyncio.sleep(0)  # the other task runs (and enters its block) here
                seen.append(cr.backend())
        return seen

    async def both() -> list[list[str]]:
        return await asyncio.gather(task("numpy"), task(OTHER))

    assert asyncio.run(both()) == [["numpy"] * 3, [OTHER] * 3]


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="choose one of numpy, numba"), cr.use_backend("cupy"):
        pass
    with pytest.raises(ValueError, match="choose one of numpy, numba"):
        cr.set_backend("cupy")


def test_numba_without_numba_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(kernels, "numba_installed", lambda: False)
    monkeypatch.setattr(kernels, "_loaded", {})  # as in a process that never loaded it
    with pytest.raises(ImportError, match=r'pip install "chainrule\[numba\]"'), cr.use_backend("numba"):
        pass


def test_the_shared_constants_are_read_only():
    from chainrule.nn.kernels import numpy_kernels

    a = np.abs(np.random.default_rng(0).normal(size=(5, 4)))
    numpy_kernels.dense_forward(a.copy(), None, cr.get_activation("relu"), np.empty_like(a))
    numpy_kernels.bias_grad(a, np.empty(4))
    shared = [array for array in vars(numpy_kernels).values() if isinstance(array, dict)]
    constants = [value for table in shared for value in table.values() if isinstance(value, np.ndarray)]
    assert constants and not any(array.flags.writeable for array in constants)
    assert all(array.dtype != bool for array in constants)  # no work mask among them


# ------------------------------------------------------------------ an interrupted import
def run_python(code: str, *paths: Path, backend: str = "") -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter importing this chainrule (``paths`` first on the path)."""
    source = str(Path(cr.__file__).resolve().parents[1])
    path = os.pathsep.join([*map(str, paths), source, os.environ.get("PYTHONPATH", "")])
    environment = {**os.environ, "PYTHONPATH": path, kernels.ENVIRONMENT_VARIABLE: backend}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


INTERRUPTED = """
    import sys, warnings
    warnings.simplefilter("error")  # a fallback warning would fail the run
    import numpy as np
    import chainrule as cr

    class Interrupt:
        \"\"\"Ctrl-C as ``{module}`` is about to be imported, once.\"\"\"
        fired = False

        def find_spec(self, name, path=None, target=None):
            if name == "{module}" and not Interrupt.fired:
                Interrupt.fired = True
                raise KeyboardInterrupt
            return None

    sys.meta_path.insert(0, Interrupt())
    X, y = np.random.default_rng(0).normal(size=(8, 2)), np.arange(8) % 2
    net = cr.Network([2, 3, 1], seed=0)
    try:
        net.fit(X, y, epochs=2)
    except KeyboardInterrupt:
        pass
    assert Interrupt.fired, "the import was not interrupted"
    print(net.fit(X, y, epochs=20).backend, cr.backend())
"""


@NUMBA
@pytest.mark.parametrize(
    "module",
    ["numba.core.types.misc", "numba.core.lowering", "numba.typed", "chainrule.nn.kernels.numba_passes"],
)
def test_an_interrupted_numba_import_leaves_fit_working(module):
    result = run_python(INTERRUPTED.format(module=module), backend="numba")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["numba", "numba"]


FALLBACK = """
    import sys, warnings
    import numpy as np
    import chainrule as cr

    class Stop(cr.Callback):  # a run long enough for the automatic choice to want Numba, stopped
        def on_epoch_end(self, epoch, logs):
            self.network.stop_training = epoch >= 1

    X, y = np.random.default_rng(0).normal(size=(8, 2)), np.arange(8) % 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backends = [
            cr.Network([2, 3, 1], seed=0).fit(X, y, epochs=10**8, callbacks=[Stop()]).backend
            for _ in range(2)
        ]
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    assert not [name for name in sys.modules if name.startswith("numba")], "half-imported numba kept"
    print(backends, messages[0])
"""


@pytest.fixture
def broken_numba(tmp_path: Path) -> Path:
    """A folder holding a ``numba`` package that fails to import after loading a submodule."""
    package = tmp_path / "numba"
    package.mkdir()
    (package / "half.py").write_text("")
    (package / "__init__.py").write_text("import numba.half\nraise ImportError('this numba is broken')\n")
    return tmp_path


def test_a_numba_that_will_not_import_falls_back_to_numpy_with_one_warning(broken_numba):
    result = run_python(FALLBACK, broken_numba)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("['numpy', 'numpy']")
    for words in ("this numba is broken", 'set_backend("numpy")', "CHAINRULE_BACKEND=numpy"):
        assert words in result.stdout


def test_a_numba_asked_for_by_name_that_will_not_import_is_an_error(broken_numba):
    result = run_python(FALLBACK, broken_numba, backend="numba")
    assert result.returncode != 0 and "this numba is broken" in result.stderr
