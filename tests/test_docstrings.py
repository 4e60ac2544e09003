"""Every public symbol keeps its docstring; the API reference (docs/api/) is built from them.

Public means: everything in ``chainrule.__all__`` and the scikit-learn estimators. A class may
put its Parameters section in the class docstring or in ``__init__``'s (numpydoc allows both); a
dataclass of results may list its fields under Attributes instead.
"""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

import chainrule

sklearn_estimators = pytest.importorskip("chainrule.sklearn")

PUBLIC = {name: getattr(chainrule, name) for name in chainrule.__all__ if name != "__version__"}
PUBLIC["sklearn.NeuralNetClassifier"] = sklearn_estimators.NeuralNetClassifier
PUBLIC["sklearn.NeuralNetRegressor"] = sklearn_estimators.NeuralNetRegressor

PARAMETERS_SECTION = re.compile(r"^Parameters\n-{3,}\n", re.MULTILINE)
ATTRIBUTES_SECTION = re.compile(r"^Attributes\n-{3,}\n", re.MULTILINE)


def own_doc(obj: object) -> str:
    """The object's own docstring (a class does not inherit its base class's)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if doc else ""


def parameters(obj: object) -> list[str]:
    """Names a caller passes: a function's parameters, or a class constructor's."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    if inspect.isclass(obj) and target is object.__init__:
        return []
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to document
        return []
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.name != "self" and p.kind not in skip]


def has_parameters_section(obj: object) -> bool:
    docs = [own_doc(obj)]
    if inspect.isclass(obj) and "__init__" in obj.__dict__:
        docs.append(own_doc(obj.__init__))  # numpydoc allows either place for a class
    if dataclasses.is_dataclass(obj):  # results users read, not build: fields are attributes
        return any(PARAMETERS_SECTION.search(doc) or ATTRIBUTES_SECTION.search(doc) for doc in docs)
    return any(PARAMETERS_SECTION.search(doc) for doc in docs)


def missing_parameters_section() -> list[str]:
    return sorted(name for name, obj in PUBLIC.items() if parameters(obj) and not has_parameters_section(obj))


def public_methods_without_docstring() -> list[str]:
    missing = []
    for name, obj in PUBLIC.items():
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        for attr, member in vars(obj).items():
            if attr.startswith("_"):
                continue
            function = member.fget if isinstance(member, property) else member
            # an override inherits its base method's docstring, in inspect.getdoc and in the API pages
            inherited = inspect.getdoc(getattr(obj, attr))
            documented = (isinstance(member, property) and member.__doc__) or inherited
            if inspect.isfunction(function) and not documented:
                missing.append(f"{name}.{attr}")
    return sorted(missing)


def test_the_public_symbols_are_the_ones_this_test_knows():
    assert "Network" in PUBLIC and len(PUBLIC) >= 40


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_symbol_has_a_docstring(name):
    assert own_doc(PUBLIC[name]), f"chainrule.{name} has lost its docstring (the API reference shows it)"


def test_every_public_function_and_constructor_with_parameters_documents_them():
    missing = missing_parameters_section()
    assert not missing, "no numpydoc 'Parameters' section: " + ", ".join(missing)


def test_every_public_method_of_a_public_class_has_a_docstring():
    missing = public_methods_without_docstring()
    assert not missing, "public methods without a docstring: " + ", ".join(missing)


if __name__ == "__main__":  # python tests/test_docstrings.py: what is still to write
    print("Parameters section missing:", *missing_parameters_section(), sep="\n  ")
    print("public methods without a docstring:", *public_methods_without_docstring(), sep="\n  ")
