"""The seam between a training step and its element-wise arithmetic: a backend per context.

A step is matrix products (always NumPy's BLAS) and, between them, element-wise passes: the
bias and activation after a product, the activation's slope and the bias gradient on the way
back, the output block (loss value, metric counts and output delta) and each optimizer's update.
Those passes are the functions of a backend module, one `Backend` object each:

- `chainrule.nn.kernels.numpy_kernels`: the reference, a few readable NumPy calls each;
- `chainrule.nn.kernels.numba_kernels`: the same functions compiled with Numba, one pass each
  (``pip install "chainrule[numba]"``).

Layers, losses and optimizers call ``kernels.current().<function>`` (or ``kernels.ops.<function>``,
the same lookup behind an attribute) and never ask which backend runs. Which one runs belongs to
the context, as Thinc's ``use_ops`` does it: `use_backend` sets it for a ``with`` block through a
`contextvars.ContextVar`, so per thread and per asyncio task; elsewhere the process default
applies. That default is chosen on first use, not at import (so ``import chainrule`` never imports
Numba): `set_backend` if it was called, else the environment variable ``CHAINRULE_BACKEND``
(``numpy`` or ``numba``), else NumPy. A thread started inside ``with use_backend(...)`` does not
inherit it (a new thread starts from an empty context): it uses the process default unless it
enters `use_backend` itself.

When nobody chose (no `use_backend`, `set_backend` or ``CHAINRULE_BACKEND``), each `fit` asks
`for_run`: Numba is installed, and the run is large enough that Numba's speed repays importing
it and loading its cached kernels (about half a second), or compiling them when they are not
cached yet (seconds per network shape). Otherwise the run trains on NumPy, and a user who has
Numba installed for another reason waits for no compiler. An automatic choice of Numba is said
once per process, on the ``chainrule.kernels`` logger.

The kernels keep no state that one run could write while another reads it (work arrays belong to
the layers; the only shared arrays are read-only constants), so independent networks may train
in separate threads, each with any backend. One network trained from two threads at once is not
supported: its layers' work buffers are its own.

If importing Numba fails (or is interrupted with Ctrl-C), the modules it left half-imported are
removed from `sys.modules`, so the next use tries again; when the backend was chosen
automatically and the import failed with an error, the process falls back to NumPy with one
`RuntimeWarning`.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.util
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from chainrule.nn.activations import Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

BACKENDS = ("numpy", "numba")
ENVIRONMENT_VARIABLE = "CHAINRULE_BACKEND"
#: Modules a failed or interrupted backend import may leave half-imported (top-level names).
IMPORTED_WITH_NUMBA = ("numba", "llvmlite", "chainrule.nn.kernels.numba_")


class Backend:
    """One backend: its name and its kernel functions as attributes (``backend.dense_forward``).

    Parameters
    ----------
    name : {"numpy", "numba"}
    module : module
        The backend's kernels module; the names in its ``__all__`` become attributes.
    """

    def __init__(self, name: str, module: ModuleType) -> None:
        self.__dict__.update({key: getattr(module, key) for key in module.__all__})
        self.name = name
        self.module = module

    def __getattr__(self, attribute: str) -> Any:
        raise AttributeError(f"the {self.name} kernels have no {attribute!r}")

    def __repr__(self) -> str:  # never chooses (nor imports) the process default's backend
        return f"<chainrule backend {vars(self).get('name', '(not chosen yet)')!r}>"


class _ProcessDefault(Backend):
    """The process default: empty until first use, then a copy of the chosen `Backend`'s attributes.

    `set_backend` replaces its ``__dict__`` in one assignment, so a reader in another thread sees
    the old backend or the new one, never a mixture.
    """

    def __init__(self) -> None:  # unbound: attribute lookups fall through to __getattr__
        pass

    def __getattr__(self, attribute: str) -> Any:
        if "name" in self.__dict__:  # bound, and the attribute is not a kernel
            return Backend.__getattr__(self, attribute)
        with _lock:
            if "name" not in self.__dict__:
                self.adopt(_load_chosen())
        return getattr(self, attribute)

    def adopt(self, chosen: Backend) -> None:
        """Hand out ``chosen``'s kernels from now on."""
        self.__dict__ = dict(vars(chosen))


