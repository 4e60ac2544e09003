"""What the commands read: tables, model files (as `TableModel` when trained on a table), option lists.

Files are recognised by their content (`chainrule.io.tables.sniff`), not their names. A CSV's
delimiter is detected and reported; rows keep the editor's line numbers (the header is line 1)
as the frame's index, named ``"line"``, so every error about a cell names the line to fix.
"""

from __future__ import annotations

from pathlib import Path

from chainrule.cli.files import CommandError
from chainrule.errors import ModelFileError
from chainrule.io.tables import read_table, sniff
from chainrule.network import Network
from chainrule.table import TableModel, load

__all__ = ["CommandError", "load_model", "load_table_model", "read_table", "split_list"]


def load_table_model(path: str, usage: str = "") -> TableModel:
    """The model in ``path`` with its stored preprocessing, or a `CommandError`.

    A damaged stored preprocessing is a `ModelFileError` from `chainrule.load`, in one line.
    """
    model = load_model(path, usage)
    if not isinstance(model, TableModel):
        raise CommandError(
            f"{path} has no stored preprocessing (it was not trained by `chainrule train`); "
            "use the Python API (chainrule.load(path).predict(X)) with inputs prepared as in training"
        )
    return model


def load_model(path: str, usage: str = "") -> Network | TableModel:
    """The model in ``path`` (see `chainrule.load`); a `CommandError` naming what the file is if
    it is not a model.

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


def split_list(text: str | None, what: str, unique: bool = False) -> list[str]:
    """The items of a comma-separated option; an empty list for none (with ``unique``, each once)."""
    if not text:
        return []
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise CommandError(f"{what} must be a comma-separated list, got {text!r}")
    repeated = sorted({item for item in items if items.count(item) > 1})
    if unique and repeated:
        raise CommandError(
            f"{what} names {', '.join(map(repr, repeated))} more than once: give each column once"
        )
    return items
