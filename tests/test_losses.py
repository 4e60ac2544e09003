"""Losses: values against hand formulas, gradients against finite differences, stability."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.nn.losses import LOSSES, get_loss
from tests.conftest import central_difference, targets_for


def probabilities(loss, n, k, rng):
    out = rng.uniform(0.05, 0.95, (n, k))
    if loss == "categorical_crossentropy":
        out /= out.sum(axis=1, keepdims=True)
    return out


HAND = {
    "sse": lambda y, o: np.sum((y - o) ** 2),
    "half_sse": lambda y, o: 0.5 * np.sum((y - o) ** 2),
    "mse": lambda y, o: np.mean((y - o) ** 2),
    "half_mse": lambda y, o: 0.5 * np.mean((y - o) ** 2),
    "mae": lambda y, o: np.mean(np.abs(y - o)),
    "binary_crossentropy": lambda y, o: -np.mean(y * np.log(o) + (1 - y) * np.log(1 - o)),
    "categorical_crossentropy": lambda y, o: -np.mean(np.sum(y * np.log(o), axis=1)),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_value_matches_hand_formula(name, rng):
    out = probabilities(name, 6, 3, rng)
    y = targets_for(name, 6, 3, rng)
    assert get_loss(name)(y, out) == pytest.approx(HAND[name](y, out), rel=1e-13)


@pytest.mark.parametrize("name", list(LOSSES))
def test_gradient_matches_finite_differences(name, rng):
    loss = get_loss(name)
    out = probabilities(name, 5, 3, rng)
    y = targets_for(name, 5, 3, rng)
    numeric = central_difference(lambda o: loss(y, o), out)
    np.testing.assert_allclose(loss.gradient(y, out), numeric, rtol=1e-6, atol=1e-9)


def test_reductions_scale_with_batch_as_named(rng):
    y, out = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    doubled_y, doubled_out = np.vstack([y, y]), np.vstack([out, out])
    assert get_loss("sse")(doubled_y, doubled_out) == pytest.approx(2 * get_loss("sse")(y, out))
    assert get_loss("mse")(doubled_y, doubled_out) == pytest.approx(get_loss("mse")(y, out))
    assert get_loss("half_sse")(y, out) == pytest.approx(get_loss("sse")(y, out) / 2)
    assert get_loss("half_mse")(y, out) == pytest.approx(get_loss("mse")(y, out) / 2)


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_crossentropy_of_saturated_outputs_is_finite_without_warnings(name, dtype):
    out = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=dtype)
    y = np.array([[1.0, 0.0], [1.0, 0.0]], dtype=dtype)
    loss = get_loss(name)
    assert np.isfinite(loss(y, out))
    assert np.isfinite(loss.gradient(y, out)).all()
    assert loss.gradient(y, out).dtype == dtype


def test_unknown_loss_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown loss 'mse2'.*half_sse"):
        get_loss("mse2")


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("mean_squared_error", "mse"),
        ("MSELoss", "mse"),
        ("MSE", "mse"),
        ("mean_absolute_error", "mae"),
        ("L1Loss", "mae"),
        ("BCELoss", "binary_crossentropy"),
        ("binary-crossentropy", "binary_crossentropy"),
        ("sparse_categorical_crossentropy", "categorical_crossentropy"),
        ("CrossEntropyLoss", "categorical_crossentropy"),
        ("Half_SSE", "half_sse"),
    ],
)
def test_keras_pytorch_and_case_spellings_name_the_same_loss(alias, name):
    assert get_loss(alias) is LOSSES[name]


def test_an_unknown_loss_lists_the_choices():
    with pytest.raises(ValueError, match="unknown loss 'hinge'; choose one of: sse"):
        get_loss("hinge")
