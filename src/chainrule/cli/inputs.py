"""What the commands read: tables, model files and their stored preprocessing, option lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.network import Network, load

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


def read_table(path: str) -> Any:
    """A DataFrame from ``.csv``, or from ``.npz`` (arrays ``X`` and ``y``) or ``.npy``.

    Columns of NumPy arrays are named ``x0, x1, ...``; the ``y`` of an ``.npz`` is ``y``.
    """
    pd = pandas()
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no such data file: {path}")
    suffix = file.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(file, allow_pickle=False)
            array = array.reshape(len(array), -1)
            return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        if suffix == ".npz":
            with np.load(file, allow_pickle=False) as archive:
                if "X" not in archive.files:
                    raise CommandError(f"{path} has no array named X (found: {', '.join(archive.files)})")
                X = archive["X"]
                X = X.reshape(len(X), -1)
                frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
                if "y" in archive.files:
                    frame["y"] = archive["y"]
                return frame
        frame = pd.read_csv(file)
    except (ValueError, OSError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    except pd.errors.ParserError as exc:
        raise CommandError(f"cannot parse {path} as CSV: {exc}") from None
    if frame.empty:
        raise CommandError(f"{path} has no data rows")
    return frame


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
