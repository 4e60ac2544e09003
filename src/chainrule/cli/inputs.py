"""What the commands read: tables, model files and their stored preprocessing, option lists.

Files are recognised by their content (`chainrule.cli.files.sniff`), not their names. A CSV's
delimiter is detected and reported; rows keep the editor's line numbers (the header is line 1)
as the frame's index, named ``"line"``, so every error about a cell names the line to fix.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.cli.files import CommandError, sniff
from chainrule.errors import ModelFileError
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.network import Network, load

__all__ = ["CommandError", "load_model", "pandas", "read_table", "split_list", "stored_preprocessing"]

CLI_EXTRA = 'pip install "chainrule[cli]"'
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+(,\d+)?\s*$")
TABLES = "chainrule reads CSV text, .npz with arrays X and y, or .npy"


class CLIWarning(UserWarning):
    """Something the command did that the user should know about (printed as one line)."""


def pandas() -> Any:
    """The pandas module, or a `CommandError` saying how to install it."""
    try:
        import pandas as pd
    except ImportError:
        raise CommandError(f"reading tables needs pandas: {CLI_EXTRA}") from None
    return pd


def read_table(path: str, usage: str = "") -> Any:
    """A DataFrame from a CSV (any common delimiter), an ``.npz`` (arrays X and y) or an ``.npy``.

    Parameters
    ----------
    path : str
        The file; its kind is read from its first bytes, whatever its name.
    usage : str, optional
        The command's usage line, shown when ``path`` is a model rather than a table.

    Returns
    -------
    pandas.DataFrame
        Columns of NumPy arrays are named ``x0, x1, ...`` (the ``y`` of an ``.npz`` is ``y``).
        A CSV's index holds each row's line number in the file, and ``frame.attrs["format"]``
        says how it was read (``"comma-separated"``, ``"semicolon-separated, decimal comma"``).
    """
    pd = pandas()
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no such data file: {path}" + (" (it is a folder)" if file.is_dir() else ""))
    kind = sniff(file)
    if kind.kind == "model":
        raise CommandError(
            f"{path} is a chainrule model, not a data table" + (f"; usage: {usage}" if usage else "")
        )
    if kind.kind == "other":
        raise CommandError(f"{path} is {kind.description}, not a data table; {TABLES}")
    try:
        if kind.kind in ("npy", "npz"):
            frame = _read_arrays(file, kind.kind, pd)
        else:
            frame = _read_csv(file, pd)
    except (ValueError, OSError) as exc:
        raise CommandError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    if frame.empty:
        raise CommandError(f"{path} has no data rows")
    return frame


def _read_arrays(file: Path, kind: str, pd: Any) -> Any:
    if kind == "npy":
        array = np.load(file, allow_pickle=False)
        array = array.reshape(len(array), -1)
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    else:
        with np.load(file, allow_pickle=False) as archive:
            if "X" not in archive.files:
                raise CommandError(f"{file} has no array named X (found: {', '.join(archive.files)})")
            X = archive["X"]
            X = X.reshape(len(X), -1)
            frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
            if "y" in archive.files:
                frame["y"] = archive["y"]
    frame.attrs["format"] = f"NumPy .{kind}"
    return frame


def _read_csv(file: Path, pd: Any) -> Any:
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw.decode("cp1252", errors="replace")
        warnings.warn(
            f"{file} is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); "
            "read it as Windows-1252 (Latin-1): save it as UTF-8 to be sure of its accents",
            CLIWarning,
            stacklevel=2,
        )
    delimiter = detect_delimiter(text)
    options: dict[str, Any] = {"sep": delimiter}
    described = f"{DELIMITERS[delimiter]}-separated"
    try:
        frame = pd.read_csv(io.StringIO(text), **options)
        if delimiter != "," and _has_decimal_commas(frame, pd):
            frame = pd.read_csv(io.StringIO(text), decimal=",", **options)
            described += ", decimal comma"
    except pd.errors.ParserError as exc:
        raise CommandError(f"cannot parse {file} as {described} CSV: {' '.join(str(exc).split())}") from None
    except pd.errors.EmptyDataError:
        raise CommandError(f"{file} is empty: it needs a header line and data rows") from None
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()][1:]
    if len(lines) == len(frame):
        frame.index = pd.Index(lines, name="line")
    frame.attrs["format"] = described
    return frame


def detect_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon, tab or pipe) that splits the header and the first rows alike.

    Parameters
    ----------
    text : str
        The file's text.

    Returns
    -------
    str
        The delimiter; a comma when none splits the lines consistently (a one-column file).
    """
    sample = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_width = ",", 1
    for delimiter in DELIMITERS:
        widths = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        if len(widths) == 1 and (width := widths.pop()) > best_width:
            best, best_width = delimiter, width
    return best


def _has_decimal_commas(frame: Any, pd: Any) -> bool:
    for column in frame.columns:
        values = frame[column].dropna()
        if pd.api.types.is_numeric_dtype(values) or values.empty:
            continue
        texts = values.astype(str)
        if texts.str.contains(",").any() and texts.str.match(DECIMAL_COMMA).all():
            return True
    return False


def stored_preprocessing(net: Network, model_path: str) -> TablePreprocessor:
    """The preprocessing `chainrule train` stored in the model, or a `CommandError`."""
    data = net.metadata.get("preprocessing")
    if data is None:
        raise CommandError(
            f"{model_path} has no stored preprocessing (it was not trained by `chainrule train`); "
            "use the Python API (chainrule.load(path).predict(X)) with inputs prepared as in training"
        )
    try:
        return TablePreprocessor.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CommandError(
            f"{model_path}: its stored preprocessing is damaged ({type(exc).__name__}: {exc}); "
            "retrain the model with chainrule train"
        ) from None


def load_model(path: str, usage: str = "") -> Network:
    """The network in ``path``; a `CommandError` naming what the file is if it is not a model.

    Parameters
    ----------
    path : str
        The model file.
    usage : str, optional
        The command's usage line, shown when ``path`` is not a model.
    """
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no such model file: {path}" + (" (it is a folder)" if file.is_dir() else ""))
    kind = sniff(file)
    if kind.kind != "model":
        raise CommandError(
            f"{path} is {kind.description}, not a chainrule model" + (f"; usage: {usage}" if usage else "")
        )
    try:
        return load(path)
    except ModelFileError as exc:
        if "pickle" in str(exc):  # never advise loading untrusted bytes with pickle
            raise CommandError(f"{path} is not a readable chainrule model file") from None
        raise


def split_list(text: str | None, what: str) -> list[str]:
    """The items of a comma-separated option; an empty list for none."""
    if not text:
        return []
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise CommandError(f"{what} must be a comma-separated list, got {text!r}")
    return items
