"""Full-batch L-BFGS: the whole network's loss and gradient as one flat vector, minimised by SciPy.

scikit-learn's ``MLPClassifier(solver="lbfgs")`` hands its packed weights to
``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` with ``maxiter``, ``maxfun`` and
``gtol``; this module does the same for a chainrule network. The loss and gradient at a point are
one forward and one backward pass (`chainrule.train.step.backward`) over every row, computed per
partition of the data and combined as a weighted mean, so the same objective runs on arrays in
memory, on blocks streamed one at a time, or on partitions held by Dask workers
(`chainrule.dask`). L-BFGS is not a step-based run, so it has its own small driver here rather
than `chainrule.train.loop.Trainer`; it keeps the same guarantees: every setting checked before
anything changes, a non-finite loss or weight restores the starting weights and raises
`DivergenceError`, Ctrl-C keeps the last completed iteration.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from chainrule.errors import DivergenceError
from chainrule.nn.activations import overflow_ignored
from chainrule.nn.checks import check_float, check_int
from chainrule.nn.layers import Dropout, Layer
from chainrule.nn.losses import Loss
from chainrule.nn.names import normalized
from chainrule.nn.output import OutputBlock
from chainrule.train.diagnostics import caller_stacklevel
from chainrule.train.history import History
from chainrule.train.optimizers import Slot
from chainrule.train.step import backward

Array = np.ndarray
#: One partition's result: its loss (a mean for mean-reduced losses), gradient and weight.
Partial = tuple[float, Array, float]
Evaluate = Callable[[Array], tuple[float, Array]]


@dataclass(kw_only=True)
class LBFGS:
    """Full-batch L-BFGS, with scikit-learn's meaning of its three limits.

    Give ``optimizer="lbfgs"`` to `chainrule.fit` (then ``epochs`` is ``max_iter``) or an
    instance for the other settings.

    Parameters
    ----------
    max_iter : int, optional
        The most L-BFGS iterations (SciPy's ``maxiter``); default `fit`'s ``epochs``.
    tol : float
        Stop when every projected gradient entry is at most ``tol`` (SciPy's ``gtol``).
    max_fun : int
        The most loss-and-gradient evaluations (SciPy's ``maxfun``).
    l2 : float
        Adds ``l2 / 2 * sum(W**2)`` over the weight matrices (not biases) to the loss, as
        scikit-learn's ``alpha / n_samples`` does.

    Examples
    --------
    XOR in a few dozen iterations (needs SciPy, which ``chainrule[sklearn]`` brings):

    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    >>> history = net.fit(X, y, optimizer=cr.LBFGS(tol=1e-6), epochs=200)
    >>> history.result["success"], history.loss[-1] < 0.01
    (True, True)
    >>> net.predict_classes(X)
    array([0, 1, 1, 0])
    """

    max_iter: int | None = None
    tol: float = 1e-4
    max_fun: int = 15000
    l2: float = 0.0
    name: ClassVar[str] = "lbfgs"

    def __post_init__(self) -> None:
        if self.max_iter is not None:
            self.max_iter = check_int("max_iter", self.max_iter, 1)
        self.tol = check_float("tol", self.tol, 0.0)
        self.max_fun = check_int("max_fun", self.max_fun, 1)
        self.l2 = check_float("l2", self.l2, 0.0)


def is_lbfgs(spec: object) -> bool:
    """Whether an ``optimizer`` option names full-batch L-BFGS."""
    return isinstance(spec, LBFGS) or (isinstance(spec, str) and normalized(spec) == "lbfgs")


class FlatParams:
    """A network's parameters and gradients as one float64 vector, in slot order."""

    def __init__(self, slots: Sequence[Slot]) -> None:
        self.slots = list(slots)
        self.size = sum(slot.param.size for slot in self.slots)
        #: True for the entries of weight matrices (those the L2 penalty covers).
        self.decay = np.concatenate([np.full(slot.param.size, slot.decay) for slot in self.slots])

    def get(self) -> Array:
        """A copy of every parameter, flattened into one vector."""
        return np.concatenate([slot.param.ravel() for slot in self.slots]).astype(np.float64)

    def set(self, w: Array) -> None:
        """Copy ``w`` into the parameters, in place."""
        start = 0
        for slot in self.slots:
            stop = start + slot.param.size
            slot.param[...] = w[start:stop].reshape(slot.param.shape)
            start = stop

    def grads(self) -> Array:
        """The gradients of the last backward pass, flattened into one float64 vector."""
        return np.concatenate([slot.grad.ravel() for slot in self.slots]).astype(np.float64)


def partition_loss(
    layers: Sequence[Layer], block: OutputBlock, flat: FlatParams, X: Array, y: Array, weights: Array | None
) -> Partial:
    """The loss and flat gradient of one partition at the weights in ``layers``, and its weight.

    The weight is the partition's row count (or weight sum) for mean-reduced losses and 1 for
    summed ones, so `combine` turns several partitions into the loss of all their rows.
    """
    out = X
    for layer in layers:
        out = layer.forward(out, training=True)
    value, grad = block(y, out, weights)
    if not math.isfinite(value):
        return value, np.zeros(flat.size), 1.0
    backward(layers, grad, block.fused)
    if block.loss.reduction == "sum":
        return value, flat.grads(), 1.0
    return value, flat.grads(), float(X.shape[0] if weights is None else weights.sum())


def combine(parts: Sequence[Partial], summed: bool) -> tuple[float, Array]:
    """Partitions' results as the loss and gradient of all their rows (one partition: itself)."""
    if len(parts) == 1:
        return parts[0][0], parts[0][1]
    if summed:
        return math.fsum(p[0] for p in parts), np.sum([p[1] for p in parts], axis=0)
    total = math.fsum(p[2] for p in parts)
    value = math.fsum(p[0] * p[2] for p in parts) / total
    grad = np.zeros_like(parts[0][1])
    for part in parts:
        grad += part[1] * part[2]
    return value, grad / total


def local_evaluate(
    layers: Sequence[Layer],
    loss: Loss,
    flat: FlatParams,
    partitions: Callable[[], Iterable[tuple[Array, Array, Array | None]]],
) -> Evaluate:
    """The objective over partitions read in this process (arrays in memory, or blocks streamed)."""
    block = OutputBlock(loss, layers[-1].activation)  # type: ignore[attr-defined]

    def evaluate(w: Array) -> tuple[float, Array]:
        flat.set(w)
        parts = [partition_loss(layers, block, flat, X, y, wt) for X, y, wt in partitions()]
        return combine(parts, loss.reduction == "sum")

    return evaluate


class NotFiniteError(ArithmeticError):
    """Raised inside the objective to stop SciPy at a NaN or infinite loss or gradient."""


def check_layers(layers: Sequence[Layer]) -> None:
    """L-BFGS needs a deterministic objective: no Dropout."""
    if any(isinstance(layer, Dropout) for layer in layers):
        raise ValueError("optimizer='lbfgs' needs a deterministic network: remove the Dropout layers")


def minimize(
    evaluate: Evaluate,
    flat: FlatParams,
    settings: LBFGS,
    history: History,
    max_iter: int,
) -> Any:
    """Run SciPy's L-BFGS-B from the network's weights; leave the result's weights in place.

    Returns SciPy's ``OptimizeResult`` (``nit``, ``nfev``, ``fun``, ``success``, ``message``).
    One history entry per iteration: the loss (with the penalty) at its end. A non-finite loss,
    gradient or final weight restores the starting weights and raises `DivergenceError`; Ctrl-C
    keeps the weights of the last completed iteration and sets ``history.interrupted``.
    """
    from scipy.optimize import minimize as scipy_minimize

    start = flat.get()
    last = {"x": start}
    decay, l2 = flat.decay, settings.l2

    def objective(w: Array) -> tuple[float, Array]:
        value, grad = evaluate(w)
        if l2:
            value += 0.5 * l2 * float(np.dot(w[decay], w[decay]))
            grad = grad + l2 * np.where(decay, w, 0.0)
        if not (math.isfinite(value) and np.isfinite(grad).all()):
            raise NotFiniteError(value)
        return value, grad

    def callback(intermediate_result: Any) -> None:
        last["x"] = intermediate_result.x.copy()
        history.append({"loss": float(intermediate_result.fun)})

    options = {"maxfun": settings.max_fun, "maxiter": max_iter, "gtol": settings.tol}
    try:
        with overflow_ignored():
            result = scipy_minimize(
                objective, start, method="L-BFGS-B", jac=True, options=options, callback=callback
            )
    except NotFiniteError as exc:
        flat.set(start)
        history.truncate(0)
        raise DivergenceError(
            f"L-BFGS: the loss or gradient became {exc.args[0]}; the starting weights are restored",
            epoch=0,
            history=history,
        ) from None
    except KeyboardInterrupt:
        flat.set(last["x"])
        history.interrupted = True
        warnings.warn(
            f"L-BFGS interrupted after {history.epochs} iterations; the network keeps the last one's weights",
            RuntimeWarning,
            stacklevel=caller_stacklevel(),
        )
        return None
    except BaseException:
        flat.set(start)
        raise
    if not np.isfinite(result.x).all():
        flat.set(start)
        raise DivergenceError("L-BFGS: the weights became NaN or infinite", epoch=0, history=history)
    flat.set(result.x)
    return result


class LBFGSRun:
    """A checked L-BFGS run, ready: calling it minimises and returns the `History`.

    ``history.result`` then holds SciPy's outcome (``nit``, ``nfev``, ``success``, ``message``).
    """

    def __init__(self, begin: Callable[[], History]) -> None:
        self.begin, self.started = begin, False

    def __call__(self) -> History:
        self.started = True
        return self.begin()


def run_lbfgs(
    net: Any, loss_fn: Loss, evaluate: Evaluate, flat: FlatParams, settings: LBFGS, max_iter: int
) -> LBFGSRun:
    """The run of ``evaluate`` from ``net``'s weights (shared by local and Dask-parallel fits)."""
    from chainrule.nn import kernels

    backend = kernels.backend()  # chosen before training, as the step-based loop does

    def begin() -> History:
        history = History()
        history.backend = backend
        net.loss = loss_fn
        result = minimize(evaluate, flat, settings, history, max_iter)
        history.result = (
            None
            if result is None
            else {
                "nit": int(result.nit),
                "nfev": int(result.nfev),
                "success": bool(result.success),
                "message": str(result.message),
                "fun": float(result.fun),
            }
        )
        return history

    return LBFGSRun(begin)


def prepare_lbfgs(net: Any, X: Any, y: Any, settings: Any, **unused: Any) -> LBFGSRun:
    """Check the data and settings for a full-batch L-BFGS `fit`, changing nothing.

    ``settings`` is the call's `FitSettings`; ``settings.optimizer`` is an `LBFGS`. A Dask
    collection is read block by block at every evaluation (`chainrule.train.stream`), so the
    memory needed is a few blocks; `chainrule.dask.fit_lbfgs` evaluates on the workers instead.
    """
    from chainrule.train.stream import BlockSource, block_source, converted, is_streamed

    del unused  # fit's resume arguments: FitSettings refuses resume_from with L-BFGS
    spec: LBFGS = settings.optimizer
    check_layers(net.layers)
    loss_fn = net.resolve_loss(settings.loss)
    if is_streamed(X):
        source: BlockSource = block_source(X, y, settings.sample_weight)

        def partitions() -> Iterable[tuple[Array, Array, Array | None]]:
            return (converted(net, loss_fn, source.load(i)) for i in range(len(source)))

    else:
        from chainrule.train.batches import sample_weights

        X_in, y_in, weights = converted(net, loss_fn, (X, y, None))
        if settings.sample_weight is not None:
            weights = sample_weights(settings.sample_weight, X_in.shape[0])
        loss_fn.check_targets(y_in)
        whole = [(X_in, y_in, weights)]
        partitions = lambda: whole  # noqa: E731
    flat = FlatParams(net.slots())
    evaluate = local_evaluate(net.layers, loss_fn, flat, partitions)
    return run_lbfgs(net, loss_fn, evaluate, flat, spec, spec.max_iter or settings.epochs)
