"""The ``chainrule`` command: its parser, one module per subcommand, and one-line errors.

Every subcommand reports failure as one line on stderr and a non-zero exit code (``--debug``
shows the traceback), and writes its output files atomically, so a failed run leaves none.
pandas, matplotlib and tqdm come with ``pip install "chainrule[cli]"``; the subcommands that
need them say so when they are missing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from chainrule._version import __version__
from chainrule.cli import demo, evaluate, explain, export, info, plot, predict, train
from chainrule.errors import ChainruleError
from chainrule.nn.kernels import planned

COMMANDS = (train, predict, evaluate, explain, plot, demo, export, info)


def build_parser() -> argparse.ArgumentParser:
    """The ``chainrule`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Train feed-forward networks by backpropagation, predict, and see how a step works.",
    )
    parser.add_argument(
        "--version", action="version", version=f"chainrule {__version__} (kernels: {planned()})"
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainrule`` command with ``argv`` (default: the process's); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "plot" and args.kind in ("history", "boundary") and not args.source:
        parser.error(f"plot {args.kind} needs a file argument")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        sys.stdout = open(os.devnull, "w")
        return 0
    except (ChainruleError, ValueError, OSError, ImportError, KeyError) as exc:
        if args.debug:
            raise
        message = str(exc) if not isinstance(exc, KeyError) else f"missing {exc}"
        print(f"chainrule: error: {' '.join(message.split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
