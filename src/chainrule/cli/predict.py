"""``chainrule predict``: outputs for new rows, in the original units and labels.

The numbers are `chainrule.TableModel.predict`'s (and ``predict_proba``'s): this command reads
the files and writes the CSV.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from chainrule.cli.files import CommandError, Output, check_outputs
from chainrule.cli.inputs import load_table_model, read_table
from chainrule.io.atomic import atomic_write

USAGE = "chainrule predict MODEL DATA [--out PREDICTIONS.csv]"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``predict`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "predict",
        parents=parents,
        help="predict for new rows with the model's stored preprocessing",
        description="Predict for the rows of DATA with a model written by `chainrule train`: the "
        "rows are prepared with the model's stored encoding and scaling, and the output is DATA "
        "with a predicted_TARGET column (class labels, or numbers in the target's units).",
    )
    p.add_argument("model", help="a model file written by chainrule train")
    p.add_argument("data", help="rows to predict: CSV, .npz or .npy, with the training columns")
    p.add_argument("--out", help="CSV to write (default: standard output)")
    p.add_argument("--proba", action="store_true", help="add one probability column per class")
    p.add_argument(
        "--unknown",
        choices=["ignore", "error"],
        help="a category not seen in training: all-zero one-hot with a warning, or an error "
        "(default: as the model was trained)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule predict``; return the exit code."""
    check_outputs(
        {"the model": args.model, "the data file": args.data},
        [Output("--out", args.out, (".csv", ".tsv", ".txt"))],
    )
    model = load_table_model(args.model, USAGE)
    model.preprocessor.unknown = args.unknown or model.preprocessor.unknown
    if args.proba and model.task != "classification":
        raise CommandError("--proba needs a classification model; this one is a regression")
    frame = read_table(args.data, USAGE)
    note_format(frame, args)
    result = frame.copy()
    result[free_name(f"predicted_{model.target}", result, args)] = model.predict(frame)
    if args.proba:
        for name, values in zip(model.preprocessor.classes, model.predict_proba(frame).T, strict=True):
            result[free_name(f"proba_{name}", result, args)] = values
    result = spreadsheet_safe(result)
    if args.out:
        with atomic_write(args.out, "w", newline="") as stream:
            result.to_csv(stream, index=False)
        print(f"wrote {len(result)} predictions to {args.out}", file=sys.stderr)
    else:
        result.to_csv(sys.stdout, index=False)
    return 0


#: What a spreadsheet reads as a formula at a cell's start (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: Any) -> Any:
    """``frame`` with each text cell and column name that a spreadsheet would run as a formula
    (``=HYPERLINK(...)``, ``+1``, ``@SUM``...) prefixed with ``'``, as OWASP recommends."""

    def escape(value: Any) -> Any:
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    safe = frame.copy()
    for column in safe.columns:
        if not safe[column].map(lambda value: isinstance(value, str)).any():
            continue
        safe[column] = safe[column].map(escape)
    safe.columns = [escape(str(column)) for column in safe.columns]
    return safe


def free_name(name: str, frame: Any, args: argparse.Namespace) -> str:
    """``name``, or ``name_2`` (``_3``...) when the data already has such a column, with a note."""
    chosen, k = name, 2
    while chosen in frame.columns:
        chosen, k = f"{name}_{k}", k + 1
    if chosen != name and not args.quiet:
        print(f"the data already has a column {name!r}: the predictions are in {chosen!r}", file=sys.stderr)
    return chosen


def note_format(frame: Any, args: argparse.Namespace) -> None:
    """Say how a table that is not plain comma-separated CSV was read (unless ``--quiet``)."""
    described = frame.attrs.get("format", "")
    if described and described != "comma-separated" and not args.quiet:
        print(f"read {args.data} as {described}", file=sys.stderr)
