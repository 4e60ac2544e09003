"""What the commands read: tables, model files and their stored preprocessing, option lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chainrule.errors import ChainruleError
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.io.tables import read_table
from chainrule.network import Network, load

__all__ = ["CommandError", "load_model", "pandas", "read_table", "split_list", "stored_preprocessing"]

CLI_EXTRA = 'pip install "chainrule[cli]"'


class CommandError(ChainruleError):
    """A problem with the command line's arguments or files, reported as one line."""


def pandas() -> Any:
    """The pandas module, or a `CommandError` saying how to install it."""
    try:
        import pandas as pd
    except ImportError:
        raise CommandError(f"reading tables needs pandas: {CLI_EXTRA}") from None
    return pd


def stored_preprocessing(net: Network, model_path: str) -> TablePreprocessor:
    """The preprocessing `chainrule train` stored in the model, or a `CommandError`."""
    data = net.metadata.get("preprocessing")
    if data is None:
        raise CommandError(
            f"{model_path} has no stored preprocessing (it was not trained by `chainrule train`); "
            "use the Python API (chainrule.load(path).predict(X)) with inputs prepared as in training"
        )
    return TablePreprocessor.from_dict(data)


def load_model(path: str) -> Network:
    """The network in ``path``, or a `CommandError` if there is no such file."""
    if not Path(path).is_file():
        raise CommandError(f"no such model file: {path}")
    return load(path)


def split_list(text: str | None, what: str) -> list[str]:
    """The items of a comma-separated option; an empty list for none."""
    if not text:
        return []
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise CommandError(f"{what} must be a comma-separated list, got {text!r}")
    return items
