"""Reading tables as a new user's files come: a CSV with any common delimiter (or the arrays of a
``.npz``/``.npy``), recognised by content, not name, with rows numbered as an editor shows them.

The command line and the playground read data through here, so both read a file the same way.
`sniff` says what a file holds from its first bytes, so a PNG renamed ``.csv`` or a model given
where a table goes is named for what it is. pandas comes with ``pip install "chainrule[cli]"``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import InputError

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+(,\d+)?\s*$")
#: A number with a comma in it: "1,5" (decimal comma) or "1,234" / "1,234.5" (thousands).
COMMA_NUMBER = re.compile(r"^\s*[-+]?(\d+,\d+|\d{1,3}(,\d{3})+(\.\d*)?)\s*$")
TABLES = "chainrule reads CSV text, .npz with arrays X and y, or .npy"
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"PAR1", "a Parquet file (save it as CSV)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0", "an old-style Microsoft Office file (save it as CSV)"),
    (b"\x93NUMPY", "a NumPy .npy array"),
)


class TableWarning(UserWarning):
    """Something reading a table did that the user should know about (an encoding guessed)."""


def pandas_module() -> Any:
    """The pandas module, or an `InputError` naming the install command."""
    try:
        import pandas as pd
    except ImportError:
        raise InputError('reading tables needs pandas: pip install "chainrule[cli]"') from None
    return pd


@dataclass(frozen=True)
class FileKind:
    """What a file holds: ``kind`` is ``model``, ``npz``, ``npy``, ``text`` or ``other``."""

    kind: str
    description: str


def sniff(path: str | os.PathLike[str]) -> FileKind:
    """Say what ``path`` holds from its first bytes (and, for a ZIP, its member names).

    Parameters
    ----------
    path : str or path-like
        An existing file.

    Returns
    -------
    FileKind
        The kind and a description such as ``"a PNG image"`` or ``"a CSV table"``.
    """
    with open(path, "rb") as stream:
        head = stream.read(8192)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path)
    for magic, description in MAGIC:
        if head.startswith(magic):
            return FileKind("npy" if magic == b"\x93NUMPY" else "other", description)
    if not head:
        return FileKind("text", "an empty file")
    if _utf16(head):
        return FileKind("other", 'UTF-16 text, not UTF-8 (save it as UTF-8: in Excel, "CSV UTF-8")')
    if b"\x00" in head:
        return FileKind("other", "a binary file, not text")
    return FileKind("text", "a CSV table" if _looks_tabular(head) else "a text file")


def _sniff_zip(path: str | os.PathLike[str]) -> FileKind:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return FileKind("other", "a damaged or truncated ZIP archive")
    if "__header__.npy" in names:
        return FileKind("model", "a chainrule model")
    if names and all(name.endswith(".npy") for name in names):
        arrays = ", ".join(name[:-4] for name in names[:6])
        return FileKind("npz", f"a NumPy .npz archive (arrays {arrays})")
    if any(name.startswith("xl/") for name in names):
        return FileKind("other", "an Excel workbook (save it as CSV)")
    if any(name.startswith("word/") for name in names):
        return FileKind("other", "a Word document")
    return FileKind("other", "a ZIP archive")


def _utf16(head: bytes) -> bool:
    """UTF-16 text: a byte-order mark, or ASCII characters each followed (or preceded) by a zero."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    for zeros, chars in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        text = all(32 <= c < 127 or c in (9, 10, 13) for c in chars)
        if len(zeros) >= 4 and zeros.count(0) > 0.9 * len(zeros) and text:
            return True
    return False


def _looks_tabular(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0]
    return any(sep in first for sep in (b",", b";", b"\t", b"|"))


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
    pd = pandas_module()
    file = Path(path)
    if not file.is_file():
        raise InputError(f"no such data file: {path}" + (" (it is a folder)" if file.is_dir() else ""))
    kind = sniff(file)
    if kind.kind == "model":
        raise InputError(
            f"{path} is a chainrule model, not a data table" + (f"; usage: {usage}" if usage else "")
        )
    if kind.kind == "other":
        raise InputError(f"{path} is {kind.description}, not a data table; {TABLES}")
    try:
        if kind.kind in ("npy", "npz"):
            frame = _read_arrays(file, kind.kind, pd)
        else:
            frame = _read_csv(file, pd)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    if frame.empty:
        raise InputError(f"{path} has no data rows")
    return frame


