"""What `train_table` says and stores about a run: the lines it prints and the ``training`` summary."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np

from chainrule.io.preprocessing import TablePreprocessor
from chainrule.network import Network
from chainrule.table.record import OutputRecorder
from chainrule.train.callbacks import Callback
from chainrule.train.history import History
from chainrule.train.optimizers import Optimizer


def describe(
    prep: TablePreprocessor,
    net: Network,
    loss: str,
    reason: str,
    activation: str,
    scale: str,
    target_scale: str,
) -> list[str]:
    """What is about to be trained, in the lines ``chainrule train`` prints."""
    described = (
        f"classification, {len(prep.classes)} classes ({', '.join(prep.classes)})"
        if prep.task == "classification"
        else f"regression (target scaled: {target_scale})"
    )
    output = net.output_activation.name
    return [
        f"task: {described}: {reason}; override with --task",
        f"inputs: {len(prep.feature_names)} columns ({input_list(prep)}), scaled: {scale}",
        f"network: {'-'.join(map(str, net.sizes))}, {activation} hidden, {output} output, loss {loss}",
    ]


def input_list(prep: TablePreprocessor) -> str:
    """The network's inputs in words: every one, or per categorical column its count of one-hots."""
    if len(prep.feature_names) <= 12:
        return ", ".join(prep.feature_names)
    cats = [f"{column} one-hot x{len(values)}" for column, values in prep.categorical.items()]
    return ", ".join([*prep.numeric, *cats])


def summary(
    history: History,
    optimizer: Optimizer,
    rows: int,
    metrics: dict[str, dict[str, Any]],
    recorder: OutputRecorder,
    stopper: Callback | None,
) -> dict[str, Any]:
    """The ``training`` entry of the model's metadata (``chainrule info`` prints it), JSON-safe."""
    restored = getattr(stopper, "best_epoch", None)
    return json_safe(
        {
            "rows": rows,
            "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "epochs_run": history.epochs,
            "optimizer": optimizer.config(),
            "final": {k: float(v[-1]) for k, v in history.history.items() if len(v)},
            "metrics": {
                split: {k: v for k, v in m.items() if k != "confusion"} for split, m in metrics.items()
            },
            "trajectory": recorder.trajectory(),
            "early_stopping": getattr(stopper, "patience", None),
            "interrupted": bool(getattr(history, "interrupted", False)),
            "stopped_early": getattr(stopper, "stopped_epoch", None) is not None,
            "restored_epoch": None if restored is None else restored + 1,
        }
    )


def json_safe(value: Any) -> Any:
    """``value`` with NumPy numbers as Python ones and NaN or infinite floats as None (JSON null)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
