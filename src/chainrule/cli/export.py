"""``chainrule export``: a model as an ONNX graph or a C header, with its stored scaling.

The extension of OUT chooses: ``.onnx`` writes an ONNX graph (`chainrule.export_onnx`), ``.h``
a dependency-free C header, float32 or ``--int8`` (`chainrule.export_c`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from chainrule.cli.files import CommandError, Output, check_outputs
from chainrule.cli.inputs import load_model, read_table
from chainrule.io.c_export import export_c, write_test_program
from chainrule.io.onnx import export_onnx, onnx_columns
from chainrule.table import TableModel

USAGE = "chainrule export MODEL OUT.onnx | OUT.h [--name NAME] [--int8 [--calibration DATA]]"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``export`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "export",
        parents=parents,
        help="export a model to ONNX or to a C header, with its stored scaling",
        description="Write MODEL as an ONNX graph (OUT.onnx: input the feature columns in original "
        "units, categorical ones one-hot; regression output in the target's units) or as a C "
        "header (OUT.h: C99 and C++, no allocation, the scaling, categories and labels compiled in; "
        "float32, or int8 with integer-only loops with --int8).",
    )
    p.add_argument("model", help="a model file written by chainrule")
    p.add_argument("out", help="the .onnx or .h file to write")
    p.add_argument(
        "--dtype", choices=["float32", "float64"], default="float32", help="the ONNX graph's precision"
    )
    c = p.add_argument_group("C header (OUT.h)")
    c.add_argument("--name", help="the C name: NAME_predict(), NAME_N_INPUTS... (default: OUT's stem)")
    c.add_argument("--int8", action="store_true", help="int8 weights and integer-only inner loops")
    c.add_argument(
        "--calibration",
        metavar="DATA",
        help="rows that set the int8 ranges (default: the training data the model names)",
    )
    c.add_argument(
        "--test-program",
        metavar="DIR",
        help="also write a test program into DIR: main.c and second.c include the header and print "
        "the outputs for the --rows",
    )
    c.add_argument(
        "--rows", metavar="DATA", help="rows for --test-program (default: 20 rows of the training data)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule export``; return the exit code."""
    check_outputs({"the model": args.model}, [Output("OUT", args.out, (".onnx", ".h"))])
    model = load_model(args.model, USAGE)
    if Path(args.out).suffix.lower() == ".h":
        return run_c(model, args)
    net = model.network if isinstance(model, TableModel) else model
    columns = (
        onnx_columns(model.preprocessor)
        if isinstance(model, TableModel)
        else [f"x{i}" for i in range(net.n_inputs)]
    )
    export_onnx(model, args.out, dtype=args.dtype)
    print(
        f"wrote {args.out}: input 'input' of shape (batch, {len(columns)}): {', '.join(columns)}",
        file=sys.stderr,
    )
    return 0


def run_c(model: Any, args: argparse.Namespace) -> int:
    """Write the C header (and the test program); return the exit code."""
    name = args.name or re.sub(r"\W", "_", Path(args.out).stem, flags=re.ASCII)
    if not re.fullmatch(r"[A-Za-z_]\w*", name, flags=re.ASCII):
        name = f"m_{name}" if re.fullmatch(r"\w+", name, flags=re.ASCII) else "model"
    training = (model.metadata.get("training") or {}).get("data")
    if args.int8 and not args.calibration and not (training and Path(training).is_file()):
        raise CommandError(
            "--int8 needs calibration rows: pass --calibration DATA (the model does not name "
            "a training data file that exists)"
        )
    calibration = table_rows(model, args.calibration) if args.calibration else None
    try:
        export = export_c(
            model, args.out, name=name, quantize="int8" if args.int8 else None, calibration=calibration
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    spec = export.spec
    print(
        f"wrote {args.out}: {name}_predict(inputs[{spec.n_inputs}], outputs[{spec.n_outputs}]), "
        f"{'int8' if args.int8 else 'float32'}; inputs: {', '.join(spec.input_names)}",
        file=sys.stderr,
    )
    if args.test_program:
        source = args.rows or (training if training and Path(training).is_file() else None)
        if source is None:
            raise CommandError("--test-program needs --rows DATA (the model names no training data)")
        rows = table_rows(model, source)
        rows = rows[:20] if not args.rows else rows
        files = write_test_program(export, args.test_program, rows)
        first = files[1].read_text().splitlines()[1].strip(" *")
        print(f"wrote the test program in {args.test_program}; build and run it with:", file=sys.stderr)
        print(f"  cd {args.test_program} && {first}", file=sys.stderr)
    return 0


def table_rows(model: Any, path: str) -> Any:
    """The rows of a data file: a DataFrame for a table model; for a network, its first columns."""
    frame = read_table(path, USAGE)
    if isinstance(model, TableModel):
        return frame
    return frame.to_numpy(dtype=float)[:, : model.n_inputs]
