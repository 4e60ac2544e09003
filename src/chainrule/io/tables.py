"""Reading tables: a CSV, or the arrays of a ``.npz``/``.npy`` file, as a pandas DataFrame.

The command line and the playground read data through here, so both read a file the same way.
pandas comes with ``pip install "chainrule[cli]"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import InputError


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise InputError('reading tables needs pandas: pip install "chainrule[cli]"') from None
    return pd


def read_table(path: str) -> Any:
    """A DataFrame from ``.csv``, or from ``.npz`` (arrays ``X`` and ``y``) or ``.npy``.

    Columns of NumPy arrays are named ``x0, x1, ...``; the ``y`` of an ``.npz`` is ``y``.
    """
    pd = _pandas()
    file = Path(path)
    if not file.is_file():
        raise InputError(f"no such data file: {path}")
    suffix = file.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(file, allow_pickle=False)
            array = array.reshape(len(array), -1)
            return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        if suffix == ".npz":
            with np.load(file, allow_pickle=False) as archive:
                if "X" not in archive.files:
                    raise InputError(f"{path} has no array named X (found: {', '.join(archive.files)})")
                X = archive["X"]
                X = X.reshape(len(X), -1)
                frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
                if "y" in archive.files:
                    frame["y"] = archive["y"]
                return frame
        frame = pd.read_csv(file)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"cannot parse {path} as CSV: {exc}") from None
    if frame.empty:
        raise InputError(f"{path} has no data rows")
    return frame
