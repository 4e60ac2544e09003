"""Record every model file chainrule saves, in this process and in the commands tests start.

`tests/conftest.py` sets ``CHAINRULE_SAVED_MODELS`` (a log file) and puts this folder first on
``PYTHONPATH``, so every Python process a test starts (``chainrule`` commands, ``python -c``)
imports this module at start-up. It wraps ``atomic_write`` in ``chainrule.io.model_file`` (the
one place a model file is written, by ``save`` and checkpoints alike) when that module is first
imported, without importing chainrule itself: after each complete save, the finished file is
copied aside (a later step of the test may corrupt or delete it on purpose) and its copy logged.
The conftest then loads and predicts with each copy when the test ends.
"""

from __future__ import annotations

import importlib.abc
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOG = "CHAINRULE_SAVED_MODELS"
MODULE = "chainrule.io.model_file"


def record(path: Any) -> None:
    """Copy a just-saved model file next to the log and append ``copy<TAB>original`` to it."""
    log = os.environ.get(LOG)
    if not log or not os.path.isfile(path):
        return
    copy = os.path.join(os.path.dirname(log), f"{uuid.uuid4().hex}.npz")
    shutil.copyfile(path, copy)
    with open(log, "a", encoding="utf-8") as stream:
        stream.write(f"{copy}\t{os.fspath(path)}\n")


def install(module: Any) -> None:
    """Wrap ``module.atomic_write`` so that each model file it completes is recorded."""
    original = module.atomic_write
    if getattr(original, "records_saves", False):
        return

    @contextmanager
    def atomic_write(path: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with original(path, *args, **kwargs) as stream:
            yield stream
        record(path)

    atomic_write.records_saves = True  # type: ignore[attr-defined]
    module.atomic_write = atomic_write


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def create_module(self, spec: Any) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.inner.exec_module(module)
        install(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != MODULE:
            return None
        for finder in sys.meta_path:
            found = None if finder is self else getattr(finder, "find_spec", None)
            spec = found(name, path, target) if found else None
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


if os.environ.get(LOG):
    if MODULE in sys.modules:
        install(sys.modules[MODULE])
    else:
        sys.meta_path.insert(0, _Finder())
