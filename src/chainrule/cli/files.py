"""What a file is (by its first bytes, not its name), and output paths checked before any work.

Every command that reads a model or a table looks at the file's content first, so a CSV given
where a model goes, or a PNG renamed ``.csv``, is named for what it is. Every command that
writes checks its output paths (folder, extension, collisions with its inputs and with each
other) before it reads data or trains, so a bad path never costs a run.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from chainrule.errors import ChainruleError

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


class CommandError(ChainruleError):
    """A problem with the command line's arguments or files, reported as one line."""


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


def _looks_tabular(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0]
    return any(sep in first for sep in (b",", b";", b"\t", b"|"))


@dataclass(frozen=True)
class Output:
    """An output path a command will write, with the option that named it."""

    option: str
    path: str
    suffixes: tuple[str, ...]


def check_outputs(inputs: dict[str, str | None], outputs: list[Output]) -> None:
    """Refuse, before any work, output paths that cannot be written or would destroy a file.

    Parameters
    ----------
    inputs : dict of str to str or None
        The files the command reads, by what they are (``"the data"``, ``"the model"``).
    outputs : list of Output
        The files it will write; ``path`` None or empty means not requested.

    Raises
    ------
    CommandError
        For a missing folder, a folder given as a file, an unwritable folder, a wrong
        extension, or an output that is the same file as an input or as another output.
    """
    seen: dict[object, str] = {}
    for name, path in inputs.items():
        if path:
            seen.setdefault(_identity(path), name)
    for out in outputs:
        if not out.path:
            continue
        target = Path(out.path)
        identity = _identity(out.path)
        if identity in seen:
            raise CommandError(
                f"{out.option} {out.path} is the same file as {seen[identity]}; writing it would destroy "
                "that file: choose another name"
            )
        suffix = target.suffix.lower()
        if out.suffixes and suffix not in out.suffixes:
            raise CommandError(
                f"{out.option} {out.path}: the file must end in {_either(out.suffixes)}, "
                f"not {target.suffix or 'no extension'!r}"
            )
        folder = target.parent if str(target.parent) else Path(".")
        if target.is_dir():
            raise CommandError(f"{out.option} {out.path} is a folder; give a file name inside it")
        if not folder.is_dir():
            raise CommandError(f"{out.option} {out.path}: there is no folder {folder}; create it first")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CommandError(f"{out.option} {out.path}: the folder {folder} is not writable")
        seen[identity] = out.option


def _identity(path: str) -> object:
    """The file a path names, through symlinks, ``..`` and hard links."""
    resolved = Path(path).expanduser().resolve()
    try:
        stat = resolved.stat()
    except OSError:
        return resolved
    return (stat.st_dev, stat.st_ino)


def _either(suffixes: tuple[str, ...]) -> str:
    return suffixes[0] if len(suffixes) == 1 else ", ".join(suffixes[:-1]) + " or " + suffixes[-1]
