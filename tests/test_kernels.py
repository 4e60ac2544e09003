"""The kernel seam: each backend's kernels against formulas written out here, backend choice.

Every test runs once per backend; the numba cases are skipped when Numba is not installed
(``pip install "chainrule[numba]"``), so the suite passes on a NumPy-only install.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import kernels
from chainrule.nn.activations import get_activation

BACKENDS = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent")),
]


@pytest.fixture(params=BACKENDS)
def backend(request):
    previous = kernels.backend()
    kernels.set_backend(request.param)
    yield request.param
    kernels.set_backend(previous)


def formula(name: str, z: np.ndarray) -> np.ndarray:
    """Each activation written out plainly, from the pre-activation."""
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "identity":
        return z
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"]
TOL = {"float64": dict(rtol=1e-12, atol=1e-14), "float32": dict(rtol=2e-6, atol=1e-6)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_forward_adds_the_bias_and_keeps_z(backend, name, dtype, rng):
    z = rng.normal(size=(7, 5)).astype(dtype)
    b = rng.normal(size=5).astype(dtype)
    expected_z = z.astype(np.float64) + b
    out = np.empty_like(z)
    kernels.ops.dense_forward(z, b, get_activation(name), out)
    np.testing.assert_allclose(z, expected_z, **TOL[dtype])
    np.testing.assert_allclose(out, formula(name, expected_z), **TOL[dtype])


@pytest.mark.parametrize("name", NAMES)
def test_backward_is_the_chain_rule_with_the_bias_gradient(backend, name, rng):
    z, upstream = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    a = formula(name, z)
    eps = 1e-6  # dLoss/dz of the loss sum(upstream * f(z)), by central differences
    numeric = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        plus, minus = z.copy(), z.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (np.sum(upstream * formula(name, plus)) - np.sum(upstream * formula(name, minus))) / (
            2 * eps
        )
    delta, gb = np.empty_like(z), np.empty(4)
    kernels.ops.dense_backward(a, upstream, get_activation(name), delta, gb)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, numeric.sum(axis=0), rtol=1e-6, atol=1e-8)


def test_relu_passes_nan_on(backend):
    """A NaN must survive the forward pass: the divergence check looks for it."""
    z, out = np.array([[np.nan, -1.0, 2.0]]), np.empty((1, 3))
    kernels.ops.dense_forward(z, None, get_activation("relu"), out)
    assert np.isnan(out[0, 0]) and out[0, 1] == 0 and out[0, 2] == 2


@pytest.mark.parametrize(
    ("kind", "loss", "activation"),
    [
        ("softmax_cce", "categorical_crossentropy", "softmax"),
        ("sigmoid_bce", "binary_crossentropy", "sigmoid"),
        ("squared", "mse", "identity"),
        ("squared", "half_sse", "tanh"),
        ("squared", "sse", "sigmoid"),
    ],
)
@pytest.mark.parametrize("one_hot", [True, False])
def test_output_block_is_the_losses_value_gradient_and_accuracy(
    backend, kind, loss, activation, one_hot, rng
):
    from chainrule.nn.output import OutputBlock

    n, k = 12, 3
    out = formula(activation, rng.normal(size=(n, k)))
    labels = rng.integers(0, k, n)
    y = np.eye(k)[labels] if one_hot else rng.dirichlet(np.ones(k), n)
    loss_fn, act = cr.get_loss(loss), get_activation(activation)
    block = OutputBlock(loss_fn, act, y)
    value, delta = block(y, out)
    assert value == pytest.approx(loss_fn(y, out), rel=1e-12)
    expected = loss_fn.fused_delta(y, out) if block.fused else loss_fn.gradient(y, out)
    np.testing.assert_allclose(delta, expected, rtol=1e-12, atol=1e-15)
    if block.gives("accuracy"):
        if one_hot:
            assert block.accuracy == pytest.approx(np.mean(out.argmax(axis=1) == labels))
        else:
            assert block.accuracy == pytest.approx(np.mean((out > 0.5) == (y > 0.5)))
    if block.gives("mse"):
        assert block.score("mse", out) == pytest.approx(np.mean((out - y) ** 2), rel=1e-12)


def test_optimizer_updates_are_the_formulas(backend, rng):
    g, p0 = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    scratch = np.empty_like(p0)
    p = p0.copy()
    kernels.ops.sgd_update(p, g, 0.1, scratch)
    np.testing.assert_allclose(p, p0 - 0.1 * g, rtol=1e-14)
    for nesterov in (False, True):
        p, v = p0.copy(), np.full_like(p0, 0.5)
        kernels.ops.momentum_update(p, g, v, 0.1, 0.9, nesterov, scratch)
        v_expected = 0.9 * 0.5 + g
        step = g + 0.9 * v_expected if nesterov else v_expected
        np.testing.assert_allclose(v, v_expected, rtol=1e-14)
        np.testing.assert_allclose(p, p0 - 0.1 * step, rtol=1e-14)
    p, m, v = p0.copy(), np.full_like(p0, 0.1), np.full_like(p0, 0.2)
    kernels.ops.adam_update(p, g, m, v, 0.01, 0.9, 0.999, 1e-8, 3, scratch)
    m_e, v_e = 0.9 * 0.1 + 0.1 * g, 0.999 * 0.2 + 0.001 * g * g
    expected = p0 - 0.01 * (m_e / (1 - 0.9**3)) / (np.sqrt(v_e / (1 - 0.999**3)) + 1e-8)
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    p, v = p0.copy(), np.full_like(p0, 0.2)
    kernels.ops.rmsprop_update(p, g, v, 0.01, 0.9, 1e-8, scratch)
    v_e = 0.9 * 0.2 + 0.1 * g * g
    np.testing.assert_allclose(p, p0 - 0.01 * g / (np.sqrt(v_e) + 1e-8), rtol=1e-12)


def test_history_records_the_backend(backend, rng):
    net = cr.Network([2, 3, 1], seed=0)
    history = net.fit(rng.normal(size=(8, 2)), rng.integers(0, 2, 8), epochs=2)
    assert history.backend == backend


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="numpy, numba"):
        cr.set_backend("cupy")


def python(code: str, **env: str) -> str:
    environment = {**os.environ, **env}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_chainrule_does_not_import_numba():
    assert python("import sys, chainrule; print('numba' in sys.modules)") == "False"


def test_the_environment_variable_chooses_and_the_default_is_numpy():
    assert python("import chainrule as cr; print(cr.backend())", CHAINRULE_BACKEND="numpy") == "numpy"
    default = python("import chainrule as cr; print(cr.backend())", CHAINRULE_BACKEND="")
    assert default == "numpy"


SMALL_AND_BIG_FITS = """
import sys, numpy as np, chainrule as cr
X = np.random.default_rng(0).normal(size=(40, 4)); y = (X[:, :1] > 0) * 1.0
small = cr.Network([4, 3, 1], seed=0).fit(X, y, epochs=5)
print(small.backend, "numba" in sys.modules)
class Stop(cr.Callback):
    def on_epoch_end(self, epoch, logs):
        self.network.stop_training = epoch >= 2
big = cr.Network([4, 3, 1], seed=0).fit(X, y, epochs=10**8, callbacks=[Stop()])
print(big.backend, big.epochs)
"""


@pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent")
def test_unchosen_a_fit_takes_numba_only_where_it_repays_loading_or_compiling_it(tmp_path):
    """Auto: a small fit never imports Numba; one big enough to repay a compile says so once."""
    run = subprocess.run(
        [sys.executable, "-c", SMALL_AND_BIG_FITS], capture_output=True, text=True, timeout=600,
        env={**os.environ, "CHAINRULE_BACKEND": "", "NUMBA_CACHE_DIR": str(tmp_path)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["numpy", "False", "numba", "3"]
    assert run.stderr.count("training with the Numba kernels") == 1, run.stderr
