"""Activations against independent formulas (math module), finite differences, and extremes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.nn.activations import ACTIVATIONS, LeakyReLU, get_activation
from tests.conftest import central_difference

ELEMENTWISE = {
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0,
    "tanh": math.tanh,
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "identity": lambda z: z,
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_values_match_scalar_math(name, rng):
    z = rng.normal(scale=4.0, size=(5, 7))
    expected = np.vectorize(ELEMENTWISE[name])(z)
    np.testing.assert_allclose(get_activation(name).forward(z.copy()), expected, rtol=1e-14, atol=1e-300)


def test_softmax_matches_its_definition(rng):
    z = rng.normal(size=(4, 6))
    e = np.exp(z)
    np.testing.assert_allclose(
        get_activation("softmax").forward(z), e / e.sum(axis=1, keepdims=True), rtol=1e-14
    )


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"linear"}))
def test_backward_matches_finite_differences_of_forward(name, rng):
    """backward(a, g) is the vector-Jacobian product g . da/dz; check it column by column."""
    act = get_activation(name)
    z = rng.normal(size=(3, 4))
    grad = rng.normal(size=(3, 4))
    analytic = act.backward(act.forward(z.copy()), grad)
    numeric = central_difference(lambda v: np.sum(grad * act.forward(v)), z)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"linear", "softmax"}))
def test_derivative_is_the_elementwise_slope(name, rng):
    act = get_activation(name)
    z = rng.normal(size=(20,))
    eps = 1e-6
    slope = (act.forward(z + eps) - act.forward(z - eps)) / (2 * eps)
    np.testing.assert_allclose(act.derivative(act.forward(z.copy())), slope, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"linear"}))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_give_no_warning_nan_or_upcast(name, dtype):
    """pytest turns RuntimeWarnings (overflow) into errors for the whole suite."""
    act = get_activation(name)
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]], dtype=dtype)
    a = act.forward(z.copy())
    assert a.dtype == dtype
    assert np.isfinite(a).all()
    g = act.backward(a, np.ones_like(a))
    assert g.dtype == dtype and np.isfinite(g).all()


def test_sigmoid_limits_are_exact():
    a = get_activation("sigmoid").forward(np.array([-1000.0, 1000.0]))
    assert a[0] == 0.0 and a[1] == 1.0


def test_softmax_is_shift_invariant_and_sums_to_one():
    act = get_activation("softmax")
    z = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    a = act.forward(z.copy())
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a[0], act.forward(np.array([[0.0, 1.0, -1.0]]))[0])
    np.testing.assert_allclose(a[1], 1 / 3)


def test_forward_in_place_gives_the_same_values(rng):
    for name in sorted(set(ACTIVATIONS) - {"linear"}):
        act = get_activation(name)
        z = rng.normal(size=(3, 5))
        expected = act.forward(z.copy())
        buffer = z.copy()
        assert act.forward(buffer, out=buffer) is buffer
        np.testing.assert_array_equal(buffer, expected)


def test_lookup_errors_name_the_choices():
    with pytest.raises(ValueError, match=r"unknown activation .sigmod.*sigmoid"):
        get_activation("sigmod")
    with pytest.raises(ValueError, match="alpha"):
        LeakyReLU(alpha=-0.1)
    assert get_activation({"name": "leaky_relu", "alpha": 0.2}).alpha == 0.2


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("logistic", "sigmoid"),
        ("ReLU", "relu"),
        ("LeakyReLU", "leaky_relu"),
        ("linear", "identity"),
        ("Tanh", "tanh"),
    ],
)
def test_scikit_learn_keras_and_pytorch_spellings_name_the_same_activation(alias, name):
    assert get_activation(alias).name == name


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_states_its_derivative_formula(name):
    """The step trace prints it; a new activation without one would print nothing."""
    assert "{a}" in get_activation(name).derivative_formula or name == "identity"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_one_row_is_that_rows_softmax_in_a_batch_bit_for_bit(dtype):
    """One row takes whole-array reductions (the serving path): the same bits as a batch row."""
    rng = np.random.default_rng(7)
    softmax = get_activation("softmax")
    for width in (1, 2, 3, 7, 8, 9, 16, 17, 64, 129, 300):
        batch = (rng.normal(size=(5, width)) * rng.uniform(0.1, 30)).astype(dtype)
        together = softmax.forward(batch)
        for i in range(5):
            alone = softmax.forward(batch[i : i + 1].copy())
            assert np.array_equal(alone, together[i : i + 1])
        e = np.exp(batch[:1].astype(np.float64) - batch[:1].max())
        np.testing.assert_allclose(softmax.forward(batch[:1].copy()), e / e.sum(), rtol=1e-5, atol=1e-7)
