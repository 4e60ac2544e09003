"""Data-parallel full-batch L-BFGS on a Dask cluster: the blocks stay where they are, the weights travel.

The blocks of ``X`` and ``y`` are computed once on the workers and kept there. At every point
L-BFGS asks for, the driver sends the flat weight vector once to each worker; each worker
computes the loss and gradient of each of its blocks at those weights
(`chainrule.train.lbfgs.partition_loss`) and sends back one gradient per block; the driver
combines them in block order (`chainrule.train.lbfgs.combine`) and takes SciPy's L-BFGS-B step
(`chainrule.train.lbfgs.minimize`). The objective is the single-process one, so the result
equals ``fit(optimizer=LBFGS(...))`` on the same rows to rounding (summation order).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np

from chainrule.nn.losses import Loss
from chainrule.nn.output import OutputBlock
from chainrule.train.history import History
from chainrule.train.lbfgs import LBFGS, FlatParams, Partial, check_layers, combine, partition_loss, run_lbfgs
from chainrule.train.stream import block_source, converted

Array = np.ndarray
Block = tuple[Any, tuple[Array, Array, "Array | None"]]


def checked_block(net: Any, loss: Loss, X: Any, y: Any, weights: Any) -> Block:
    """On a worker: one block as the checked arrays `fit` would make of it, with its own network.

    The network's structure (its layers and their work arrays) is kept beside the block, on the
    block's worker, so an evaluation needs nothing but the weights sent to it: a structure
    broadcast once would be reduced to one replica by Dask's memory manager between
    evaluations, and then travel.
    """
    own = copy.deepcopy(net)  # in-process workers get the driver's object itself: never share it
    return own, converted(own, loss, (X, y, weights))


def block_loss(block: Block, loss: Loss, w: Array) -> Partial:
    """On a worker: the loss, flat gradient and weight of one block at the weights ``w``."""
    net, arrays = block
    flat = FlatParams(net.slots())
    flat.set(w)
    output = OutputBlock(loss, net.output_activation)
    return partition_loss(net.layers, output, flat, *arrays)


class ClusterObjective:
    """The loss and gradient over blocks held by the workers, for `chainrule.train.lbfgs.minimize`.

    Attributes
    ----------
    calls : int
        Evaluations so far.
    seconds : float
        Wall time spent in evaluations (sending, computing, gathering, combining).
    bytes_per_call : int
        The payload of one evaluation: the weights once to each worker, and one gradient
        (with its loss and weight) back from each block.
    """

    def __init__(self, client: Any, net: Any, loss: Loss, blocks: list[Any]) -> None:
        self.client, self.loss, self.blocks = client, loss, blocks
        self.workers = sorted(client.scheduler_info()["workers"])
        self.homes = {key: sorted(where)[0] for key, where in client.who_has(blocks).items()}
        self.calls, self.seconds = 0, 0.0
        size = FlatParams(net.slots()).size * 8
        self.bytes_per_call = size * len(set(self.homes.values())) + (size + 16) * len(blocks)

    def __call__(self, w: Array) -> tuple[float, Array]:
        began = time.perf_counter()
        w = np.ascontiguousarray(w)
        # one copy of the weights per worker, each its own key: copies of one broadcast key are
        # replicas, which Dask's memory manager may drop before the evaluations that need them run
        copies = {
            home: self.client.scatter(w, workers=[home], hash=False) for home in set(self.homes.values())
        }
        futures = [  # each evaluation where its block lives: work stealing would move the block
            self.client.submit(
                block_loss, block, loss=self.loss, w=copies[self.homes[block.key]], pure=False,
                workers=[self.homes[block.key]], allow_other_workers=False,
            )
            for block in self.blocks
        ]  # fmt: skip
        parts = self.client.gather(futures)
        result = combine(parts, self.loss.reduction == "sum")
        self.calls += 1
        self.seconds += time.perf_counter() - began
        return result


def fit_lbfgs(
    net: Any,
    X: Any,
    y: Any,
    *,
    client: Any = None,
    loss: str | Loss | None = None,
    max_iter: int = 200,
    tol: float = 1e-4,
    max_fun: int = 15000,
    l2: float = 0.0,
    sample_weight: Any = None,
) -> History:
    """Train ``net`` by full-batch L-BFGS with the loss and gradient computed on the workers.

    Parameters
    ----------
    net : Network
        Trained in place (on the driver); its copies on the workers only evaluate.
    X, y : dask.array.Array or dask.dataframe.DataFrame / Series
        The rows, in blocks (chunks of rows, or partitions); ``y`` with the same blocks.
    client : distributed.Client, optional
        Default: the current client (``distributed.get_client()``).
    loss : str or Loss, optional
        Default the network's own, as `fit` chooses it.
    max_iter, tol, max_fun, l2 : int, float, int, float
        L-BFGS's limits and L2 penalty, as `chainrule.LBFGS` takes them.
    sample_weight : dask collection, optional
        One weight per row, in the same blocks.

    Returns
    -------
    History
        One ``loss`` per iteration; ``history.result`` holds SciPy's outcome and the
        cluster's figures: ``workers``, ``blocks``, ``bytes_per_evaluation`` and
        ``seconds_per_evaluation``.

    Raises
    ------
    DivergenceError
        When the loss, a gradient or a weight becomes non-finite (the weights go back to the start).

    Examples
    --------
    Four blocks on an in-process cluster; ten iterations agree with a single-process L-BFGS
    fit to rounding (the blocks' sums are added in another order):

    >>> import numpy as np
    >>> import dask.array as da
    >>> import distributed
    >>> import chainrule as cr
    >>> from chainrule.dask import fit_lbfgs
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] * X[:, 1] > 0).astype(float)
    >>> def network():
    ...     return cr.Network([2, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)
    >>> net = network()
    >>> with distributed.Client(processes=False, n_workers=1, dashboard_address=":0") as client:
    ...     history = fit_lbfgs(net, da.from_array(X, chunks=50), da.from_array(y, chunks=50),
    ...                         client=client, max_iter=10)
    >>> history.result["blocks"], history.epochs
    (4, 10)
    >>> alone = network()
    >>> _ = alone.fit(X, y, optimizer=cr.LBFGS(), epochs=10)
    >>> bool(np.abs(net.predict(X) - alone.predict(X)).max() < 1e-10)
    True
    """
    import distributed

    settings = LBFGS(max_iter=max_iter, tol=tol, max_fun=max_fun, l2=l2)
    check_layers(net.layers)
    loss_fn = net.resolve_loss(loss)
    client = client if client is not None else distributed.get_client()
    source = block_source(X, y, sample_weight)
    weights = source.w_blocks or [None] * len(source)
    import dask

    tasks = [
        dask.delayed(checked_block)(net, loss_fn, xb, yb, wb)
        for xb, yb, wb in zip(source.X_blocks, source.y_blocks, weights, strict=True)
    ]
    blocks = client.compute(tasks)  # computed on the workers, and kept there
    distributed.wait(blocks)
    objective = ClusterObjective(client, net, loss_fn, blocks)
    flat = FlatParams(net.slots())
    history = run_lbfgs(net, loss_fn, objective, flat, settings, max_iter)()
    if history.result is not None:
        history.result.update(
            workers=len(objective.workers),
            blocks=len(blocks),
            bytes_per_evaluation=objective.bytes_per_call,
            seconds_per_evaluation=objective.seconds / max(objective.calls, 1),
        )
    return history
