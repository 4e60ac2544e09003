"""Element-wise passes split over threads, and the cap on BLAS's threads.

The parallel Numba variants (`chainrule.nn.kernels.numba_parallel`) must give the serial passes'
numbers bit for bit (the bias gradient's column sums included: each column is still summed down
its rows in order); `fit` must use them only where BLAS has several threads and the arrays are
big; `threads.limit` must restore the caller's BLAS setting however its block ends.
"""

from __future__ import annotations

import contextvars

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import kernels
from chainrule.nn.activations import get_activation
from chainrule.nn.kernels import threads

needs_numba = pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent")
SHAPE = (301, 257)  # odd sizes: blocks of unequal length; 77357 elements >= PARALLEL_MIN
CODES = range(6)  # sigmoid, tanh, relu, leaky_relu, identity, softmax


def with_passes(count, function, *args):
    """``function(*args)`` in a copied context whose passes may use ``count`` threads."""

    def run():
        threads.set_passes(count)
        return function(*args)

    return contextvars.copy_context().run(run)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("code", CODES)
def test_parallel_activation_and_slope_equal_the_serial_ones_bit_for_bit(code, dtype, rng):
    from chainrule.nn.kernels import numba_parallel, numba_passes

    z = rng.normal(size=SHAPE).astype(dtype)
    b = rng.normal(size=SHAPE[1]).astype(dtype)
    grad = rng.normal(size=SHAPE).astype(dtype)
    alpha = dtype(0.01)
    results = []
    for blocks in (None, 2, 3):
        zz, out, delta, gb = z.copy(), np.empty_like(z), np.empty_like(z), np.full(SHAPE[1], np.nan, dtype)
        if blocks is None:
            numba_passes.activate(zz, b, True, code, alpha, out)
            numba_passes.slope(out, grad, code, alpha, delta, gb, True)
        else:
            numba_parallel.activate_blocks(zz, b, True, code, alpha, out, blocks)
            numba_parallel.slope_blocks(out, grad, code, alpha, delta, gb, True, blocks)
        results.append((zz, out, delta, gb))
    for parallel in results[1:]:
        for serial_array, parallel_array in zip(results[0], parallel, strict=True):
            assert np.array_equal(serial_array, parallel_array)
    # and the column sums are the sums (an independent check that they were computed at all)
    np.testing.assert_allclose(
        results[0][3], results[0][2].astype(np.float64).sum(axis=0), rtol=1e-3, atol=1e-3
    )


def optimizer_calls(backend, param, grad, states):
    """Each optimizer kernel on copies of ``param`` and its state; return every array it wrote."""
    runs = {
        "sgd": lambda p, s: backend.sgd_update(p, grad, 0.1, None),
        "momentum": lambda p, s: backend.momentum_update(p, grad, s[0], 0.1, 0.9, False, None),
        "nesterov": lambda p, s: backend.momentum_update(p, grad, s[0], 0.1, 0.9, True, None),
        "adam": lambda p, s: backend.adam_update(p, grad, s[0], s[1], 0.01, 0.9, 0.999, 1e-8, 3, None),
        "rmsprop": lambda p, s: backend.rmsprop_update(p, grad, s[1], 0.01, 0.9, 1e-8, None),
    }
    written = {}
    for name, run in runs.items():
        p, s = param.copy(), [state.copy() for state in states]
        run(p, s)
        written[name] = [p, *s]
    return written


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_numba_kernels_split_their_passes_only_when_a_run_allows_and_agree(dtype, rng, monkeypatch):
    from chainrule.nn.kernels import numba_parallel

    backend = kernels.load("numba")
    calls = []
    for name in ("activate_blocks", "slope_blocks", "column_sums_blocks", "sgd_blocks", "adam_blocks"):
        original = getattr(numba_parallel, name)
        monkeypatch.setattr(numba_parallel, name, lambda *a, _f=original, _n=name: (calls.append(_n), _f(*a)))
    z = rng.normal(size=SHAPE).astype(dtype)
    b = rng.normal(size=SHAPE[1]).astype(dtype)
    param, grad = rng.normal(size=SHAPE).astype(dtype), rng.normal(size=SHAPE).astype(dtype)
    states = [rng.normal(size=SHAPE).astype(dtype), rng.random(size=SHAPE).astype(dtype)]

    def everything():
        zz, out, delta, gb = z.copy(), np.empty_like(z), np.empty_like(z), np.empty(SHAPE[1], dtype)
        backend.dense_forward(zz, b, get_activation("tanh"), out)
        backend.dense_backward(out, grad, get_activation("tanh"), delta, gb)
        gb_only = np.empty(SHAPE[1], dtype)
        backend.bias_grad(delta, gb_only)
        updates = optimizer_calls(backend, param, grad, states)
        return [zz, out, delta, gb, gb_only] + [a for arrays in updates.values() for a in arrays]

    serial = with_passes(1, everything)
    assert calls == []
    parallel = with_passes(2, everything)
    assert {"activate_blocks", "slope_blocks", "column_sums_blocks", "sgd_blocks", "adam_blocks"} <= set(
        calls
    )
    for one, two in zip(serial, parallel, strict=True):
        assert np.array_equal(one, two)
    calls.clear()
    small = z[:10].copy()
    with_passes(2, backend.dense_forward, small, b, get_activation("tanh"), np.empty_like(small))
    assert calls == []  # 2570 elements: below PARALLEL_MIN, serial


