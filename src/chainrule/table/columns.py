"""Which columns of a table are inputs: ``features``, ``drop``, and identifier columns left out.

Without ``features`` every column but the target is an input, less those in ``drop`` and those
that look like identifiers (`chainrule.io.cleaning.id_like`: text with more distinct values
than half its rows, or a running integer index), which are left out with a note saying how to
keep them (``keep_ids``, or naming them in ``features`` or ``categorical``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.errors import InputError
from chainrule.io.cleaning import id_like


def choose_columns(
    frame: Any,
    target: str,
    *,
    features: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    categorical: Sequence[str] = (),
    keep_ids: bool = False,
) -> tuple[list[str], list[str]]:
    """The input columns of ``frame``, in its order, and a note for each column left out.

    Parameters
    ----------
    frame : DataFrame
    target : str
        Never an input.
    features : sequence of str, optional
        The inputs, as given (no identifier check); default: every other column.
    drop : sequence of str
        Columns never used.
    categorical : sequence of str
        Columns named here are chosen, so never left out as identifiers.
    keep_ids : bool
        Keep identifier-like columns.

    Raises
    ------
    InputError
        For a ``drop`` column that is not in the table, or when no input is left.
    """
    columns = [str(c) for c in frame.columns]
    unknown = [c for c in drop if c not in columns]
    if unknown:
        raise InputError(
            f"--drop names {unknown}, which are not columns; the columns are: {', '.join(columns)}"
        )
    notes = []
    if features:
        chosen = [c for c in features if c not in set(drop)]
    else:
        chosen = []
        for column in columns:
            if column == target or column in drop:
                continue
            reason = None if keep_ids or column in categorical else id_like(frame[column])
            if reason is None:
                chosen.append(column)
            else:
                notes.append(
                    f"left out {column!r} ({reason}): it looks like an identifier; --keep-ids "
                    "keeps it (or name it in --features)"
                )
    if not chosen and notes and not features:  # identifiers are all there is: keep them, and say so
        chosen = [c for c in columns if c != target and c not in drop]
        notes = [f"kept {', '.join(map(repr, chosen))}, which look like identifiers: there is no other input"]
    if columns == [target]:
        raise InputError(
            f"the table has no input columns: its only column is the target {target!r}; add the "
            "columns to learn from (a network needs at least one input)"
        )
    if not chosen:
        dropped = f"; --drop leaves out {', '.join(drop)}" if drop else ""
        raise InputError(
            f"no input columns are left (the columns are: {', '.join(columns)}; the target {target!r} "
            f"is not an input{dropped}): drop fewer columns, or name the inputs with --features"
        )
    return chosen, notes
