"""Tables larger than memory: a glob (or folder) of CSV or Parquet files opened as one lazy Dask DataFrame.

Nothing is read here but the start of the first file (to find a CSV's delimiter); the blocks
(one per Parquet file or row group, one per ``block_size`` bytes of CSV) are read when training
asks for them, on the machine that computes them. Dask is imported only here.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from chainrule.errors import InputError
from chainrule.io.tables import detect_delimiter

PARQUET = (".parquet", ".pq")
CSV = (".csv", ".tsv", ".txt")
BLOCK_SIZE = "16MB"  # of CSV text per block: some tens of MB once parsed


def is_file_set(path: str) -> bool:
    """Whether ``path`` names files to read in blocks: a glob pattern, a folder, or Parquet."""
    return any(ch in path for ch in "*?[") or Path(path).is_dir() or Path(path).suffix.lower() in PARQUET


def matching_files(pattern: str) -> list[str]:
    """The files a glob pattern (or a folder: every file in it) names, sorted; `InputError` for none."""
    folder = Path(pattern)
    files = sorted(str(p) for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    files = files or sorted(p for p in glob.glob(pattern) if Path(p).is_file())
    if not files:
        raise InputError(f"no files match {pattern!r}: give a glob such as 'data/*.parquet' or a folder")
    kinds = {Path(f).suffix.lower() in PARQUET for f in files}
    unknown = [f for f in files if Path(f).suffix.lower() not in (*PARQUET, *CSV)]
    if len(kinds) > 1 or unknown:
        odd = unknown[:3] or files[:3]
        raise InputError(
            f"{pattern!r} matches files of different kinds ({', '.join(odd)}, ...): give a pattern "
            "that matches only Parquet (.parquet) or only CSV (.csv, .tsv, .txt) files"
        )
    return files


def open_blocks(pattern: str, block_size: str | int = BLOCK_SIZE) -> tuple[Any, str]:
    """The files ``pattern`` names as one Dask DataFrame, and a line describing them.

    Parameters
    ----------
    pattern : str
        A glob such as ``"data/*.parquet"`` or ``"logs/2025-*.csv"``, or a folder.
    block_size : str or int
        Bytes of CSV per block (``"16MB"``); Parquet files are read a file (or row group) a block.

    Raises
    ------
    InputError
        When nothing matches, the files mix kinds, or Dask is not installed.
    """
    files = matching_files(pattern)
    try:
        import dask.dataframe as dd
    except ImportError:
        raise InputError(f'reading {pattern!r} in blocks needs Dask: pip install "chainrule[dask]"') from None
    if Path(files[0]).suffix.lower() in PARQUET:
        frame = dd.read_parquet(files)
        kind = "Parquet"
    else:
        with open(files[0], encoding="utf-8-sig", errors="replace") as first:
            delimiter = detect_delimiter(first.read(65536))
        frame = dd.read_csv(files, sep=delimiter, blocksize=block_size, assume_missing=True)
        kind = f"CSV (delimiter {delimiter!r})"
    count = f"{len(files)} file" + ("s" if len(files) > 1 else "")
    return frame, f"{count}, {frame.npartitions} blocks, {len(frame.columns)} columns, {kind}, read in blocks"
