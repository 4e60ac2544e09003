"""The ``chainrule`` command: its parser, one module per subcommand, and one-line errors.

Every subcommand reports failure as one line on stderr and a non-zero exit code (``--debug``,
accepted anywhere on the line, shows the traceback), checks its output paths before it starts,
and writes its output files atomically, so a failed run leaves none. Warnings print once each
as ``chainrule: warning: ...``. pandas, matplotlib and tqdm come with
``pip install "chainrule[cli]"``; the subcommands that need them say so when they are missing.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import chainrule.cli.demo as demo
import chainrule.cli.evaluate as evaluate
import chainrule.cli.explain as explain
import chainrule.cli.export as export
import chainrule.cli.info as info
import chainrule.cli.plot as plot
import chainrule.cli.predict as predict
import chainrule.cli.train as train
import chainrule.live.command as playground
from chainrule._version import __version__
from chainrule.errors import ChainruleError
from chainrule.nn.kernels import planned

COMMANDS = (train, predict, evaluate, explain, plot, demo, export, info, playground)


class HelpFormatter(argparse.HelpFormatter):
    """Help that shows every option's default, and wraps each line of a description on its own."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            lead = " " * (len(line) - len(line.lstrip()))
            wrapped = textwrap.fill(
                line.strip(),
                width,
                initial_indent=indent + lead,
                subsequent_indent=indent + lead,
            )
            lines.append(wrapped)
        return "\n".join(lines)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, naming the command and its ``--help``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print ``chainrule COMMAND: error: MESSAGE (see --help)`` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def common_options(with_defaults: bool) -> argparse.ArgumentParser:
    """``--debug`` and ``--quiet``, for the main parser and (not overriding it) each subcommand."""
    parent = argparse.ArgumentParser(add_help=False)
    default: Any = False if with_defaults else argparse.SUPPRESS
    parent.add_argument(
        "--debug", action="store_true", default=default, help="show the full traceback of an error"
    )
    parent.add_argument(
        "--quiet",
        action="store_true",
        default=default,
        help="no progress or notes (warnings and errors still print)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The ``chainrule`` argument parser with every subcommand.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand's namespace carries the function that runs it (``func``).

    Examples
    --------
    >>> from chainrule.cli import build_parser
    >>> args = build_parser().parse_args(["info", "model.npz"])
    >>> args.command, callable(args.func)
    ('info', True)
    """
    parser = Parser(
        prog="chainrule",
        description="Train feed-forward networks by backpropagation, predict, and see how a step works.",
        parents=[common_options(True)],
    )
    parser.add_argument(
        "--version", action="version", version=f"chainrule {__version__} (kernels: {planned()})"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    shared = common_options(False)
    for command in COMMANDS:
        command.add_parser(sub, [shared])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainrule`` command with ``argv`` (default: the process's); return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``chainrule``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 on an error (printed as one ``chainrule: error: ...`` line, the
        traceback only with ``--debug``), 130 on Ctrl-C.

    Examples
    --------
    >>> import os, tempfile
    >>> import chainrule as cr
    >>> from chainrule.cli import main
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "net.npz")
    ...     cr.Network([2, 3, 1], seed=0).save(path)
    ...     code = main(["info", path])
    model: .../net.npz
    network: 2-3-1, 13 parameters, float64, loss not recorded
      layer 0: Dense(2, 3, sigmoid)
      layer 1: Dense(3, 1, sigmoid)
    kernels: ...
    >>> code
    0
    """
    args = build_parser().parse_args(argv)
    try:
        with one_line_warnings():
            return args.func(args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        sys.stdout = open(os.devnull, "w")
        return 0
    except MemoryError:
        if args.debug:
            raise
        print(
            "chainrule: error: out of memory; use fewer rows, --dtype float32, or a smaller "
            "--batch-size or network",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(f"chainrule: error: {describe(exc)}", file=sys.stderr)
        return 1


def describe(exc: BaseException) -> str:
    """One line for an error: its message, or for an unexpected one its type and a way on."""
    if isinstance(exc, KeyError):
        message = f"missing {exc}"
    elif isinstance(exc, (ChainruleError, ValueError, OSError, ImportError)):
        message = str(exc)
    else:  # a bug or an unforeseen failure: still one line, and how to see more
        message = f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)"
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
        message = f"{exc.filename}: {message}"
    return " ".join(message.split())


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Print each distinct warning once, as ``chainrule: warning: MESSAGE``, without a source line."""
    shown: set[str] = set()

    def show(
        message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        text = " ".join(str(message).split())
        if text not in shown:
            shown.add(text)
            print(f"chainrule: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.showwarning = show
        yield


if __name__ == "__main__":
    sys.exit(main())
