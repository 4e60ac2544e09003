"""Activation functions, each with its derivative written in terms of its own output.

Writing the derivative from the output ``a`` (sigmoid: ``a * (1 - a)``) is what the seed
tutorials do and what makes backpropagation cheap: the forward pass already computed ``a``.
Every function accepts ``out=`` so the training loop can work in preallocated buffers.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from chainrule.nn.names import lookup

Array = np.ndarray

#: Inside `overflow_ignored`: a context variable, like NumPy's own error state, so that the two
#: always go together (`fit` trains in a copy of the caller's context, which ends with it).
_overflow_ignored: contextvars.ContextVar[bool] = contextvars.ContextVar("overflow_ignored", default=False)


@contextmanager
def overflow_ignored() -> Iterator[None]:
    """Ignore floating-point overflow for a whole pass, instead of guarding each call.

    Sigmoid's ``exp(-z)`` overflows to inf for z < -709, which gives the exact limit 0, so
    the overflow is expected. Setting NumPy's error state costs about a microsecond; the
    training loop does it once per run inside this context, where each sigmoid then skips it.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        token = _overflow_ignored.set(True)
        try:
            yield
        finally:
            _overflow_ignored.reset(token)


class Activation:
    """An elementwise (or row-wise, for softmax) nonlinearity ``a = f(z)``.

    ``derivative_formula`` is the slope written from the output, with ``{a}`` standing for the
    output's name (the step trace prints ``a1*(1-a1)``); every activation states its own.
    """

    name: str = ""
    derivative_formula: str = ""

    def forward(self, z: Array, out: Array | None = None) -> Array:
        """Return ``f(z)``; ``out`` may be ``z`` itself to work in place."""
        raise NotImplementedError

    def derivative(self, a: Array) -> Array:
        """Return ``f'(z)`` elementwise, computed from the output ``a = f(z)``."""
        raise NotImplementedError

    def backward(self, a: Array, grad: Array, out: Array | None = None) -> Array:
        """Return dLoss/dz given the output ``a`` and dLoss/da (``grad``).

        This is the seeds' delta: ``error * f'(z)``.
        """
        return np.multiply(grad, self.derivative(a), out=out)

    def config(self) -> dict[str, Any]:
        """The JSON-ready description used by save/load."""
        return {"name": self.name}

    def __repr__(self) -> str:
        return self.name


class Sigmoid(Activation):
    """Logistic function ``1 / (1 + exp(-z))``, the seeds' activation."""

    name = "sigmoid"
    derivative_formula = "{a}*(1-{a})"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        # exp(-z) overflows to inf for z < -709; 1 / (1 + inf) = 0 is then the exact limit,
        # so the overflow is expected and silenced. Same operations, same bits, as the seeds.
        if _overflow_ignored.get():
            out = np.exp(np.negative(z, out=out), out=out)
        else:
            with np.errstate(over="ignore"):
                out = np.exp(np.negative(z, out=out), out=out)
        out += 1.0
        return np.reciprocal(out, out=out)

    def derivative(self, a: Array) -> Array:
        return a * (1.0 - a)

    def backward(self, a: Array, grad: Array, out: Array | None = None) -> Array:
        out = np.subtract(1.0, a, out=out)
        out *= a
        out *= grad
        return out


class Tanh(Activation):
    """Hyperbolic tangent; derivative ``1 - a**2``."""

    name = "tanh"
    derivative_formula = "(1-{a}**2)"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.tanh(z, out=out)

    def derivative(self, a: Array) -> Array:
        return 1.0 - a * a

    def backward(self, a: Array, grad: Array, out: Array | None = None) -> Array:
        out = np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)
        out *= grad
        return out


class ReLU(Activation):
    """Rectified linear unit ``max(z, 0)``; derivative 1 where the output is positive."""

    name = "relu"
    derivative_formula = "[{a}>0]"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.maximum(z, 0.0, out=out)

    def derivative(self, a: Array) -> Array:
        return (a > 0).astype(a.dtype)

    def backward(self, a: Array, grad: Array, out: Array | None = None) -> Array:
        return np.multiply(grad, a > 0, out=out)


