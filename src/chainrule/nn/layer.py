"""The layer interface: what a network needs from a layer (`Layer`), and nothing else.

`chainrule.nn.layers` builds ``Dense`` and ``Dropout`` on it (and re-exports it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray


class Layer:
    """What the network needs from a layer: parameters, a forward and a backward pass.

    Subclass it to add a layer: ``params`` and ``grads`` are dicts with the same keys (empty for
    layers without parameters); `forward` caches what `backward` needs.

    Examples
    --------
    A layer that doubles its input, with no parameters:

    >>> import numpy as np
    >>> import chainrule as cr
    >>> class Double(cr.Layer):
    ...     def forward(self, X, training=False):
    ...         return 2 * X
    ...     def backward(self, grad_output, need_input_grad=True):
    ...         return 2 * grad_output if need_input_grad else None
    >>> layer = Double()
    >>> layer.forward(np.array([[1.0, -0.5]])), layer.count_params()
    (array([[ 2., -1.]]), 0)
    """

    params: dict[str, Array]
    grads: dict[str, Array]

    def __init__(self) -> None:
        self.params = {}
        self.grads = {}
        self._buffers: dict[int, Any] = {}  # work arrays by batch size

    @property
    def initialized(self) -> bool:
        """Whether the layer's parameters exist (a layer without parameters always is)."""
        return True

    @property
    def weights(self) -> list[Array]:
        """The parameter arrays in order (``[W, b]`` for a Dense layer), as Keras lists them."""
        return list(self.params.values())

    def count_params(self) -> int:
        """The number of trainable values.

        Returns
        -------
        int
            The total size of the ``params`` arrays (``n_in * n_out + n_out`` for a Dense
            layer with a bias).
        """
        return sum(param.size for param in self.params.values())

    def initialize(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        """Draw parameters (if not set) from ``rng`` and store them in ``dtype``.

        Parameters
        ----------
        rng : numpy.random.Generator
            The network's generator; layers that draw at training time (dropout) keep it.
        dtype : numpy dtype
            ``float32`` or ``float64``, for the parameters and their gradients.
        """

    def forward(self, X: Array, training: bool = False) -> Array:
        """Return the layer's output for the batch ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_in)
            The batch, one sample per row.
        training : bool
            In training, cache what `backward` needs (and apply training-only behaviour).

        Returns
        -------
        ndarray of shape (n_samples, n_out)
            The layer's output for each row.
        """
        raise NotImplementedError

    def backward(self, grad_output: Array, need_input_grad: bool = True) -> Array | None:
        """Fill ``grads`` from dLoss/d(output) and return dLoss/d(input).

        Parameters
        ----------
        grad_output : ndarray of shape (n_samples, n_out)
            dLoss/d(output) for the batch of the last training-mode `forward`.
        need_input_grad : bool
            False for the first layer, whose input gradient nobody uses (saves a product).

        Returns
        -------
        ndarray of shape (n_samples, n_in), or None when ``need_input_grad`` is False
            dLoss/d(input), which the layer before takes as its ``grad_output``.
        """
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The JSON-ready description from which `layer_from_config` rebuilds the layer.

        Returns
        -------
        dict
            ``{"type": <class name>, ...}`` with the constructor's settings (not the weights,
            which the model file stores as arrays).
        """
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without work buffers and cached batches (scikit-learn users pickle models)."""
        state = self.__dict__.copy()
        state["_buffers"] = {}
        for cached in ("input", "z", "output", "delta", "mask"):
            if cached in state:
                state[cached] = None
        return state
