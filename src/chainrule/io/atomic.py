"""Write files all or nothing: into a temporary file beside the target, renamed over it at the end.

A crash, a full disk, Ctrl-C or SIGTERM mid-write leaves any previous file intact and no
partial or temporary file (only SIGKILL or a power cut can leave the temporary file behind).
The result keeps an existing file's permission bits; a new file gets the usual ``0o666`` less
the process umask, which is applied by the operating system when the file is created and is
never read or changed here. A symbolic link is followed: the file it points to is replaced and
the link stays a link.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class Terminated(BaseException):
    """SIGTERM arrived during an atomic write: raised to unwind it, then the signal is re-sent."""


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Yield an open temporary file; on success it replaces ``path``, on any error it is deleted.

    Parameters
    ----------
    path : str or path-like
        The file to write. If it is a symbolic link, the file it points to is replaced.
    mode : str
        ``"wb"`` or ``"w"`` (text, with ``open_kwargs`` such as ``newline=""``).

    Notes
    -----
    In the main thread, a SIGTERM that arrives while the file is written (with the default
    SIGTERM action in place) removes the temporary file, then terminates the process with
    SIGTERM as it would have. Other threads cannot handle signals; there, and under a custom
    SIGTERM handler, the handler decides (one that raises, e.g. `SystemExit`, cleans up).
    """
    target = Path(os.path.realpath(path))
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        keep_mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        keep_mode = None
    previous: Any = None
    temp: Path | None = None
    try:
        previous = _default_sigterm()  # recorded before ours goes in, so finally can put it back
        if previous is not None:
            signal.signal(signal.SIGTERM, _raise_terminated)
        temp, handle = _create_beside(target)
        if keep_mode is not None:
            os.chmod(temp, keep_mode)
        with os.fdopen(handle, mode, **open_kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
        temp = None
        _fsync_folder(folder)
    except Terminated:
        _remove(temp)
        signal.signal(signal.SIGTERM, previous)
        previous = None
        os.kill(os.getpid(), signal.SIGTERM)  # die by SIGTERM, as the default action would
        raise
    except BaseException:
        _remove(temp)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _create_beside(target: Path) -> tuple[Path, int]:
    """A new, empty, uniquely named file in ``target``'s folder, created with mode ``0o666``
    (the kernel applies the umask), opened for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {target}")


def _default_sigterm() -> Any:
    """The default SIGTERM action if that (or ours) is in place and this is the main thread, so
    ours can replace it while writing; else None: someone else's handler stays. (Writes are not
    nested here; an inner one would put the default back before the outer one ends.)"""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGTERM)
    # ours, found installed, was left by a Ctrl-C during a clean-up: the default is what it replaced
    return signal.SIG_DFL if previous in (signal.SIG_DFL, _raise_terminated) else None


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(f"signal {signum}")


def _remove(temp: Path | None) -> None:
    if temp is not None:
        temp.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); skipped where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
