"""What a file is (by its first bytes, not its name), and output paths checked before any work.

Every command that reads a model or a table looks at the file's content first, so a CSV given
where a model goes, or a PNG renamed ``.csv``, is named for what it is. Every command that
writes checks its output paths (folder, extension, collisions with its inputs and with each
other) before it reads data or trains, so a bad path never costs a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from chainrule.errors import ChainruleError


class CommandError(ChainruleError):
    """A problem with the command line's arguments or files, reported as one line."""


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
