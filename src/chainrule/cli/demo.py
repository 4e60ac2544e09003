"""``chainrule demo``: the seed tutorials on their built-in data, or a short tour."""

from __future__ import annotations

import argparse
import importlib
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.cli.inputs import CommandError


def add_parser(sub: Any) -> None:
    """Add the ``demo`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser("demo", help="run the seed tutorials on their built-in data")
    p.add_argument("name", nargs="?", help="000, 001, 002, 003 or 004 (default: a short tour)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule demo``; return the exit code."""
    from chainrule.examples import SEEDS

    if args.name:
        key = args.name.removeprefix("seed").removeprefix("_")
        if key not in SEEDS:
            raise CommandError(f"unknown demo {args.name!r}; choose one of: {', '.join(SEEDS)}")
        module = importlib.import_module(f"chainrule.examples.{SEEDS[key]}")
        if key == "002":
            with tempfile.TemporaryDirectory() as folder:
                model = str(Path(folder) / "xor_model.npz")
                module.main(model)
                print()
                print("and the separate inference program, loading that file:")
                importlib.import_module("chainrule.examples.seed_002_xor_predict").main(model)
        else:
            module.main()
        return 0
    return _tour()


def _tour() -> int:
    from chainrule.examples import seed_000_truth_table, seed_001_admissions, seed_004_study_hours

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
    s4 = seed_004_study_hours.run()
    print("004  test score from hours studied and slept")
    print(f"     4 h and 8 h -> {s4['score']:.1f} points, scaled with the training maxima {s4['x_max']}")
    print()
    print("Each demo in full:  chainrule demo 000 | 001 | 002 | 003 | 004")
    print("Your own data:      chainrule train data.csv --target COLUMN --out model.npz")
    print("One step explained: chainrule explain seed001")
    return 0
