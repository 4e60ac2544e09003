"""Initialisers: ranges and spreads as named, and randomness only from the given seed."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.initializers import INITIALIZERS, get_initializer


def draw(name, shape=(400, 300), seed=0):
    return get_initializer(name)(shape, np.random.default_rng(seed))


def test_ranges_and_spreads():
    assert -1 <= draw("uniform").min() and draw("uniform").max() < 1 and draw("uniform").min() < -0.99
    assert 0 <= draw("uniform01").min() and draw("uniform01").max() < 1
    assert draw("normal").std() == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert draw("standard_normal").std() == pytest.approx(1.0, rel=0.02)
    assert np.abs(draw("truncated_normal")).max() <= 1 / np.sqrt(400)
    assert np.abs(draw("glorot_uniform")).max() <= np.sqrt(6 / 700)
    assert draw("glorot_normal").std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    assert draw("he_normal").std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert not draw("zeros").any()


@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_same_seed_same_weights_and_no_global_state(name):
    np.random.seed(0)  # noqa: NPY002  (checking the global generator is untouched)
    before = np.random.random()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002  (checking the global generator is untouched)
    a = cr.Network([3, 5, 2], init=name, seed=7).get_weights()
    assert np.random.random() == before  # noqa: NPY002  (the global generator was not advanced)
    b = cr.Network([3, 5, 2], init=name, seed=7).get_weights()
    for la, lb in zip(a, b, strict=True):
        for key in la:
            np.testing.assert_array_equal(la[key], lb[key])


def test_callable_initializer_and_unknown_name():
    net = cr.Network([cr.Dense(2, 3, init=lambda shape, rng: np.full(shape, 0.25))], seed=0)
    assert (net.layers[0].params["W"] == 0.25).all()
    with pytest.raises(ValueError, match="unknown initializer"):
        cr.Network([2, 3], init="xavier")
