"""Shared helpers: small random problems whose targets suit each loss."""

from __future__ import annotations

import numpy as np
import pytest


def targets_for(loss: str, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Random targets valid for ``loss``: one-hot rows, 0/1 labels, or real numbers."""
    if loss == "categorical_crossentropy":
        y = np.zeros((n, k))
        y[np.arange(n), rng.integers(0, k, n)] = 1.0
        return y
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.uniform(-0.5, 1.0, (n, k))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
