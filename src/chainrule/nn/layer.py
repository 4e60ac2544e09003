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
        """The number of trainable values."""
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
        training : bool
            In training, cache what `backward` needs (and apply training-only behaviour).

        Returns
        -------
        ndarray of shape (n_samples, n_out)
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
        """
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The JSON-ready description from which `layer_from_config` rebuilds the layer."""
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without work buffers and cached batches (scikit-learn users pickle models)."""
        state = self.__dict__.copy()
        state["_buffers"] = {}
        for cached in ("input", "z", "output", "delta", "mask"):
            if cached in state:
                state[cached] = None
        return state
