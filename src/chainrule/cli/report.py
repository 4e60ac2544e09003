"""What the commands print and write: metrics as text (`chainrule.TableModel.evaluate` computes
them), and the history CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.io.atomic import atomic_write
from chainrule.train.history import History


def format_metrics(metrics: dict[str, Any], classes: Sequence[str] = ()) -> str:
    """The metrics as lines of text, with the confusion matrix as a table."""
    lines = [f"{name}: {value:.6g}" for name, value in metrics.items() if name != "confusion"]
    if "confusion" in metrics:
        width = max(8, *(len(c) + 2 for c in classes))
        lines.append("confusion matrix (rows: true class, columns: predicted):")
        lines.append(" " * width + "".join(f"{c:>{width}}" for c in classes))
        for c, row in zip(classes, metrics["confusion"], strict=True):
            lines.append(f"{c:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def write_history(history: History, path: str) -> None:
    """Write the per-epoch history as CSV, epochs counted from 1."""
    columns = list(history.history)
    with atomic_write(path, "w", newline="") as stream:
        stream.write(",".join(["epoch", *columns]) + "\n")
        for epoch in range(history.epochs):
            stream.write(
                ",".join([str(epoch + 1), *(repr(float(history[c][epoch])) for c in columns)]) + "\n"
            )
