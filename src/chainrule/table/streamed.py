"""A table read in blocks (a Dask DataFrame): preprocessed and trained on without holding it whole.

`train_table` given a Dask DataFrame (``chainrule train 'data/*.parquet'`` opens the files as one)
makes two kinds of pass over its blocks, on whichever machines hold them:

1. one pass summarises every block (`chainrule.io.summary.TableSummary`: column moments,
   categories, the target's labels) and merges the summaries; `TablePreprocessor.from_summary`
   builds the preprocessing from it, the code `TablePreprocessor.fit` uses for a table in memory;
2. every epoch streams the blocks, preprocessed one at a time, into `Network.fit`
   (`chainrule.train.stream`: blocks in a seeded order, rows shuffled within each), and a last
   pass adds up each block's metrics.

The columns are chosen (identifiers left out) on the first block; missing cells may only be
refused or dropped (filling needs the whole table's values), and no rows are held out for
validation: stopping is on the training loss. One block gives the in-memory model exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.errors import InputError
from chainrule.io.cleaning import UNKNOWN
from chainrule.io.preprocessing import TablePreprocessor, check_features
from chainrule.io.summary import TableSummary
from chainrule.table.columns import choose_columns
from chainrule.table.data import TableData
from chainrule.table.model import add_sums, metric_sums, metrics_from_sums
from chainrule.table.record import OutputRecorder

if TYPE_CHECKING:
    from chainrule.table.model import TableModel

STREAMED_MISSING = ("refuse", "drop")


@dataclass
class Blocks:
    """A Dask DataFrame after the missing-cell policy, its row count, and its first block in memory."""

    frame: Any
    rows: int
    sample: Any


def drop_missing(part: Any, columns: list[str], missing: str) -> Any:
    """One block's rows, less those missing a cell of ``columns`` when ``missing="drop"``."""
    return part.dropna(subset=columns) if missing == "drop" else part


def streamed_prepare(
    frame: Any,
    target: str,
    features: Sequence[str] | None,
    drop: Sequence[str],
    keep_ids: bool,
    categorical: Sequence[str],
    missing: str,
    unknown: str,
    task: str | None,
    scale: str,
    target_scale: str,
    say: Callable[[str], Any],
) -> tuple[TablePreprocessor, Blocks, str]:
    """`prepare_table` for a Dask DataFrame: the preprocessing from one pass over its blocks."""
    if missing not in STREAMED_MISSING:
        raise InputError(
            f"missing={missing!r} fills cells with the whole table's values, which a table read in "
            "blocks does not hold; choose --missing refuse or --missing drop (or fill the files first)"
        )
    if unknown not in UNKNOWN:
        raise InputError(f"unknown must be one of: {', '.join(UNKNOWN)}; got {unknown!r}")
    columns = [str(c) for c in frame.columns]
    check_features(columns, target, None, None)
    first = frame.get_partition(0).compute()
    chosen, notes = choose_columns(
        first, target, features=features, drop=drop, categorical=categorical, keep_ids=keep_ids
    )
    for note in notes:
        say(note + " (judged on the first block)")
    chosen = check_features(columns, target, chosen, list(categorical))
    cleaned = frame.map_partitions(drop_missing, [*chosen, target], missing)
    summary = summarize(cleaned, target, chosen, sorted(set(categorical)))
    if summary.rows == 0:
        raise InputError("every row has a missing cell: nothing is left to train on")
    reason = "given by --task"
    if task is None:
        task, reason = summary.task_reason()
    prep = TablePreprocessor.from_summary(summary, task=task, scale=scale, target_scale=target_scale)
    prep.missing, prep.unknown = missing, unknown
    sample = drop_missing(first, [*chosen, target], missing)
    return (
        prep,
        Blocks(cleaned, summary.rows, sample if len(sample) else cleaned.head(4, npartitions=-1)),
        reason,
    )


def summarize(frame: Any, target: str, features: list[str], categorical: list[str]) -> TableSummary:
    """The merged `TableSummary` of every block, each summarised where it is read."""
    import dask

    parts = [dask.delayed(TableSummary.of)(p, target, features, categorical) for p in frame.to_delayed()]
    try:
        return tree_reduce(TableSummary.merge, parts).compute()
    except ValueError as exc:
        if "Mismatched dtypes" not in str(exc):
            raise
        text = " ".join(str(exc).split())
        detail = text.split("exceptions on conversion:")[-1].split("Usually this")[0].strip(" -")
        raise InputError(
            "a column holds numbers in the first block of the files and text in another, so the "
            f"files cannot be read in blocks (column {detail[:300]}); fix those cells so that each "
            "column has one type"
        ) from None


def streamed_data(
    prep: TablePreprocessor,
    blocks: Blocks,
    validation_split: float | str,
    rng: Any,
    say: Callable[[str], Any],
) -> TableData:
    """`memory_data` for blocks: lazy preprocessed Dask arrays, read one block at a time by `fit`."""
    import dask
    import dask.array as da

    del rng
    if validation_split != "auto" and float(validation_split) > 0:
        raise InputError(
            "validation_split holds rows out of a table in memory; a table read in blocks trains on "
            "every row (stopping on the training loss): pass --validation-split 0 or auto"
        )
    say(f"validation: none: a table read in blocks trains on all {blocks.rows} rows")
    parts = blocks.frame.to_delayed()
    width = len(prep.feature_names)
    X = da.concatenate(
        [da.from_delayed(dask.delayed(prep.transform)(p), (np.nan, width), float) for p in parts]
    )
    y = da.concatenate(
        [
            da.from_delayed(dask.delayed(prep.encode_target)(p[prep.target]), (np.nan, prep.n_outputs), float)
            for p in parts
        ]
    )
    recorder = OutputRecorder(prep, blocks.sample, np.arange(len(blocks.sample)))
    splits = {"train": lambda model: streamed_metrics(model, parts)}
    unsplit = "a table read in blocks holds no rows out"
    return TableData(X, y, None, blocks.rows, blocks.rows, 0, recorder, splits, unsplit)


def streamed_metrics(model: TableModel, parts: list[Any]) -> dict[str, Any]:
    """`TableModel.evaluate`'s metrics over blocks: each block's sums, added up."""
    import dask

    sums = [dask.delayed(metric_sums)(model.preprocessor, model.network, p) for p in parts]
    return metrics_from_sums(tree_reduce(add_sums, sums).compute())


def tree_reduce(merge: Callable[[Any, Any], Any], parts: list[Any]) -> Any:
    """``merge`` over delayed ``parts`` in pairs, level by level: each block's result is merged (and
    freed) as soon as its neighbour's is done, and only the last one travels to the caller."""
    import dask

    while len(parts) > 1:
        pairs = [dask.delayed(merge)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = pairs + parts[len(pairs) * 2 :]
    return parts[0]
