"""Where Numba's compiled kernels are cached, whether they are there yet, and the compile notice.

Nothing here imports Numba: the automatic backend choice (`chainrule.nn.kernels.for_run`) asks
`is_compiled` before deciding whether Numba is worth importing at all.

**The folder.** Numba looks for a cache folder, in this order: ``NUMBA_CACHE_DIR`` when set, the
``__pycache__`` folder next to the kernels' source (the installed package), and a per-user cache
folder (``$XDG_CACHE_HOME/numba``, else ``~/.cache/numba``). When none of them can be written (a
read-only install run by a user whose home is read-only too), ``@njit(cache=True)`` would raise
``RuntimeError: cannot cache function ...: no locator available`` while the kernels are defined,
so `folder` makes the same choice first, and `caching` answers False there: the kernels are then
compiled in every process, uncached, with one `RuntimeWarning` naming the fix. `caching` is read
by `chainrule.nn.kernels.numba_passes` before its first decorator runs (``cache=`` is fixed when a
function is decorated, and Numba reads ``NUMBA_CACHE_DIR`` when it is imported).

**What is compiled.** Numba compiles one specialisation per kind of argument (dtype, the number
of layers of the compiled epoch, the optimizer's pass). After a run's first epoch compiled and
cached them, `remember` records the run's key in ``chainrule-compiled.json`` in the cache folder,
stamped with Numba's version and the kernels' source files, so the next process knows, without
importing Numba, that loading them takes a fraction of a second rather than seconds of compiling.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = ("numba_passes.py", "numba_kernels.py", "numba_chunk.py", "numba_parallel.py")
MARKER = "chainrule-compiled.json"
#: A compile that runs longer than this many seconds gets the one-line notice.
NOTICE_AFTER = 1.0
log = logging.getLogger("chainrule.kernels")


def _writable(folder: Path) -> bool:
    """Whether ``folder`` can be made and written, as Numba's locators test it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def user_folder() -> Path:
    """Numba's per-user cache folder (its ``appdirs`` rule, without importing Numba)."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "numba" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "numba"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"


def candidates() -> list[Path]:
    """The folders Numba would try, in its order."""
    found = [HERE / "__pycache__"]
    given = os.environ.get("NUMBA_CACHE_DIR", "")
    if given:
        found.insert(0, Path(given))
    try:
        found.append(user_folder())
    except RuntimeError:  # no home folder to be found
        pass
    return found


@cache
def folder() -> Path | None:
    """The first folder Numba can write its cache to, or None (then the kernels are not cached)."""
    return next((path for path in candidates() if _writable(path)), None)


@cache
def caching() -> bool:
    """``cache=`` for the kernels' decorators: False, with one warning, when no folder is writable."""
    if folder() is not None:
        return True
    tried = ", ".join(str(path) for path in candidates())
    warnings.warn(
        f"Numba cannot cache chainrule's compiled kernels: none of {tried} can be written, so "
        "they are compiled again in every process (seconds each time). Set NUMBA_CACHE_DIR to a "
        'writable folder, or use the NumPy kernels: CHAINRULE_BACKEND=numpy or set_backend("numpy").',
        RuntimeWarning,
        stacklevel=2,
    )
    return False


@cache
def stamp() -> str:
    """Numba's version and the kernels' source files (size and time): what a cached compile is for."""
    try:
        version = metadata.version("numba")
    except metadata.PackageNotFoundError:
        version = "absent"
    files = [HERE / name for name in SOURCES]
    return version + ";" + ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)


def _marker() -> Path | None:
    where = folder()
    return None if where is None else where / MARKER


def _recorded() -> dict[str, list[str]]:
    path = _marker()
    try:
        data = json.loads(path.read_text()) if path is not None else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_compiled(key: str) -> bool:
    """Whether a run with this key compiled and cached its kernels before (Numba not imported)."""
    return key in _recorded().get(stamp(), [])


def remember(key: str) -> None:
    """Record that ``key``'s kernels are compiled and cached (best effort: never raises)."""
    path = _marker()
    if path is None or is_compiled(key):
        return
    keys = _recorded().get(stamp(), [])
    try:
        temporary = path.with_name(f"{MARKER}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({stamp(): sorted({*keys, key})}))
        os.replace(temporary, path)
    except OSError:
        pass


def compile_notice(key: str) -> Callable[[bool], None]:
    """Start the notice for a run's first epoch; return ``finish(ok)``, to call when it ends.

    One line on stderr (the ``chainrule.kernels`` logger) if compiling still runs after
    `NOTICE_AFTER` seconds; nothing when ``key``'s kernels were compiled before. ``finish(True)``
    records the key as compiled.
    """
    if is_compiled(key):
        return lambda ok: None
    where = folder()
    kept = f"once; cached in {where} for next time" if where is not None else "no cache folder is writable"
    timer = threading.Timer(
        NOTICE_AFTER,
        log.warning,
        (f"chainrule: compiling the Numba kernels for this network ({kept}) ...",),
    )
    timer.daemon = True
    timer.start()

    def finish(ok: bool) -> None:
        timer.cancel()
        if ok and where is not None:
            remember(key)

    return finish
