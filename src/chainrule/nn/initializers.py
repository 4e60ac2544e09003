"""Weight initialisers by name, each drawing from the one Generator it is given.

An initialiser is any callable ``(shape, rng) -> ndarray`` with ``shape = (n_in, n_out)``.
The named ones cover what the seeds use and the common modern choices.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Shape = tuple[int, int]
Initializer = Callable[[Shape, np.random.Generator], np.ndarray]


def uniform(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Uniform in [-1, 1), seed 000's ``2 * random - 1``."""
    return rng.uniform(-1.0, 1.0, size=shape)


def uniform01(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Uniform in [0, 1), seed 002's ``np.random.rand``."""
    return rng.random(size=shape)


def normal(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Normal with std ``1 / sqrt(n_in)``, seed 001's initialisation."""
    return rng.normal(0.0, 1.0 / np.sqrt(shape[0]), size=shape)


def standard_normal(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Standard normal, seed 004's ``np.random.randn``."""
    return rng.standard_normal(size=shape)


def truncated_normal(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Standard normal truncated to ``[-1/sqrt(n_in), 1/sqrt(n_in)]``, as seed 003 draws it."""
    bound = 1.0 / np.sqrt(shape[0])
    out = rng.standard_normal(size=shape)
    outside = np.abs(out) > bound
    while outside.any():  # rejection sampling: redraw only what fell outside
        out[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(out) > bound
    return out


def glorot_uniform(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Uniform in ``±sqrt(6 / (n_in + n_out))`` (Glorot & Bengio 2010; Keras' default)."""
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape)


def glorot_normal(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Normal with std ``sqrt(2 / (n_in + n_out))``."""
    return rng.normal(0.0, np.sqrt(2.0 / (shape[0] + shape[1])), size=shape)


def he_normal(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Normal with std ``sqrt(2 / n_in)`` (He et al. 2015), suited to ReLU layers."""
    return rng.normal(0.0, np.sqrt(2.0 / shape[0]), size=shape)


def zeros(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """All zeros; draws nothing from ``rng``."""
    return np.zeros(shape)


INITIALIZERS: dict[str, Initializer] = {
    f.__name__: f
    for f in (
        uniform,
        uniform01,
        normal,
        standard_normal,
        truncated_normal,
        glorot_uniform,
        glorot_normal,
        he_normal,
        zeros,
    )
}


def get_initializer(spec: str | Initializer) -> Initializer:
    """Return an initialiser by name or pass a callable through."""
    if callable(spec):
        return spec
    try:
        return INITIALIZERS[spec]
    except KeyError:
        known = ", ".join(INITIALIZERS)
        raise ValueError(f"unknown initializer {spec!r}; choose one of: {known}") from None


def checked_draw(init: Initializer, shape: Shape, rng: np.random.Generator, name: object) -> np.ndarray:
    """``init(shape, rng)``, checked: real numbers, exactly ``shape``, all finite.

    Raises
    ------
    ValueError
        Naming the initialiser, if it returns anything else.
    """
    values = np.asarray(init(shape, rng))
    if values.dtype.kind not in "biuf" or values.shape != shape or not np.isfinite(values).all():
        raise ValueError(
            f"initializer {name!r} returned an array of {values.dtype} with shape {values.shape}; "
            f"it must return finite real numbers of shape {shape}"
        )
    return values


def default_initializer(activation_name: str) -> str:
    """He for rectifiers, Glorot otherwise: the usual pairing in Keras and PyTorch practice."""
    return "he_normal" if activation_name in ("relu", "leaky_relu") else "glorot_uniform"
