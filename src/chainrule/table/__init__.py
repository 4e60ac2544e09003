"""Models of tables: a network with its preprocessing, trained from and predicting on raw rows.

`train_table` does what ``chainrule train`` does and returns a `TableModel`; `load` reads a
model file back as a `TableModel` when it stores preprocessing (else as a `Network`), and
`save` writes either. The command line is a thin layer over these.
"""

from chainrule.table.model import TableModel, load, save, task_metrics
from chainrule.table.rows import as_frame
from chainrule.table.training import AUTO_BATCH, DEFAULTS, rows_per_batch, train_table, weight_decay

__all__ = [
    "AUTO_BATCH",
    "DEFAULTS",
    "TableModel",
    "as_frame",
    "load",
    "rows_per_batch",
    "save",
    "task_metrics",
    "train_table",
    "weight_decay",
]
