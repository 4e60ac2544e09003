"""Check backpropagation against central finite differences in float64."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.network import Network
from chainrule.nn.layers import Dense, Dropout, Layer
from chainrule.nn.losses import Loss, get_loss


@dataclass
class GradcheckResult:
    """Per-parameter relative errors between backpropagation and finite differences.

    The relative error of a parameter array is ``||analytic - numeric|| / (||analytic|| +
    ||numeric||)`` (2-norms): scale-free, and not dominated by entries that are essentially
    zero, whose finite differences are mostly rounding noise. ``max_abs_diff`` is the largest
    entrywise difference.

    Attributes
    ----------
    errors : dict of str to float
        Relative error per parameter array (``"0.W"``, ``"1.b"``, ...).
    max_abs_diff : float
        The largest entrywise difference over every parameter.
    analytic, numeric : dict of str to ndarray
        The backpropagated and the finite-difference gradients.

    Examples
    --------
    >>> import chainrule as cr
    >>> result = cr.gradcheck(cr.Network([2, 3, 1], seed=0), [[0, 1], [1, 0]], [1, 0])
    >>> sorted(result.errors), result.max_error < 1e-6
    (['0.W', '0.b', '1.W', '1.b'], True)
    """

    errors: dict[str, float] = field(default_factory=dict)
    max_abs_diff: float = 0.0
    analytic: dict[str, np.ndarray] = field(default_factory=dict)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        """The worst relative error over every parameter."""
        return max(self.errors.values(), default=0.0)

    @property
    def worst(self) -> str:
        """The name (``"1.W"``) of the parameter with the worst error."""
        return max(self.errors, key=self.errors.__getitem__)

    def __repr__(self) -> str:
        return f"GradcheckResult(max_error={self.max_error:.3g} at {self.worst!r})"


def gradcheck(
    net: Network,
    X: Any,
    y: Any,
    loss: str | Loss | None = None,
    eps: float = 1e-5,
    fused: bool = True,
) -> GradcheckResult:
    """Compare `Network.gradients` with central differences ``(L(p+eps) - L(p-eps)) / 2eps``.

    Parameters
    ----------
    net : Network
        The network to check; it is copied, never changed.
    X : array-like of shape (n_samples, n_inputs)
        A small batch (every parameter is perturbed twice, each time running the batch).
    y : array-like of shape (n_samples, n_outputs)
        Its targets.
    loss : str or Loss, optional
        Default: the network's own, else the one its output activation suggests.
    eps : float
        The finite-difference step.
    fused : bool
        Check the fused output delta (as training uses it) or the chain rule term by term.

    Returns
    -------
    GradcheckResult
        ``result.max_error`` is the worst relative error; below about 1e-6 means the
        backward pass agrees with the forward pass.

    Notes
    -----
    ``eps = 1e-5`` balances the truncation error of the difference (``~eps**2``) against
    rounding in the loss (``~1e-16 / eps``).

    The check runs on a float64 copy of ``net``, so a float32 network is checked at full
    precision and ``net`` itself is not touched. Dropout layers are checked with one fixed
    mask, drawn once from a fixed seed: the loss with that mask is a smooth
    function of the weights, so its differences are comparable with backpropagation.

    Examples
    --------
    chainrule's own backward pass agrees with the forward pass:

    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> cr.gradcheck(net, [[0, 1], [1, 0]], [1, 0]).max_error < 1e-6
    True

    A planted bug, a mean squared error whose gradient forgot the factor 2, is caught: the
    gradients are half what they should be, a relative error of ``|g - 2g| / (g + 2g) = 1/3``:

    >>> class PlantedBug(cr.Loss):
    ...     name = "planted_bug"
    ...     def __call__(self, y, out):
    ...         return float(((out - y) ** 2).mean())
    ...     def gradient(self, y, out):
    ...         return (out - y) / out.size
    >>> round(cr.gradcheck(net, [[0, 1], [1, 0]], [1, 0], loss=PlantedBug()).max_error, 3)
    0.333
    """
    copy = Network([_float64_copy(layer) for layer in net.layers], dtype="float64", seed=0)
    loss_fn = get_loss(loss) if loss is not None else net.resolve_loss(None)
    X, y = copy.as_inputs(X), copy.as_targets(y)
    copy.forward(X, training=True)  # draws each dropout mask once; then they stay fixed
    for layer in copy.layers:
        if isinstance(layer, Dropout):
            layer.fixed_mask = layer.mask
    analytic = copy.gradients(X, y, loss_fn, fused=fused)
    result = GradcheckResult()
    for i, layer in enumerate(copy.layers):
        for key, param in layer.params.items():
            numeric = np.empty_like(param)
            flat, grad = param.reshape(-1), numeric.reshape(-1)
            for j in range(flat.size):
                original = flat[j]
                flat[j] = original + eps
                plus = loss_fn(y, copy.forward(X, training=True))
                flat[j] = original - eps
                minus = loss_fn(y, copy.forward(X, training=True))
                flat[j] = original
                grad[j] = (plus - minus) / (2.0 * eps)
            exact = analytic[i][key]
            scale = np.linalg.norm(exact) + np.linalg.norm(numeric)
            name = f"{i}.{key}"
            result.errors[name] = float(np.linalg.norm(exact - numeric) / scale) if scale else 0.0
            result.max_abs_diff = max(result.max_abs_diff, float(np.max(np.abs(exact - numeric))))
            result.analytic[name], result.numeric[name] = exact, numeric
    return result


def _float64_copy(layer: Layer) -> Layer:
    if isinstance(layer, Dropout):
        return Dropout(layer.rate)
    if not isinstance(layer, Dense):
        raise TypeError(f"gradcheck does not know how to copy {layer!r}")
    return Dense(
        layer.n_in,
        layer.n_out,
        layer.activation,
        bias=layer.bias,
        weights=layer.params["W"].astype(np.float64),
        biases=layer.params["b"].astype(np.float64) if layer.bias else None,
    )
