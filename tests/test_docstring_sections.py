"""Every public class and function documents its parameters and result and shows an example.

The sections are read by numpydoc's own validator (``numpydoc.validate``), the parser the API
pages are built with, so "documented" here means what the reference shows. Public means:

* every name in ``chainrule.__all__`` and in the ``__all__`` of the public subpackages
  (``chainrule.sklearn``, ``chainrule.dask``, ``chainrule.live``, ``chainrule.io.c_export``,
  ``chainrule.table``, ``chainrule.cli``);
* every object an API page (``docs/api/*.rst``) documents with an ``auto...`` directive;
* every public method and property of those classes, wherever in chainrule it is defined
  (an optimizer's ``step`` is checked once, on the base class that defines it; an override
  without a docstring shows its base's, so the base's is the one checked).

What is required (numpydoc's error codes):

* PR01 / PR02 / PR07: a ``Parameters`` section naming and describing each parameter, and no
  parameter that is not there (a class may document its constructor in the class docstring or
  in ``__init__``'s; a dataclass of results may list its fields under ``Attributes`` instead);
* RT01 / RT03 / YD01: a described ``Returns`` (``Yields``) section when the function returns
  (yields) a value;
* EX01: an ``Examples`` section on every public class and function (methods need none; their
  class's example shows them in use). The examples run as doctests: ``tests/test_doctests.py``.
* GL08: a docstring at all.

``python tests/test_docstring_sections.py`` prints what is still missing.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate", reason="numpydoc comes with chainrule[test]")

import chainrule  # noqa: E402

API_PAGES = Path(__file__).resolve().parents[1] / "docs" / "api"
SUBPACKAGES = [
    "chainrule.sklearn",
    "chainrule.dask",
    "chainrule.live",
    "chainrule.io.c_export",
    "chainrule.table",
    "chainrule.cli",
]
REQUIRED = {"GL08", "PR01", "PR02", "PR07", "RT01", "RT03", "YD01"}
REQUIRED_ON_SYMBOLS = REQUIRED | {"EX01"}
AUTODOC = re.compile(r"^\.\. auto(?:class|function|exception)::\s+(chainrule[\w.]*)\s*$", re.MULTILINE)


def resolve(dotted: str) -> object:
    """The object a dotted name such as ``chainrule.train.settings.FitSettings`` names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def public_symbols() -> dict[str, object]:
    """Every public class and function, by the name a user imports it under."""
    found = [(f"chainrule.{name}", getattr(chainrule, name)) for name in chainrule.__all__]
    for package in SUBPACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError:  # an extra that is not installed: its symbols are checked where it is
            continue
        # getattr, not an import of the dotted name: chainrule.cli.main is a module and a function
        found += [(f"{package}.{name}", getattr(module, name)) for name in module.__all__]
    for page in sorted(API_PAGES.glob("*.rst")):
        for name in AUTODOC.findall(page.read_text()):
            try:
                found.append((name, resolve(name)))
            except ImportError:
                continue
    symbols: dict[str, object] = {}
    seen: set[int] = set()
    for name, obj in found:
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in seen:
            seen.add(id(obj))
            symbols[name] = obj
    return symbols


def public_members(cls: type) -> dict[str, object]:
    """Public methods and properties of a class that chainrule defines, once per defining class."""
    members = {}
    for attr in dir(cls):
        if attr.startswith("_"):
            continue
        owners = [k for k in cls.__mro__ if attr in vars(k)]
        # an override without a docstring shows its base's (inspect.getdoc, autodoc): check that one
        documented = [k for k in owners if getattr(vars(k)[attr], "__doc__", None)]
        owner = (documented or owners or [None])[0]
        if owner is None or not owner.__module__.startswith("chainrule"):
            continue  # object's, scikit-learn's BaseEstimator's...: documented where they live
        member = vars(owner)[attr]
        if isinstance(member, staticmethod | classmethod):
            member = member.__func__
        member = getattr(member, "fn", member)  # scikit-learn's available_if (partial_fit)
        if inspect.isfunction(member) or isinstance(member, property):
            members[f"{owner.__module__}.{owner.__qualname__}.{attr}"] = member
    return members


def errors_of(obj: object, required: set[str]) -> list[str]:
    """numpydoc's complaints about ``obj`` among the ``required`` codes, as ``CODE message``."""
    doc = numpydoc_validate.get_doc_object(obj)
    found = numpydoc_validate.validate(doc)["errors"]
    errors = [(code, message) for code, message in found if code in required]
    if dataclasses.is_dataclass(obj):  # results users read, not build: fields may be attributes
        attributes = {name for name, _, _ in doc["Attributes"]}
        errors = [
            (code, message)
            for code, message in errors
            if not (code == "PR01" and set(re.findall(r'"(\w+)"', message)) <= attributes)
        ]
    return [f"{code} {message}" for code, message in errors]


def everything() -> dict[str, tuple[object, set[str]]]:
    """Each object checked, with the codes it must not raise."""
    checked: dict[str, tuple[object, set[str]]] = {}
    for name, obj in public_symbols().items():
        checked[name] = (obj, REQUIRED_ON_SYMBOLS)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for member_name, member in public_members(obj).items():
                checked.setdefault(member_name, (member, REQUIRED))
    return checked


CHECKED = everything()


def test_the_walk_finds_the_public_api():
    names = set(CHECKED)
    assert {"chainrule.Network", "chainrule.fit", "chainrule.gradcheck"} <= names
    assert "chainrule.network.Network.evaluate" in names and "chainrule.network.Network.predict" in names
    assert "chainrule.train.settings.FitSettings" in names  # from docs/api/training.rst
    assert len(names) > 150


def test_the_check_catches_a_missing_parameter_a_missing_returns_and_missing_examples():
    def undocumented(x: int, y: int) -> int:
        """Add.

        Parameters
        ----------
        x : int
            One number.
        """
        return x + y

    codes = {error.split()[0] for error in errors_of(undocumented, REQUIRED_ON_SYMBOLS)}
    assert codes == {"PR01", "RT01", "EX01"}


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_docstring_sections(name):
    obj, required = CHECKED[name]
    errors = errors_of(obj, required)
    assert not errors, f"{name}:\n  " + "\n  ".join(errors)


if __name__ == "__main__":  # python tests/test_docstring_sections.py: what is still to write
    for name, (obj, required) in sorted(CHECKED.items()):
        for error in errors_of(obj, required):
            print(f"{name}: {error}")