_lock = threading.RLock()
_loaded: dict[str, Backend] = {}
_default = _ProcessDefault()
_default_set = False  # set_backend was called
_context: contextvars.ContextVar[Backend] = contextvars.ContextVar("chainrule_backend", default=_default)

#: The backend of the current context (a `Backend`): ``kernels.current().dense_forward(...)``.
#: A C-level call, so the lookup costs a few tens of nanoseconds per kernel call.
current: Callable[[], Backend] = _context.get


class _Ops:
    """``ops.<function>`` is ``current().<function>``: the kernel of the current context's backend."""

    __slots__ = ()

    def __getattribute__(self, attribute: str) -> Any:
        return getattr(_context.get(), attribute)


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
    """The process default's backend when `set_backend` was not called: ``CHAINRULE_BACKEND``,
    else NumPy (a `fit` may still take Numba, see `for_run`)."""
    return _wanted() or "numpy"


def chosen_by_user() -> bool:
    """Whether this context's backend was chosen: `use_backend`, `set_backend` or the variable."""
    return _context.get() is not _default or _default_set or bool(_wanted())


#: Seconds that loading Numba and its cached kernels costs a process, and compiling a network's
#: kernels into an empty cache (measured on 2 shared cores: 0.4-0.6 s and 10-25 s).
LOAD_COST, COMPILE_COST = 1.0, 30.0
_said: set[str] = set()


def for_run(numpy_seconds: float, numba_saves: float, key: str) -> Backend:
    """The backend a `fit` trains with: the chosen one, else Numba only where it pays.

    Parameters
    ----------
    numpy_seconds : float
        The run's estimated time on the NumPy kernels.
    numba_saves : float
        The share of that time the Numba kernels save (from 0 to 1).
    key : str
        What Numba compiles for this run (`chainrule.nn.kernels.numba_cache.is_compiled`).
    """
    if chosen_by_user():
        return current()
    if not numba_installed():
        return load("numpy")
    from chainrule.nn.kernels import numba_cache

    cost = LOAD_COST if numba_cache.is_compiled(key) else COMPILE_COST
    if numpy_seconds * numba_saves <= 2.0 * cost:
        return load("numpy")
    try:
        chosen = load("numba")
    except Exception as error:
        if "failed" not in _said:
            _said.add("failed")
            warnings.warn(
                f"the numba backend could not be loaded ({type(error).__name__}: {error}); training "
                'with the NumPy kernels. set_backend("numpy") or CHAINRULE_BACKEND=numpy silences this.',
                RuntimeWarning,
                stacklevel=2,
            )
        return load("numpy")
    if "numba" not in _said:
        _said.add("numba")
        numba_cache.log.warning(
            f"chainrule: training with the Numba kernels (about {numpy_seconds:.0f} s of work, "
            f"which repays {'loading' if cost == LOAD_COST else 'compiling'} them); "
            'set_backend("numpy") or CHAINRULE_BACKEND=numpy keeps NumPy.'
        )
    return chosen


def _wanted() -> str:
    """``CHAINRULE_BACKEND``, checked ("" when unset)."""
    wanted = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if wanted and wanted not in BACKENDS:
        raise ValueError(f"{ENVIRONMENT_VARIABLE}={wanted!r}: choose one of {', '.join(BACKENDS)}")
    return wanted


