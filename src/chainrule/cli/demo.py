"""``chainrule demo``: the seed tutorials on their built-in data, or a short tour of all five."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.cli.files import CommandError, Output, check_outputs
from chainrule.io.tables import sniff

XOR_MODEL = "xor_model.npz"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "demo",
        parents=parents,
        help="run the seed tutorials on their built-in data",
        description="Without a name: a short tour of the five seed tutorials, each reduced to the "
        "numbers its tutorial prints. With a name: that tutorial in full. Demo 002 saves its XOR "
        "model (to xor_model.npz in the current folder, or --out) and prints the command that "
        "loads it.",
    )
    p.add_argument("name", nargs="?", help="000, 001, 002, 003 or 004 (also seed000 ..); default: the tour")
    p.add_argument(
        "--out", help=f"where demo 002 saves its model (default: {XOR_MODEL} in the current folder)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule demo``; return the exit code."""
    from chainrule.examples import SEEDS

    if not args.name:
        if args.out:
            raise CommandError("--out applies to demo 002 only (it saves the XOR model)")
        return tour()
    key = args.name.lower().removeprefix("seed").removeprefix("_")
    if key not in SEEDS:
        raise CommandError(f"unknown demo {args.name!r}; choose one of: {', '.join(SEEDS)}")
    if args.out and key != "002":
        raise CommandError("--out applies to demo 002 only (it saves the XOR model)")
    module = importlib.import_module(f"chainrule.examples.{SEEDS[key]}")
    if key != "002":
        module.main()
        return 0
    path = args.out or XOR_MODEL
    check_outputs({}, [Output("--out", path, (".npz",))])
    if Path(path).is_file() and sniff(path).kind != "model":
        raise CommandError(f"{path} exists and is not a chainrule model; choose another name with --out")
    module.main(path)
    print()
    print("and the separate inference program, loading that file:")
    importlib.import_module("chainrule.examples.seed_002_xor_predict").main(path)
    print()
    print(f"the model is in {Path(path).resolve()}; run the inference program yourself with:")
    print(f"  {module.predict_command(path)}")
    print(f"or look inside it with:  chainrule info {path}")
    return 0


def tour() -> int:
    """All five seeds, each reduced to the numbers its tutorial prints."""
    from chainrule.examples import (
        seed_000_truth_table,
        seed_001_admissions,
        seed_002_xor_train,
        seed_003_matrix_backprop,
        seed_004_study_hours,
    )

    print("chainrule: backpropagation on NumPy, reproducing five classic tutorials\n")
    s0 = seed_000_truth_table.run()
    print("000  3-4-1 sigmoid network, 5000 steps on a truth table")
    print(f"     test input [1, 0, 0] -> {s0['test_output'][0]:.8f}  (tutorial: 0.99619533)")
    print(f"     steps to reach 0.99: {s0['iterations_to_099']}  (the tutorial prints 1010, an off-by-ten)")
    s1 = seed_001_admissions.run()
    changes = np.array2string(s1["step"].layers[1].changes["W"].ravel(), precision=8)
    print("001  one worked backprop step, then graduate admissions")
    print(f"     hidden->output weight changes {changes}  (tutorial: [0.00804047 0.00555918])")
    print(f"     test accuracy {s1['accuracy']:.3f}  (tutorial: 0.725)")
    net, history = seed_002_xor_train.train_sigmoid()
    outputs = np.round(net.predict(seed_002_xor_train.X).ravel(), 3)
    print("002  XOR with a 3-4-1 sigmoid network, 1000 steps, saved and reloaded by a separate program")
    print(
        f"     loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.4f}; outputs for 00 01 10 11: {outputs}"
    )
    _, errors = seed_003_matrix_backprop.hidden_errors()
    _, _, accuracy = seed_003_matrix_backprop.train_digits(epochs=1)
    print("003  output errors sent back through the transposed weights, then online training")
    print(f"     hidden errors e @ W.T = {np.array2string(errors, precision=3)}")
    print(f"     one epoch of one-sample steps on 8x8 glyph digits: held-out accuracy {accuracy:.3f}")
    s4 = seed_004_study_hours.run()
    print("004  test score from hours studied and slept")
    print(f"     4 h and 8 h -> {s4['score']:.1f} points, scaled with the training maxima {s4['x_max']}")
    print()
    print("Each demo in full:  chainrule demo 000 | 001 | 002 | 003 | 004")
    print("Your own data:      chainrule train data.csv --target COLUMN --out model.npz")
    print("One step explained: chainrule explain seed001   (also seed000, seed002, seed004)")
    return 0