@needs_numba
def test_fit_splits_the_passes_of_a_big_run_only_when_asked_and_ends_with_the_same_weights(monkeypatch, rng):
    """Trained with the passes on one thread or on two, a network ends with the same weights."""
    from chainrule.nn.kernels import numba_parallel

    X = rng.normal(size=(512, 64)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 512)]
    seen = []
    original = numba_parallel.activate_blocks
    monkeypatch.setattr(numba_parallel, "activate_blocks", lambda *a: (seen.append(a[-1]), original(*a)))
    monkeypatch.setattr(threads, "blas_threads", lambda: 2)  # never asked: splitting is the caller's call
    weights = {}
    for count in (1, 2):
        seen.clear()
        net = cr.Network(
            [64, 256, 4], activation="relu", output_activation="softmax", dtype="float32", seed=3
        )
        with cr.use_backend("numba"), threads.split_passes(count):
            net.fit(X, y, epochs=2, batch_size=256, optimizer=cr.SGD(lr=0.05, momentum=0.9), metrics=[])
        weights[count] = [p.copy() for layer in net.layers for p in layer.params.values()]
        assert seen == ([] if count == 1 else [2] * len(seen)) and bool(seen) == (count == 2)
    for one, two in zip(weights[1], weights[2], strict=True):
        assert np.array_equal(one, two)
    assert threads.passes() == 1  # the block's setting ended with it


def test_only_a_big_run_splits_its_passes():
    with threads.split_passes(2):
        assert threads.for_run(threads.PARALLEL_MIN - 1) == 1
        assert threads.for_run(threads.PARALLEL_MIN) == 2
    assert threads.for_run(10 * threads.PARALLEL_MIN) == 1  # not asked: one thread


def test_limit_caps_blas_and_restores_the_callers_setting_even_on_error():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = threads.blas_threads()
        if before < 2:
            pytest.skip("this BLAS runs on one thread only")
        with threads.limit(1) as count:
            assert count == 1 and threads.blas_threads() == 1
        assert threads.blas_threads() == before
        with pytest.raises(ZeroDivisionError), threads.limit(1):
            assert threads.blas_threads() == 1
            1 / 0  # noqa: B018
        assert threads.blas_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_limit_and_split_passes_refuse_a_bad_count_and_change_nothing(bad):
    before = threads.blas_threads()
    for context in (threads.limit, threads.split_passes):
        with pytest.raises(ValueError, match="threads must be a whole number of at least 1"):
            with context(bad):
                pass
    assert threads.blas_threads() == before and threads.passes() == 1


def test_limit_without_threadpoolctl_names_the_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    with pytest.raises(ImportError, match="pip install threadpoolctl"):
        with threads.limit(1):
            pass
    assert threads.blas_threads() == 1  # unknown: the passes stay on one thread
