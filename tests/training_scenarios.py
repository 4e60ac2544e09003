"""Training situations several test modules set up the same way."""

from __future__ import annotations

import numpy as np


def linear_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two features and the 0/1 label of which side of the line x0 + x1 = 0 a point is on."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(float)[:, None]


def rise_then_fall(switch: int = 6):
    """A batch function that teaches the true labels for ``switch`` epochs, then the opposite:
    validation accuracy on the true labels rises, then falls."""
    X, y = linear_data(200, seed=0)
    calls = []

    def make_batches():
        calls.append(None)
        return [(X, y if len(calls) <= switch else 1.0 - y)]

    return make_batches


def same_weights(a, b) -> bool:
    """Whether two `Network.get_weights()` results hold identical arrays."""
    return all(np.array_equal(la[k], lb[k]) for la, lb in zip(a, b, strict=True) for k in la)