class LeakyReLU(Activation):
    """``max(z, alpha * z)`` with a small slope ``alpha`` in [0, 1) for negative inputs."""

    name = "leaky_relu"
    derivative_formula = "[{a}>0 or alpha]"

    def __init__(self, alpha: float = 0.01) -> None:
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"leaky_relu alpha must be in [0, 1), got {alpha}")
        self.alpha = float(alpha)

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.maximum(z, z * self.alpha, out=out)

    def derivative(self, a: Array) -> Array:
        # With 0 <= alpha < 1 the output has the sign of the input, so a > 0 iff z > 0.
        return np.where(a > 0, 1.0, self.alpha).astype(a.dtype)

    def backward(self, a: Array, grad: Array, out: Array | None = None) -> Array:
        return np.multiply(grad, self.derivative(a), out=out)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "alpha": self.alpha}

    def __repr__(self) -> str:
        return f"leaky_relu(alpha={self.alpha})"


class Identity(Activation):
    """No nonlinearity: ``a = z`` (regression outputs, the linear network of seed 003)."""

    name = "identity"
    derivative_formula = "1"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        if out is None or out is z:
            return z
        np.copyto(out, z)
        return out

    def derivative(self, a: Array) -> Array:
        return np.ones_like(a)

    def backward(self, a: Array, grad: Array, out: Array | None = None) -> Array:
        if out is None:
            return grad
        np.copyto(out, grad)
        return out


class Softmax(Activation):
    """Row-wise ``exp(z) / sum(exp(z))``, computed after subtracting each row's maximum."""

    name = "softmax"
    derivative_formula = "softmax_jacobian({a})"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        if z.size == z.shape[-1]:  # one row (serving): whole-array reductions, a microsecond less
            out = np.subtract(z, z.max(), out=out)
            np.exp(out, out=out)
            out /= out.sum()  # the same pairwise sum over the same contiguous row: the same bits
            return out
        out = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
        return out

    def derivative(self, a: Array) -> Array:
        """The diagonal of the Jacobian, ``a * (1 - a)``; `backward` uses the full Jacobian."""
        return a * (1.0 - a)

    def backward(self, a: Array, grad: Array, out: Array | None = None) -> Array:
        # Jacobian-vector product: da_j/dz_i = a_j (delta_ij - a_i).
        inner = np.einsum("ij,ij->i", grad, a)[:, None]
        out = np.subtract(grad, inner, out=out)
        out *= a
        return out


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Identity, Softmax)
}


def get_activation(spec: str | dict[str, Any] | Activation) -> Activation:
    """Return an activation from a name, a config dict, or an instance.

    Parameters
    ----------
    spec : str, dict or Activation
        A name in any case (``"tanh"``, ``"ReLU"``, scikit-learn's ``"logistic"``), a config
        such as ``{"name": "leaky_relu", "alpha": 0.1}``, or an instance (returned as is).

    Returns
    -------
    Activation
        An object with ``forward(z)`` and ``derivative(a)`` (the slope from the output ``a``).

    Raises
    ------
    ValueError
        For an unknown name, listing the choices.

    Examples
    --------
    >>> import numpy as np
    >>> import chainrule as cr
    >>> cr.get_activation("logistic").name  # scikit-learn's name for the sigmoid
    'sigmoid'
    >>> leaky = cr.get_activation({"name": "leaky_relu", "alpha": 0.1})
    >>> leaky
    leaky_relu(alpha=0.1)
    >>> leaky.forward(np.array([-1.0, 2.0]))
    array([-0.1,  2. ])
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        name = spec.pop("name")
        return _lookup(name)(**spec)
    return _lookup(spec)()


#: Other spellings (normalized), from scikit-learn, Keras and PyTorch.
ACTIVATION_ALIASES = {"logistic": "sigmoid", "linear": "identity", "none": "identity", "leaky": "leaky_relu"}


def _lookup(name: str) -> type[Activation]:
    return lookup(name, ACTIVATIONS, ACTIVATION_ALIASES, "activation")
