"""``chainrule playground``: the live training page, from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainrule.live import DEFAULT_PORT, playground


def add_parser(
    subparsers: Any, parents: list[argparse.ArgumentParser] | None = None
) -> argparse.ArgumentParser:
    """Add the ``playground`` subcommand to the CLI's subparsers (with the shared ``parents`` options)."""
    p = subparsers.add_parser(
        "playground",
        parents=parents or [],
        help="a live training page in the browser: your data, the network, every number of a step",
        description="Start a local web page that trains a network as you watch. The first line "
        "of output is the page's URL.",
    )
    p.add_argument(
        "data",
        nargs="?",
        help="a table to start with (.csv, .npz or .npy); default: built-in data",
    )
    p.add_argument("--target", help="the column to predict (default: the last column)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; a free one if taken)"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument(
        "--shared",
        action="store_true",
        help="one run for every tab (a class watching one run); default: each tab its own",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.set_defaults(func=cmd_playground)
    return p


def cmd_playground(args: argparse.Namespace) -> int:
    """Run the playground until Ctrl-C."""
    handle = playground(
        args.data, args.target, port=args.port, host=args.host, open_browser=False, shared=args.shared
    )
    print(handle.url, flush=True)
    print("chainrule playground: press Ctrl-C to stop", file=sys.stderr, flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(handle.url)
    try:
        handle.wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0
