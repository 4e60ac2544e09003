"""What `train_table` (so `chainrule train` too) records while it trains: a few rows' outputs.

The outputs of up to four training rows, epoch by epoch, are stored in the model's header
(``metadata["training"]["trajectory"]``), so ``chainrule plot steps MODEL`` can draw that
model's outputs over training, as seed 000 draws its test output against the steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.io.preprocessing import TablePreprocessor, row_label
from chainrule.nn.losses import class_indices
from chainrule.train.callbacks import Callback

MAX_POINTS = 400  # epochs kept in the stored trajectory (evenly spread, the last always kept)
PROBES = 4


class OutputRecorder(Callback):
    """Count completed epochs and record the outputs of a few probe rows after each.

    For classification the recorded output is the probability of the row's true class; for
    regression the prediction in the target's units.
    """

    def __init__(self, prep: TablePreprocessor, frame: Any, rows: np.ndarray) -> None:
        self.prep = prep
        picks = probe_rows(prep, frame, rows)
        probe = frame.iloc[picks]
        self.inputs = prep.transform(probe)
        self.labels = [row_label(frame.index, int(i)) for i in picks]
        truth = probe[prep.target]
        if prep.task == "classification":
            self.truth = [str(v) for v in prep.decode(prep.encode_target(truth))]
            self.columns = class_indices(prep.encode_target(truth))
        else:
            self.truth = [float(v) for v in truth]
            self.columns = np.zeros(len(picks), dtype=int)
        self.epochs: list[int] = []
        self.outputs: list[list[float]] = []

    @property
    def completed(self) -> int:
        """Epochs completed so far."""
        return len(self.epochs) - 1 if self.epochs else 0

    def record(self, epoch: int) -> None:
        """Store the probe rows' outputs after ``epoch`` epochs (0: the initial weights)."""
        out = self.network.predict(self.inputs)
        if self.prep.task == "classification":
            values = self.prep.probabilities(out)[np.arange(len(self.columns)), self.columns]
        else:
            values = self.prep.decode(out)
        self.epochs.append(epoch)
        self.outputs.append([float(v) for v in values])

    def on_train_begin(self) -> None:
        self.epochs, self.outputs = [], []
        self.record(0)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.record(epoch + 1)

    def trajectory(self) -> dict[str, Any]:
        """The JSON-ready record for the model header, thinned to at most `MAX_POINTS` epochs."""
        keep = np.unique(np.linspace(0, len(self.epochs) - 1, min(MAX_POINTS, len(self.epochs))).astype(int))
        kind = "probability of the true class" if self.prep.task == "classification" else "prediction"
        return {
            "output": kind,
            "rows": self.labels,
            "truth": self.truth,
            "epochs": [self.epochs[i] for i in keep],
            "outputs": [[self.outputs[i][j] for i in keep] for j in range(len(self.labels))],
        }


def probe_rows(prep: TablePreprocessor, frame: Any, rows: np.ndarray) -> list[int]:
    """Up to four training rows: one per class (classification) or spread over the target's range."""
    if prep.task == "classification":
        codes = class_indices(prep.encode_target(frame[prep.target].iloc[rows]))
        firsts = [int(rows[np.flatnonzero(codes == c)[0]]) for c in np.unique(codes)]
        return firsts[:PROBES]
    target = frame[prep.target].iloc[rows].to_numpy(dtype=float)
    order = np.argsort(target, kind="stable")
    spots = np.unique(np.linspace(0, len(order) - 1, min(PROBES, len(order))).astype(int))
    return [int(rows[order[i]]) for i in spots]
