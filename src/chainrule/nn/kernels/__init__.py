"""The seam between a training step and its element-wise arithmetic: one backend at a time.

A step is matrix products (always NumPy's BLAS) and, between them, element-wise passes: the
bias and activation after a product, the activation's slope and the bias gradient on the way
back, the output block (loss value, metric counts and output delta) and each optimizer's update.
Those passes are the functions of a backend module:

- `chainrule.nn.kernels.numpy_kernels`: the reference, a few readable NumPy calls each;
- `chainrule.nn.kernels.numba_kernels`: the same functions compiled with Numba, one pass each
  (``pip install "chainrule[numba]"``).

Layers, losses and optimizers call ``kernels.ops.<function>`` and never ask which backend runs.
The backend is chosen on first use, not at import (so ``import chainrule`` never imports Numba):
`set_backend` if it was called, else the environment variable ``CHAINRULE_BACKEND``
(``numpy`` or ``numba``), else Numba when it is installed, else NumPy.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType
from typing import Any

from chainrule.nn.activations import Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

BACKENDS = ("numpy", "numba")
ENVIRONMENT_VARIABLE = "CHAINRULE_BACKEND"


class _Ops:
    """The active backend's functions as attributes, bound on first use and on `set_backend`."""

    name: str | None = None
    module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        # Only called for a missing attribute: before the first bind, or for a wrong name.
        if self.module is None:
            bind(choose())
            return getattr(self, attribute)
        raise AttributeError(f"the {self.name} kernels have no {attribute!r}")


ops = _Ops()

#: The compiled kernels' number for each built-in activation.
ACTIVATION_CODES = {Sigmoid: 0, Tanh: 1, ReLU: 2, LeakyReLU: 3, Identity: 4, Softmax: 5}
_BUILT_IN = {cls: (cls.forward, cls.backward) for cls in ACTIVATION_CODES}


def activation_code(activation: Activation) -> int | None:
    """The compiled kernels' number for a built-in activation; None for any other (or one whose
    methods were replaced), which then runs its own NumPy methods."""
    cls = type(activation)
    methods = _BUILT_IN.get(cls)
    if methods is None or cls.forward is not methods[0] or cls.backward is not methods[1]:
        return None
    return ACTIVATION_CODES[cls]


def numba_installed() -> bool:
    """Whether Numba can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def choose() -> str:
    """The backend to use when none was set: ``CHAINRULE_BACKEND``, else numba if installed."""
    wanted = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if wanted:
        if wanted not in BACKENDS:
            raise ValueError(f"{ENVIRONMENT_VARIABLE}={wanted!r}: choose one of {', '.join(BACKENDS)}")
        return wanted
    return "numba" if numba_installed() else "numpy"


def bind(name: str) -> None:
    """Make ``name``'s functions the ones `ops` hands out."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    if name == "numba" and not numba_installed():
        raise ImportError('the numba backend needs Numba: pip install "chainrule[numba]"')
    module = importlib.import_module(f"chainrule.nn.kernels.{name}_kernels")
    ops.__dict__.clear()
    ops.__dict__.update({key: value for key, value in vars(module).items() if key in module.__all__})
    ops.name, ops.module = name, module


def set_backend(name: str) -> str:
    """Use the ``"numpy"`` or ``"numba"`` kernels from now on; return the backend's name.

    Parameters
    ----------
    name : {"numpy", "numba"}

    Raises
    ------
    ImportError
        For ``"numba"`` when Numba is not installed (``pip install "chainrule[numba]"``).
    """
    bind(name.strip().lower())
    return backend()


def backend() -> str:
    """The name of the backend in use (choosing it now if nothing has run yet)."""
    if ops.name is None:
        bind(choose())
    assert ops.name is not None
    return ops.name


def planned() -> str:
    """The backend in use, or the one the first step will choose, without importing Numba."""
    if ops.name is not None:
        return ops.name
    try:
        return choose()
    except ValueError as error:
        return f"numpy ({error})"
