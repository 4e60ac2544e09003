"""Progress of `chainrule train`: a tqdm bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import Any

from chainrule.train.callbacks import Callback, ProgressLogger


class ProgressBar(Callback):
    """A tqdm bar with the current loss on a terminal; plain progress lines otherwise."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.bar: Any = None
        self.lines: Callback | None = None

    def on_train_begin(self) -> None:
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None and sys.stderr.isatty():
            self.bar = tqdm(total=self.epochs, unit="epoch", file=sys.stderr, leave=False)
        else:
            self.lines = ProgressLogger(self.epochs, every=max(1, self.epochs // 10))
            self.lines.on_train_begin()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k in ("loss", "val_loss")})
        elif self.lines is not None:
            self.lines.on_epoch_end(epoch, logs)

    def on_train_end(self, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.close()
