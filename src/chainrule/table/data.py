"""The training data of a prepared table: arrays (or Dask arrays), held-out rows, and how to score it.

`memory_data` splits a table in memory (stratified for classification); the streamed
counterpart is `chainrule.table.streamed.streamed_data`. `train_table` trains on either alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.io.preprocessing import TablePreprocessor
from chainrule.table.record import OutputRecorder
from chainrule.table.stopping import validation_share
from chainrule.train.batches import split_indices

if TYPE_CHECKING:
    from chainrule.table.model import TableModel


@dataclass
class TableData:
    """A prepared table's training arrays (or Dask collections), its held-out rows and its metrics.

    Attributes
    ----------
    X, y : ndarray or Dask array
        The training rows, preprocessed.
    validation : (ndarray, ndarray) or None
    rows, train_rows, validation_rows : int
        Rows in the table (after the missing-cell policy), trained on, and held out.
    recorder : OutputRecorder
    splits : dict of str to callable
        ``"train"`` (and ``"validation"``): the metrics of a trained `TableModel` on those rows.
    unsplit : str, optional
        Why no rows can be held out, when that is not the table's size.
    """

    X: Any
    y: Any
    validation: tuple[Any, Any] | None
    rows: int
    train_rows: int
    validation_rows: int
    recorder: OutputRecorder
    splits: dict[str, Callable[[TableModel], dict[str, Any]]]
    unsplit: str | None = None


def memory_data(
    prep: TablePreprocessor, frame: Any, validation_split: float | str, rng: Any, say: Callable[[str], Any]
) -> TableData:
    """The arrays of a table in memory, split (stratified for classification) by ``rng``."""
    del say
    X, y = prep.transform(frame), prep.encode_target(frame[prep.target])
    train_rows, val_rows = np.arange(len(frame)), None
    share = validation_share(validation_split, len(frame))
    if share:
        train_rows, val_rows = split_indices(y, share, prep.task == "classification", rng)
    splits = {"train": lambda model: model.evaluate(frame.iloc[train_rows])}
    if val_rows is not None:
        splits["validation"] = lambda model: model.evaluate(frame.iloc[val_rows])
    return TableData(
        X[train_rows],
        y[train_rows],
        None if val_rows is None else (X[val_rows], y[val_rows]),
        len(frame),
        len(train_rows),
        0 if val_rows is None else len(val_rows),
        OutputRecorder(prep, frame, train_rows),
        splits,
    )
