"""`fit`'s options have one home, `FitSettings`: the signature and the docstring are made from it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import chainrule as cr
from chainrule.train.settings import FitSettings, with_options_documented

numpydoc = pytest.importorskip("numpydoc.docscrape")

FIELDS = [field.name for field in dataclasses.fields(FitSettings)]


@pytest.mark.parametrize("fit", [cr.fit, cr.Network.fit], ids=["chainrule.fit", "Network.fit"])
def test_fit_lists_every_option_with_its_default_and_its_description(fit):
    parameters = inspect.signature(fit).parameters
    assert list(parameters)[-len(FIELDS) :] == FIELDS
    for field in dataclasses.fields(FitSettings):
        assert parameters[field.name].default == field.default
    documented = {p.name: p for p in numpydoc.FunctionDoc(fit)["Parameters"]}
    settings = {p.name: p for p in numpydoc.ClassDoc(FitSettings)["Parameters"]}
    assert set(settings) == set(FIELDS)  # FitSettings documents each of its fields
    for name in FIELDS:  # the same type and words as FitSettings', not a copy that can drift
        assert (documented[name].type, documented[name].desc) == (settings[name].type, settings[name].desc)
    assert "**options" not in fit.__doc__


def test_a_docstring_without_an_options_entry_is_left_alone():
    doc = "Do it.\n\n    Parameters\n    ----------\n    x : int\n        A number.\n"
    assert with_options_documented(doc) == doc
