"""The ``chainrule`` command line: `main` runs it; one module per subcommand."""

from chainrule.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
