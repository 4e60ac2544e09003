"""Data that arrive block by block: Dask arrays and DataFrames streamed into `fit`, never whole.

A Dask collection given to `fit` is read one block (chunk of rows, or partition) at a time:
each epoch visits the blocks in an order drawn from the epoch's generator and shuffles the rows
within each block, cutting its batches there. Only the blocks being read are ever in memory, so
a collection larger than memory trains in a few blocks' worth. With one block, the epoch is
exactly the in-memory epoch (the same draws, the same batches, the same weights). Dask is
imported only when such a collection is given.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.errors import InputError, TrainingWarning
from chainrule.nn.inputs import check_lengths
from chainrule.train.batches import Batch, Converts, TrainingData, batches, checked_validation, sample_weights

if TYPE_CHECKING:
    from chainrule.nn.losses import Loss
    from chainrule.train.history import TrainingRun
    from chainrule.train.settings import FitSettings

Array = np.ndarray


def is_streamed(data: Any) -> bool:
    """Whether ``data`` is a Dask collection (array, DataFrame or Series), read block by block."""
    return type(data).__module__.split(".")[0] == "dask" and hasattr(data, "to_delayed")


@dataclass
class BlockSource:
    """The blocks of ``X``, ``y`` and the sample weights, each read when asked for.

    Attributes
    ----------
    X_blocks, y_blocks : list of dask.delayed.Delayed
        Block ``i`` of the inputs and of the targets (the same rows).
    w_blocks : list of dask.delayed.Delayed or None
    rows : int or None
        The number of rows, when the collection knows it (arrays with known chunks).
    """

    X_blocks: list[Any]
    y_blocks: list[Any]
    w_blocks: list[Any] | None
    rows: int | None

    def __len__(self) -> int:
        return len(self.X_blocks)

    def load(self, index: int) -> tuple[Any, Any, Any]:
        """Block ``index`` of X, y and the weights, computed together (shared steps run once)."""
        import dask

        weights = None if self.w_blocks is None else self.w_blocks[index]
        return dask.compute(self.X_blocks[index], self.y_blocks[index], weights)

    def order(self, rng: np.random.Generator | None) -> Array:
        """The blocks' order for an epoch: drawn from ``rng`` (nothing is drawn for one block)."""
        if rng is None or len(self) == 1:
            return np.arange(len(self))
        return rng.permutation(len(self))


def _row_blocks(data: Any, row_chunks: tuple[int, ...] | None) -> tuple[list[Any], tuple[int, ...] | None]:
    """The row blocks of a Dask collection (or of an array split like ``row_chunks``)."""
    if not is_streamed(data):
        if row_chunks is None or any(np.isnan(row_chunks)):
            raise InputError("with a Dask DataFrame as X, give y (and sample_weight) as Dask collections too")
        import dask

        array = np.asarray(data)
        bounds = np.cumsum((0, *row_chunks))
        return [dask.delayed(array[a:b]) for a, b in itertools.pairwise(bounds)], row_chunks
    if hasattr(data, "chunks") and hasattr(data, "rechunk"):  # a Dask array: whole rows per block
        if row_chunks is not None and data.chunks[0] != row_chunks and not any(np.isnan(row_chunks)):
            data = data.rechunk({0: row_chunks})
        if data.ndim == 2:
            data = data.rechunk({1: -1})
        return list(np.ravel(data.to_delayed())), data.chunks[0]
    return list(data.to_delayed()), None


def block_source(X: Any, y: Any, sample_weight: Any = None) -> BlockSource:
    """Split Dask ``X`` (and ``y``, ``sample_weight``: Dask collections or arrays) into row blocks."""
    X_blocks, chunks = _row_blocks(X, None)
    y_blocks, _ = _row_blocks(y, chunks)
    w_blocks = None if sample_weight is None else _row_blocks(sample_weight, chunks)[0]
    for name, blocks in (("y", y_blocks), ("sample_weight", w_blocks)):
        if blocks is not None and len(blocks) != len(X_blocks):
            raise InputError(
                f"X has {len(X_blocks)} blocks but {name} has {len(blocks)}: give collections "
                "split into the same row blocks (e.g. columns of one DataFrame)"
            )
    rows = None if chunks is None or any(np.isnan(chunks)) else int(sum(chunks))
    return BlockSource(X_blocks, y_blocks, w_blocks, rows)


def converted(net: Converts, loss_fn: Loss, block: tuple[Any, Any, Any]) -> Batch:
    """One block's X, y and weights, checked as arrays given to `fit` are."""
    X, y = net.as_inputs(block[0]), net.as_targets(block[1])
    check_lengths(X, y)
    loss_fn.check_targets(y, whole=False)
    return X, y, None if block[2] is None else sample_weights(block[2], X.shape[0])


def stream_batches(
    net: Converts, loss_fn: Loss, source: BlockSource, batch_size: int | None, rng: np.random.Generator | None
) -> Iterator[Batch]:
    """One epoch: the blocks in ``rng``'s order, each cut into batches (rows shuffled by ``rng``).

    With ``batch_size=None`` each block is one batch.
    """
    for index in source.order(rng):
        block = source.load(int(index))
        if len(block[0]) == 0:  # a block with no rows (all dropped, say) has no batch to give
            continue
        X, y, weights = converted(net, loss_fn, block)
        yield from batches(X, y, batch_size, rng, weights)


def stream_data(
    net: Converts, X: Any, y: Any, loss_fn: Loss, settings: FitSettings, run: TrainingRun
) -> TrainingData:
    """`prepare_data` for a Dask collection: the blocks, read anew every epoch, one at a time."""
    del run  # no split: a held-out share of a stream is given as validation_data
    if settings.validation_split:
        raise ValueError(
            "validation_split needs arrays in memory; with a Dask collection pass validation_data"
        )
    if y is None:
        raise InputError("a Dask collection X needs its targets y")
    source = block_source(X, y, settings.sample_weight)
    if settings.batch_size is None and len(source) > 1:
        warnings.warn(
            f"batch_size=None with a Dask collection of {len(source)} blocks takes one step per "
            "block, not one full-batch step (that would hold every block at once); give a "
            "batch_size, or optimizer='lbfgs' for full-batch training over the blocks",
            TrainingWarning,
            stacklevel=4,
        )
    shuffles = settings.shuffle and (len(source) > 1 or settings.batch_size is not None)
    batch_size = settings.batch_size
    data = TrainingData(
        lambda rng: stream_batches(net, loss_fn, source, batch_size, rng), shuffles, None, source.rows
    )
    data.validation = checked_validation(net, loss_fn, settings.validation_data)
    return data
