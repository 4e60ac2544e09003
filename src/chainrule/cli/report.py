"""What the commands report: task metrics in the data's own units, and the history CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.io.atomic import atomic_write
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.network import Network
from chainrule.nn.losses import class_indices
from chainrule.train.history import History


def task_metrics(prep: TablePreprocessor, net: Network, frame: Any) -> dict[str, Any]:
    """Accuracy, log loss and confusion matrix; or MSE, MAE and R^2 in the target's units."""
    outputs = net.predict(prep.transform(frame))
    truth = frame[prep.target]
    if prep.task == "classification":
        encoded = prep.encode_target(truth)
        labels = [prep.classes[i] for i in class_indices(encoded)]
        predicted = list(prep.decode(outputs))
        proba = np.clip(prep.probabilities(outputs), 1e-15, 1.0)
        index = {c: i for i, c in enumerate(prep.classes)}
        confusion = np.zeros((len(prep.classes), len(prep.classes)), dtype=int)
        for t, p in zip(labels, predicted, strict=True):
            confusion[index[t], index[p]] += 1
        log_loss = -float(np.mean(np.log(proba[np.arange(len(labels)), [index[t] for t in labels]])))
        return {
            "accuracy": float(np.trace(confusion) / len(labels)),
            "log_loss": log_loss,
            "confusion": confusion,
        }
    y = truth.to_numpy(dtype=float)
    predicted = prep.decode(outputs)
    residual = y - predicted
    total = float(np.sum((y - y.mean()) ** 2))
    return {
        "mse": float(np.mean(residual**2)),
        "mae": float(np.mean(np.abs(residual))),
        "r2": 1.0 - float(np.sum(residual**2)) / total if total > 0 else float("nan"),
    }


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
