"""The version of chainrule (one place; the package and model files read it)."""

__version__ = "0.1.0"
