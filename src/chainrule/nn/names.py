"""How names users give are matched: any case, with or without ``_``/``-``, and the spellings
of Keras, PyTorch and scikit-learn (``"mean_squared_error"``, ``"MSELoss"``, ``"logistic"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def normalized(name: str) -> str:
    """``name`` lowercased without underscores, hyphens or spaces: ``"Leaky_ReLU"`` -> ``"leakyrelu"``."""
    return "".join(ch for ch in name.lower() if ch not in "_- ")


def lookup(
    name: object,
    registry: Mapping[str, T],
    aliases: Mapping[str, str],
    what: str,
    extra: tuple[str, ...] = (),
) -> T:
    """The registry entry for ``name`` or one of its aliases.

    Parameters
    ----------
    name : str
        What the user wrote.
    registry : mapping of canonical names to entries
    aliases : mapping of normalized alias to canonical name
    what : str
        The kind of thing, for the error message (``"loss"``).
    extra : tuple of str
        Further choices to list in the error message (handled by the caller).

    Raises
    ------
    ValueError
        Naming the unknown ``name`` and listing the canonical choices.
    """
    if isinstance(name, str):
        key = normalized(name)
        canonical = {normalized(k): k for k in registry}
        found = canonical.get(key) or aliases.get(key)
        if found is not None:
            return registry[found]
    known = ", ".join([*registry, *extra])
    raise ValueError(f"unknown {what} {name!r}; choose one of: {known}")