def load(name: str) -> Backend:
    """The `Backend` called ``name``, importing its kernels on first use.

    Raises
    ------
    ValueError
        For a name other than ``"numpy"`` and ``"numba"``.
    ImportError
        For ``"numba"`` when Numba is not installed (``pip install "chainrule[numba]"``).

    Whatever importing the kernels raises (an error, or KeyboardInterrupt) passes through, after
    the modules it half-imported are removed from `sys.modules`, so a later call imports afresh.
    """
    found = _loaded.get(name)
    if found is not None:
        return found
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    if name == "numba" and not numba_installed():
        raise ImportError('the numba backend needs Numba: pip install "chainrule[numba]"')
    with _lock:
        if name not in _loaded:
            _loaded[name] = Backend(name, _import(f"chainrule.nn.kernels.{name}_kernels"))
    return _loaded[name]


def _import(module_name: str) -> ModuleType:
    """Import a kernels module; on any failure or interrupt, forget what it half-imported."""
    before = set(sys.modules)
    try:
        return importlib.import_module(module_name)
    except BaseException:
        for key in set(sys.modules) - before:
            if key.startswith(IMPORTED_WITH_NUMBA):
                sys.modules.pop(key, None)
        raise


def _load_chosen() -> Backend:
    """The process default's backend: `choose`'s (asked for by name: an import error propagates)."""
    return load(choose())


def set_backend(name: str) -> str:
    """Make the ``"numpy"`` or ``"numba"`` kernels the process default; return the backend's name.

    The default is what every context without a `use_backend` of its own uses, in every thread.

    Parameters
    ----------
    name : {"numpy", "numba"}
        The kernels' name, in any case.

    Returns
    -------
    str
        The backend's name, lower case.

    Raises
    ------
    ValueError
        For any other name.
    ImportError
        For ``"numba"`` when Numba is not installed (``pip install "chainrule[numba]"``).

    Examples
    --------
    Skipped when the examples run: it changes the default for the rest of the process.

    >>> import chainrule as cr
    >>> cr.set_backend("NumPy")  # doctest: +SKIP
    'numpy'
    """
    global _default_set
    chosen = load(name.strip().lower())
    with _lock:
        _default.adopt(chosen)
        _default_set = True
    return chosen.name


@contextmanager
def use_backend(name: str) -> Iterator[str]:
    """Use the ``"numpy"`` or ``"numba"`` kernels inside a ``with`` block, in this context only.

    The choice is held in a `contextvars.ContextVar`: it applies to the current thread (and
    asyncio task) until the block ends, nests, and leaves the process default (`set_backend`)
    and other threads alone. A thread started inside the block does not inherit it: it starts
    from an empty context and uses the process default.

    Parameters
    ----------
    name : {"numpy", "numba"}
        The kernels' name, in any case.

    Yields
    ------
    str
        The backend's name.

    Raises
    ------
    ValueError
        For any other name.
    ImportError
        For ``"numba"`` when Numba is not installed (``pip install "chainrule[numba]"``).

    Examples
    --------
    >>> import chainrule as cr
    >>> with cr.use_backend("numpy"):
    ...     cr.backend()
    'numpy'
    """
    chosen = load(name.strip().lower())
    token = _context.set(chosen)
    try:
        yield chosen.name
    finally:
        _context.reset(token)


def activate(chosen: Backend) -> None:
    """Make ``chosen`` this context's backend, with no way back: for a copied context only
    (``contextvars.copy_context().run(...)``, as `fit` trains), which ends with its call."""
    _context.set(chosen)


def backend() -> str:
    """The name of the backend this context uses (choosing the process default now if unset).

    Returns
    -------
    str
        ``"numpy"`` or ``"numba"``.

    Examples
    --------
    >>> import chainrule as cr
    >>> with cr.use_backend("numpy"):
    ...     print(cr.backend())
    numpy
    """
    return current().name


def planned() -> str:
    """The backend this context uses, or the one its first step will choose, without importing Numba."""
    chosen = vars(_context.get()).get("name")
    if chosen is not None:
        return chosen
    try:
        return choose()
    except ValueError as error:
        return f"numpy ({error})"
