"""`chainrule.nn.layers`: Dense and Dropout on their own, against hand-written NumPy and
central finite differences in float64."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import NotInitializedError
from chainrule.nn.layers import Dense, Dropout, layer_from_config
from tests.conftest import central_difference

FUNCTIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
    "softmax": lambda z: (
        np.exp(z - z.max(axis=1, keepdims=True))
        / np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
    ),
}


def dense(rng, n_in=3, n_out=4, activation="tanh", bias=True, dtype=np.float64) -> Dense:
    W = rng.normal(size=(n_in, n_out)).astype(dtype)
    b = rng.normal(size=n_out).astype(dtype) if bias else None
    return Dense(n_in, n_out, activation, bias=bias, weights=W, biases=b)


# --------------------------------------------------------------------------- Dense forward
@pytest.mark.parametrize("activation", list(FUNCTIONS))
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_dense_forward_keeps_z_input_and_output_in_training(activation, bias, rng):
    layer = dense(rng, activation=activation, bias=bias)
    X = rng.normal(size=(5, 3))
    z = X @ layer.params["W"] + (layer.params["b"] if bias else 0.0)
    out = layer.forward(X, training=True)
    np.testing.assert_allclose(layer.z, z, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(out, FUNCTIONS[activation](z), rtol=1e-13, atol=1e-15)
    assert layer.input is X
    assert layer.output is out


@pytest.mark.parametrize("activation", list(FUNCTIONS))
def test_dense_inference_gives_the_training_values_and_keeps_no_cache(activation, rng):
    layer = dense(rng, activation=activation)
    X = rng.normal(size=(5, 3))
    inferred = layer.forward(X)
    assert layer.input is None and layer.z is None and layer.output is None
    np.testing.assert_array_equal(inferred, layer.forward(X.copy(), training=True))
    # a later inference pass leaves the training caches alone (backward still needs them)
    z_before = layer.z.copy()
    layer.forward(rng.normal(size=(5, 3)))
    np.testing.assert_array_equal(layer.z, z_before)


def test_dense_linear_is_the_pre_activation(rng):
    layer = dense(rng, activation="sigmoid")
    X = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer.linear(X), X @ layer.params["W"] + layer.params["b"], rtol=1e-14)


# -------------------------------------------------------------------------- Dense backward
@pytest.mark.parametrize("activation", list(FUNCTIONS))
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_dense_backward_matches_finite_differences(activation, bias, rng):
    """With L = sum(G * layer(X)) for a fixed G, backward(G) must be dL/dW, dL/db and dL/dX."""
    layer = dense(rng, activation=activation, bias=bias)
    X, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))

    def loss_of(key):
        def f(value):
            saved = layer.params[key].copy()
            layer.params[key][...] = value
            try:
                return float(np.sum(G * layer.forward(X)))
            finally:
                layer.params[key][...] = saved

        return f

    layer.forward(X, training=True)
    grad_input = layer.backward(G.copy())
    for key in layer.params:
        numeric = central_difference(loss_of(key), layer.params[key].copy())
        np.testing.assert_allclose(layer.grads[key], numeric, rtol=1e-7, atol=1e-8)
    numeric_input = central_difference(lambda x: float(np.sum(G * layer.forward(x))), X)
    np.testing.assert_allclose(grad_input, numeric_input, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_dense_backward_delta_matches_finite_differences_of_z(bias, rng):
    """backward_delta(D) takes D = dL/dz: with L = sum(D * z), grads are dL/dparam and the
    return value dL/dX."""
    layer = dense(rng, activation="sigmoid", bias=bias)  # the activation must play no part
    X, D = rng.normal(size=(6, 3)), rng.normal(size=(6, 4))

    def linear_loss(key):
        def f(value):
            saved = layer.params[key].copy()
            layer.params[key][...] = value
            try:
                return float(np.sum(D * layer.linear(X)))
            finally:
                layer.params[key][...] = saved

        return f

    layer.forward(X, training=True)
    grad_input = layer.backward_delta(D)
    assert layer.delta is D
    for key in layer.params:
        numeric = central_difference(linear_loss(key), layer.params[key].copy())
        np.testing.assert_allclose(layer.grads[key], numeric, rtol=1e-7, atol=1e-8)
    numeric_input = central_difference(lambda x: float(np.sum(D * layer.linear(x))), X)
    np.testing.assert_allclose(grad_input, numeric_input, rtol=1e-7, atol=1e-8)


def test_dense_backward_delta_is_the_hand_written_products(rng):
    layer = dense(rng)
    X, D = rng.normal(size=(6, 3)), rng.normal(size=(6, 4))
    layer.forward(X, training=True)
    grad_input = layer.backward_delta(D)
    np.testing.assert_allclose(layer.grads["W"], X.T @ D, rtol=1e-13)
    np.testing.assert_allclose(layer.grads["b"], D.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(grad_input, D @ layer.params["W"].T, rtol=1e-13)


def test_need_input_grad_false_returns_none_but_fills_grads(rng):
    layer = dense(rng)
    X, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    layer.forward(X, training=True)
    full = layer.backward(G)
    expected = {key: grad.copy() for key, grad in layer.grads.items()}
    for key in layer.grads:
        layer.grads[key][...] = np.nan
    layer.forward(X, training=True)
    assert layer.backward(G, need_input_grad=False) is None
    assert full is not None
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, expected[key])
    layer.forward(X, training=True)
    assert layer.backward_delta(G, need_input_grad=False) is None


def test_dense_backward_before_a_training_forward_says_so(rng):
    layer = dense(rng)
    with pytest.raises(RuntimeError, match="training-mode forward"):
        layer.backward_delta(rng.normal(size=(5, 4)))


def test_dense_backward_before_a_training_forward_raises_the_clear_error(rng):
    layer = dense(rng)
    with pytest.raises(RuntimeError, match="training-mode forward"):
        layer.backward(rng.normal(size=(5, 4)))


# --------------------------------------------------------------------------- Dense buffers
def test_training_buffers_are_reused_for_equal_batch_sizes(rng):
    layer = dense(rng)
    G = rng.normal(size=(5, 4))
    out1 = layer.forward(rng.normal(size=(5, 3)), training=True)
    z1 = layer.z
    gi1 = layer.backward(G)
    X2 = rng.normal(size=(5, 3))
    out2 = layer.forward(X2, training=True)
    gi2 = layer.backward(G)
    assert out2 is out1 and layer.z is z1 and gi2 is gi1
    # ... and the reused buffers hold the second batch's numbers
    np.testing.assert_allclose(layer.z, X2 @ layer.params["W"] + layer.params["b"], rtol=1e-14)
    np.testing.assert_allclose(out2, np.tanh(layer.z), rtol=1e-14)


def test_another_batch_size_gets_its_own_buffers(rng):
    layer = dense(rng)
    out5 = layer.forward(rng.normal(size=(5, 3)), training=True)
    saved = out5.copy()
    out2 = layer.forward(rng.normal(size=(2, 3)), training=True)
    assert out2.shape == (2, 4) and not np.shares_memory(out2, out5)
    np.testing.assert_array_equal(out5, saved)  # the size-5 buffer was not written


def test_inference_allocates_fresh_arrays(rng):
    layer = dense(rng)
    X = rng.normal(size=(5, 3))
    first = layer.forward(X)
    second = layer.forward(X)
    assert first is not second and not np.shares_memory(first, second)


# ---------------------------------------------------------------------------- Dense config
@pytest.mark.parametrize("activation", ["sigmoid", "relu", "softmax", {"name": "leaky_relu", "alpha": 0.2}])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_config_round_trip_rebuilds_the_same_layer(activation, bias, rng):
    W = rng.normal(size=(3, 4))
    b = rng.normal(size=4) if bias else None
    layer = Dense(3, 4, activation, bias=bias, init="he_normal", weights=W, biases=b)
    rebuilt = layer_from_config(layer.config(), layer.params)
    assert isinstance(rebuilt, Dense)
    assert rebuilt.config() == layer.config()
    assert rebuilt.init == "he_normal"
    for key in layer.params:
        np.testing.assert_array_equal(rebuilt.params[key], layer.params[key])
    X = rng.normal(size=(5, 3))
    np.testing.assert_array_equal(rebuilt.forward(X), layer.forward(X))


def test_config_of_a_custom_initializer_rebuilds_with_the_default(rng):
    layer = Dense(2, 3, "relu", init=lambda shape, rng: np.ones(shape), weights=np.ones((2, 3)))
    config = layer.config()
    assert config["init"] == "custom"
    rebuilt = layer_from_config(config, layer.params)
    assert rebuilt.init == "he_normal"  # relu's default


def test_config_round_trip_of_dropout():
    layer = Dropout(0.25)
    rebuilt = layer_from_config(layer.config())
    assert isinstance(rebuilt, Dropout) and rebuilt.rate == 0.25


DENSE_2_1 = {"type": "Dense", "n_in": 2, "n_out": 1, "activation": "identity"}


@pytest.mark.parametrize(
    ("config", "params", "match"),
    [
        ({**DENSE_2_1, "bias": True}, {"W"}, "bias=True"),
        ({**DENSE_2_1, "bias": False}, {"W", "b"}, "bias=False"),
        ({"type": "Dropout", "rate": 0.5}, {"W"}, "no parameters"),
        ({"type": "Conv2D"}, set(), "unknown layer type"),
    ],
)
def test_layer_from_config_rejects_inconsistent_descriptions(config, params, match):
    arrays = {"W": np.zeros((2, 1)), "b": np.zeros(1)}
    with pytest.raises(ValueError, match=match):
        layer_from_config(config, {key: arrays[key] for key in params})


# ---------------------------------------------------------------------------- Dense errors
@pytest.mark.parametrize(("n_in", "n_out"), [(0, 3), (3, 0), (-1, 2)])
def test_dense_needs_positive_widths(n_in, n_out):
    with pytest.raises(ValueError, match=r"n_(in|out) must be >= 1"):
        Dense(n_in, n_out)


@pytest.mark.parametrize("shape", [(3, 2), (2,), (2, 3, 1)])
def test_dense_rejects_weights_of_the_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"weights must have shape \(2, 3\)"):
        Dense(2, 3, weights=np.zeros(shape))


def test_dense_rejects_biases_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"biases must have shape \(3,\)"):
        Dense(2, 3, weights=np.zeros((2, 3)), biases=np.zeros(2))


def test_dense_rejects_biases_when_built_without_bias():
    with pytest.raises(ValueError, match="bias=False"):
        Dense(2, 3, bias=False, weights=np.zeros((2, 3)), biases=np.zeros(3))


def test_dense_without_weights_cannot_run_or_draw_without_a_generator():
    layer = Dense(2, 3)
    assert not layer.initialized
    with pytest.raises(NotInitializedError):
        layer.forward(np.zeros((1, 2)))
    with pytest.raises(NotInitializedError):
        layer.initialize(None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_keeps_the_dtype_of_its_parameters(dtype, rng):
    layer = dense(rng, dtype=dtype)
    X = rng.normal(size=(4, 3)).astype(dtype)
    out = layer.forward(X, training=True)
    grad_input = layer.backward(np.ones_like(out))
    assert out.dtype == dtype and layer.z.dtype == dtype and grad_input.dtype == dtype
    assert all(grad.dtype == dtype for grad in layer.grads.values())


# -------------------------------------------------------------------------------- Dropout
def make_dropout(rate: float, seed: int = 0) -> Dropout:
    layer = Dropout(rate)
    layer.initialize(np.random.default_rng(seed))
    return layer


@pytest.mark.parametrize("rate", [0.0, 0.3, 0.9])
def test_dropout_at_inference_is_the_identity(rate, rng):
    layer = make_dropout(rate)
    X = rng.normal(size=(6, 5))
    assert layer.forward(X) is X
    assert layer.mask is None


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_in_training_keeps_about_1_minus_rate_scaled_up(rate, dtype):
    layer = make_dropout(rate, seed=1)
    X = np.random.default_rng(2).uniform(1.0, 2.0, size=(200, 250)).astype(dtype)  # no zeros
    out = layer.forward(X, training=True)
    assert out.dtype == dtype
    kept = out != 0
    n = X.size
    # binomial(n, 1 - rate): 5 standard deviations
    assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(out[kept], X[kept] / (1.0 - rate), rtol=rtol)
    np.testing.assert_array_equal(layer.mask != 0, kept)


def test_dropout_draws_a_new_mask_each_training_pass(rng):
    layer = make_dropout(0.5)
    X = rng.normal(size=(10, 10))
    first = layer.forward(X, training=True).copy()
    second = layer.forward(X, training=True)
    assert not np.array_equal(first, second)


def test_dropout_at_rate_zero_is_the_identity_in_training_too(rng):
    layer = make_dropout(0.0)
    X = rng.normal(size=(4, 3))
    assert layer.forward(X, training=True) is X
    G = rng.normal(size=(4, 3))
    assert layer.backward(G) is G


@pytest.mark.parametrize("rate", [0.25, 0.5])
def test_dropout_backward_is_grad_times_the_mask(rate, rng):
    layer = make_dropout(rate)
    X, G = rng.normal(size=(8, 6)), rng.normal(size=(8, 6))
    out = layer.forward(X, training=True)
    kept = out != 0
    hand_mask = np.where(kept, 1.0 / (1.0 - rate), 0.0)
    np.testing.assert_allclose(layer.backward(G), G * hand_mask, rtol=1e-15)
    assert layer.backward(G, need_input_grad=False) is None


def test_dropout_backward_matches_finite_differences_with_a_fixed_mask(rng):
    layer = make_dropout(0.5)
    X, G = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    layer.forward(X, training=True)
    layer.fixed_mask = layer.mask.copy()
    grad = layer.backward(G)
    numeric = central_difference(lambda x: float(np.sum(G * layer.forward(x, training=True))), X)
    np.testing.assert_allclose(grad, numeric, rtol=1e-8, atol=1e-9)


def test_fixed_mask_makes_training_forward_deterministic(rng):
    layer = make_dropout(0.5)
    X = rng.normal(size=(6, 4))
    mask = np.where(rng.random((6, 4)) < 0.5, 0.0, 2.0)
    layer.fixed_mask = mask
    first = layer.forward(X, training=True).copy()
    second = layer.forward(X, training=True)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, X * mask)
    assert layer.mask is mask


def test_fixed_mask_needs_no_generator(rng):
    layer = Dropout(0.5)
    X = rng.normal(size=(2, 2))
    with pytest.raises(NotInitializedError):
        layer.forward(X, training=True)
    layer.fixed_mask = np.full((2, 2), 2.0)
    np.testing.assert_array_equal(layer.forward(X, training=True), 2.0 * X)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_must_be_in_0_1(rate):
    with pytest.raises(ValueError, match=r"dropout rate must be a finite number in \[0\.0, 1\.0\)"):
        Dropout(rate)


def test_dropout_backward_uses_the_last_training_mask_after_an_inference_pass(rng):
    layer = make_dropout(0.5)
    X, G = rng.normal(size=(8, 6)), rng.normal(size=(8, 6))
    out = layer.forward(X, training=True)
    mask = np.where(out != 0, 2.0, 0.0)
    layer.forward(X)  # an inference call in between
    np.testing.assert_allclose(layer.backward(G), G * mask)


# ------------------------------------------------------------- Dropout inside gradcheck
def dropout_net() -> cr.Network:
    return cr.Network(
        [cr.Dense(3, 8, "tanh"), cr.Dropout(0.5), cr.Dense(8, 6, "sigmoid"), cr.Dropout(0.3), cr.Dense(6, 2)],
        seed=4,
    )


def test_gradcheck_passes_on_a_dropout_network(rng):
    net = dropout_net()
    X, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    result = cr.gradcheck(net, X, y, loss="mse")
    assert result.max_error < 1e-6, result
    # the check really ran with units dropped: the same Dense layers without Dropout have
    # other gradients
    plain = cr.Network([layer for layer in net.layers if isinstance(layer, Dense)], seed=0)
    undropped = plain.gradients(X, y, loss="mse")
    assert not np.allclose(result.analytic["0.W"], undropped[0]["W"])
    np.testing.assert_allclose(result.analytic["0.W"], result.numeric["0.W"], rtol=1e-5, atol=1e-9)


def test_gradcheck_catches_a_broken_dropout_backward(monkeypatch, rng):
    """The check must be able to fail: forget the mask in Dropout.backward."""
    net = dropout_net()
    X, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    assert cr.gradcheck(net, X, y, loss="mse").max_error < 1e-6

    def unmasked_backward(self, grad_output, need_input_grad=True):
        return grad_output if need_input_grad else None

    monkeypatch.setattr(Dropout, "backward", unmasked_backward)
    assert cr.gradcheck(net, X, y, loss="mse").max_error > 1e-2


def test_gradcheck_catches_a_dropout_backward_without_the_scale(monkeypatch, rng):
    net = dropout_net()
    X, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))

    def unscaled_backward(self, grad_output, need_input_grad=True):
        if not need_input_grad:
            return None
        return grad_output * (self.mask != 0)

    monkeypatch.setattr(Dropout, "backward", unscaled_backward)
    assert cr.gradcheck(net, X, y, loss="mse").max_error > 1e-2