def _read_arrays(file: Path, kind: str, pd: Any) -> Any:
    if kind == "npy":
        array = _rows(_load_npy(file), file, "the array", "np.save(path, x.reshape(1, -1))")
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    else:
        with np.load(file, allow_pickle=False) as archive:
            if "X" not in archive.files:
                raise InputError(f"{file} has no array named X (found: {', '.join(archive.files)})")
            X = _rows(archive["X"], file, "X", "np.savez(path, X=X.reshape(1, -1), y=...)")
            frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
            if "y" in archive.files:
                frame["y"] = _rows(archive["y"], file, "y", "np.savez(path, X=X, y=y.reshape(-1))")[:, 0]
    frame.attrs["format"] = f"NumPy .{kind}"
    return frame


def _rows(array: np.ndarray, file: Path, name: str, fix: str) -> np.ndarray:
    """``array`` as rows (2-D: one per sample); a single number (0-d) is refused, naming the fix."""
    if array.ndim == 0:
        raise InputError(
            f"{file}: {name} is a single number (a 0-d array), not rows of a table: save it with "
            f"one row per sample, e.g. reshape it: {fix}"
        )
    return array.reshape(len(array), -1)


def _load_npy(file: Path) -> np.ndarray:
    """``np.load`` of a ``.npy``, once its size is checked against its header: a truncated file
    would otherwise ask for all the memory its header declares (and fail as "out of memory")."""
    with open(file, "rb") as stream:
        version = np.lib.format.read_magic(stream)
        read = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read(stream)
        header = stream.tell()
    expected = math.prod(shape) * dtype.itemsize
    found = file.stat().st_size - header
    if not dtype.hasobject and found < expected:
        raise InputError(
            f"{file} is truncated or corrupt: its header declares a {'x'.join(map(str, shape)) or '0-d'} "
            f"{dtype} array ({expected} bytes of data after its {header}-byte header), but only {found} "
            "bytes follow; write the file again"
        )
    return np.load(file, allow_pickle=False)


def _read_csv(file: Path, pd: Any) -> Any:
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw.decode("cp1252", errors="replace")
        warnings.warn(
            f"{file} is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); "
            "read it as Windows-1252 (Latin-1): save it as UTF-8 to be sure of its accents",
            TableWarning,
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
        raise InputError(f"cannot parse {file} as {described} CSV: {' '.join(str(exc).split())}") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{file} is empty: it needs a header line and data rows") from None
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()][1:]
    if len(lines) == len(frame):
        frame.index = pd.Index(lines, name="line")
    if delimiter == ",":
        _refuse_comma_numbers(frame, pd)
    frame.attrs["format"] = described
    return frame


def _refuse_comma_numbers(frame: Any, pd: Any) -> None:
    """A column of quoted numbers with a comma in a comma-separated file ("1,5", "1,234": a decimal
    comma or a thousands separator) is refused naming the cells, rather than guessed or one-hot
    encoded (a few such cells among numbers are named by the preprocessing's own check)."""
    for column in frame.columns:
        values = frame[column].dropna()
        if pd.api.types.is_numeric_dtype(values) or values.empty:
            continue
        texts = values.astype(str)
        commas = texts[texts.str.match(COMMA_NUMBER)]
        if commas.size <= texts.size / 2 or not (
            commas.size == texts.size
            or pd.to_numeric(texts.drop(commas.index), errors="coerce").notna().all()
        ):
            continue
        where = "line" if frame.index.name == "line" else "row"
        cells = ", ".join(f"{where} {index} {value!r}" for index, value in commas[:10].items())
        more = f" and {commas.size - 10} more" if commas.size > 10 else ""
        raise InputError(
            f"column {column!r} holds numbers written with a comma ({cells}{more}); in a "
            'comma-separated file that is a decimal comma ("1,5") or a thousands separator ("1,234"), '
            "and chainrule will not guess which. Write them with a decimal point and no separator "
            '("1.5", "1234"), or save the file with ";" between columns to use decimal commas'
        )


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
