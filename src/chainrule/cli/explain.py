"""``chainrule explain``: one backpropagation step of a model, a seed, or sizes, every number printed.

Before the step it prints what the step uses: the weight matrices, the optimizer and learning
rate (a model's own, from its training summary, unless overridden), the sample's columns with
their raw and network values, and any input or target it made up.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.cli.inputs import CommandError, load_model, split_list
from chainrule.io.derived import derive
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.io.tables import pandas_module
from chainrule.table import TableModel
from chainrule.train.optimizers import OPTIMIZERS

USAGE = "chainrule explain MODEL|seedNNN|SIZES [--input ...] [--target ...]"
SEED_001_STEP = {
    "weights": [[[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]], [[0.1], [-0.3]]],
    "input": [[0.5, 0.1, -0.2]],
    "target": [[0.6]],
}
SUMMARY_SIZE = 30  # arrays with more numbers are printed as their corners unless --full
NO_STEP = {
    "003": "seed 003's step is error backpropagation alone (no forward pass): see `chainrule demo 003`"
}


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``explain`` subcommand to the ``chainrule`` parser's subparsers."""
    p = sub.add_parser(
        "explain",
        parents=parents,
        help="print one backprop step with its real numbers",
        description="Print one backpropagation step with every number: the weights used, the "
        "forward pass, the output error, each layer's delta and each weight change. MODEL|SPEC is "
        "a model file, a seed tutorial's step (seed000, seed001, seed002, seed004), or layer "
        "sizes such as 3-4-1 (random weights).",
    )
    p.add_argument("model", metavar="MODEL|SPEC", help="model file, seedNNN, or sizes like 3-4-1")
    p.add_argument(
        "--input",
        help="comma-separated input values: for a CLI-trained model in the table's units and column "
        "order, or name=value pairs",
    )
    p.add_argument("--target", help="comma-separated target value(s), or the class label")
    p.add_argument(
        "--optimizer",
        choices=["sgd", "momentum", "adam", "rmsprop"],
        help="update rule of the step (default: the model's own, else sgd)",
    )
    p.add_argument("--lr", type=float, help="learning rate of the step (default: the model's own)")
    p.add_argument("--loss", help="loss of the step (default: the model's)")
    p.add_argument("--activation", default="sigmoid", help="activation for a sizes spec")
    p.add_argument("--seed", type=int, default=0, help="weights seed for a sizes spec")
    p.add_argument("--scaled", action="store_true", help="--input is already the network's (scaled) input")
    p.add_argument("--markdown", action="store_true", help="print Markdown instead of text")
    p.add_argument(
        "--full",
        action="store_true",
        help="print every number (default: arrays of more than 30 numbers are cut to their corners)",
    )
    p.set_defaults(func=run)


@dataclass
class Step:
    """What one explained step uses, and the notes that say where each part came from."""

    net: cr.Network
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    loss: str | None = None
    optimizer: str = "sgd"
    lr: float = 0.1
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    prep: TablePreprocessor | None = None


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule explain``; return the exit code."""
    spec = args.model
    key = spec.lower().removeprefix("seed").removeprefix("_")
    if Path(spec).is_file():
        step = model_step(spec)
    elif spec.lower().startswith("seed") and key in SEED_STEPS:
        step = SEED_STEPS[key]()
    elif spec.lower().startswith("seed"):
        reason = NO_STEP.get(key, "there is no such seed")
        raise CommandError(f"{spec}: {reason}; explain shows seed000, seed001, seed002 and seed004")
    elif spec.count("-") >= 1 and all(part.isdigit() for part in spec.split("-")):
        step = sizes_step(spec, args)
    else:
        raise CommandError(
            f"{spec!r} is not a model file, a seed (seed000 .. seed004), or sizes such as 3-4-1"
        )
    apply_options(step, args)
    optimizer = make_optimizer(step)
    trace = cr.trace_step(step.net, step.X, step.y, loss=step.loss, optimizer=optimizer, apply=False)
    notes = [*step.notes, f"optimizer: {optimizer.name}, lr {optimizer.lr:g}"]
    if not args.full and any(layer.params["W"].size > SUMMARY_SIZE for layer in step.net.dense_layers):
        notes.append(
            f"arrays of more than {SUMMARY_SIZE} numbers are cut to their corners (...); --full prints all"
        )
    with np.printoptions(threshold=sys.maxsize if args.full else SUMMARY_SIZE, edgeitems=3):
        print_step(args.markdown, notes, step, trace)
    if optimizer.name in ("adam", "rmsprop"):
        print(
            f"note: {optimizer.name} divides each gradient by a running average of its size; from a fresh "
            f"state its first step moves each weight by about lr = {optimizer.lr:g} against the gradient, "
            "so the weight changes above are its own, not -lr * gradient"
        )
    if optimizer.state_keys():
        print(
            f"note: explain starts {optimizer.name} from a fresh state (a model file keeps no velocity "
            "or moments), so this is its step t = 1; in a running training (or the playground) the same "
            "formulas take that run's state, which chainrule.trace_step(net, X, y, optimizer=opt) shows"
        )
    return 0


def print_step(markdown: bool, notes: list[str], step: Step, trace: cr.StepTrace) -> None:
    """Print the step, what it used and the weights, as text or Markdown."""
    if markdown:  # the step's heading first, then where its numbers came from
        print(trace.format("markdown"))
        print("\n### What the step used\n")
        print(
            "\n".join(f"- {note}" if not note.startswith("  ") else f"  - {note.strip()}" for note in notes)
        )
        print(weights_text(step.net, markdown=True))
    else:
        print("\n".join(notes))
        print(weights_text(step.net, markdown=False))
        print(trace.format("text"))


def apply_options(step: Step, args: argparse.Namespace) -> None:
    """Fold --input, --target, --optimizer, --lr and --loss into ``step``, noting each override."""
    if args.optimizer or args.lr is not None:
        step.optimizer = args.optimizer or step.optimizer
        step.lr = args.lr if args.lr is not None else step.lr
        step.config = {}
        step.notes.append(f"using {step.optimizer} lr {step.lr:g}, as the command line asks")
    step.loss = args.loss or step.loss
    if step.prep is not None and not args.scaled:
        if args.input is None or args.target is None:
            columns = ", ".join(step.prep.columns or [*step.prep.numeric, *step.prep.categorical])
            raise CommandError(
                f"explain needs --input (values for: {columns}) and --target ({step.prep.target}) "
                "for this model"
            )
        step.X, step.y = table_sample(step.prep, args.input, args.target, step.notes)
        return
    if args.input is not None:
        step.X = np.array([[float(v) for v in split_list(args.input, "--input")]])
    if args.target is not None:
        step.y = np.array([[float(v) for v in split_list(args.target, "--target")]])
    if step.X is None or step.y is None:
        raise CommandError("explain needs --input and --target for a model file")


def model_step(path: str) -> Step:
    """A model file's step: its own optimizer and learning rate when its summary records them."""
    model = load_model(path, USAGE)
    if isinstance(model, TableModel):
        step = Step(model.network, prep=model.preprocessor)
    else:
        step = Step(model)
    training = model.metadata.get("training")
    config = training.get("optimizer") if isinstance(training, dict) else None
    if (
        isinstance(config, dict)
        and config.get("name") in OPTIMIZERS
        and isinstance(config.get("lr"), (int, float))
    ):
        step.optimizer, step.lr, step.config = config["name"], float(config["lr"]), config
        step.notes.append(
            f"the model's own optimizer, from its training summary: {config['name']} lr {config['lr']:g}"
        )
    else:
        step.notes.append(
            f"{path} records no optimizer: using sgd lr {step.lr:g} (choose with --optimizer and --lr)"
        )
    return step


def make_optimizer(step: Step) -> cr.Optimizer:
    """The step's optimizer, with every setting its stored configuration has."""
    if step.config:
        settings = {k: v for k, v in step.config.items() if k != "name"}
        try:
            return OPTIMIZERS[step.optimizer](**settings)
        except (TypeError, ValueError):
            step.notes.append("(its stored settings are not all understood: using its name and lr only)")
    return cr.get_optimizer(step.optimizer, step.lr)


def table_sample(
    prep: TablePreprocessor, raw_input: str, raw_target: str, notes: list[str]
) -> tuple[Any, Any]:
    """The network's input and target for one row given in the table's own units, noted column by column.

    ``--input`` holds the values in the training table's column order, or ``name=value``
    pairs in any order (a column the model can fill may be left out).
    """
    pd = pandas_module()
    row = pd.DataFrame([input_row(prep, raw_input)])
    for column in prep.inputs:
        if column not in prep.categorical:
            row[column] = pd.to_numeric(row[column], errors="coerce")
    X = prep.transform(row)
    shown, formulas = derive(row, prep.derived), {step.name: f" = {step.text()}" for step in prep.derived}
    target = float(raw_target) if prep.task == "regression" else raw_target
    y = prep.encode_target(pd.Series([target]))
    notes.append("the sample, column by column (raw value -> network input):")
    position = len(prep.numeric)
    for j, column in enumerate(prep.numeric):
        value, formula = shown[column].iloc[0], formulas.get(column, "")
        notes.append(f"  {column}{formula}: {value} -> {X[0, j]:.8g} ({prep.scaler.method} scaling)")
    for column, categories in prep.categorical.items():
        one_hot = ", ".join(f"{column}={c} {X[0, position + i]:g}" for i, c in enumerate(categories))
        if len(categories) > 8:
            hot = [c for i, c in enumerate(categories) if X[0, position + i]]
            one_hot = f"{column}={hot[0] if hot else '(none)'} 1, the other {len(categories) - len(hot)} 0"
        notes.append(f"  {column}: {row[column].iloc[0]} -> {one_hot}")
        position += len(categories)
    notes.append(f"  target {prep.target}: {raw_target} -> {np.array2string(y[0], precision=8)}")
    return X, y


def input_row(prep: TablePreprocessor, raw_input: str) -> dict[str, Any]:
    """``--input`` as one row: values in the table's column order, or ``name=value`` pairs."""
    columns = prep.columns or [*prep.numeric, *prep.categorical]
    values = split_list(raw_input, "--input")
    pairs = [value.partition("=") for value in values]
    if all(sep and name.strip() in columns for name, sep, _ in pairs):
        given = {name.strip(): value.strip() for name, _, value in pairs}
        absent = [c for c in columns if c not in given and c not in prep.fill]
        if absent:
            raise CommandError(f"--input has no value for {', '.join(absent)} (name=value pairs)")
        return {c: given.get(c, prep.fill.get(c)) for c in columns}
    if len(values) != len(columns):
        raise CommandError(
            f"--input needs {len(columns)} values, in the table's column order: {', '.join(columns)} "
            "(or name=value pairs, such as --input "
            f"{columns[0]}=...)"
        )
    return dict(zip(columns, values, strict=True))


def sizes_step(spec: str, args: argparse.Namespace) -> Step:
    """A network of the given sizes with random weights; inputs and targets made up unless given."""
    sizes = [int(part) for part in spec.split("-")]
    if any(n < 1 for n in sizes):
        raise CommandError(f"{spec}: every layer needs at least one unit")
    net = cr.Network(sizes, activation=args.activation, seed=args.seed)
    step = Step(net, loss="half_sse", lr=0.5)
    step.notes.append(f"weights: random, drawn with --seed {args.seed}; activation {args.activation}")
    if args.input is None:
        step.X = np.full((1, sizes[0]), 0.5)
        step.notes.append(f"no --input given: made up an input of 0.5 for each of the {sizes[0]} inputs")
    if args.target is None:
        step.y = np.ones((1, sizes[-1]))
        step.notes.append(f"no --target given: made up a target of 1 for each of the {sizes[-1]} outputs")
    step.notes.append("loss half_sse and sgd lr 0.5 unless --loss, --optimizer or --lr say otherwise")
    return step


def seed000() -> Step:
    from chainrule.examples import seed_000_truth_table as seed

    step = Step(seed.build_network(), seed.X.astype(float), seed.y.astype(float), "half_sse", "sgd", 1.0)
    step.notes.append(
        "seed 000: the truth table's first step, all 4 rows at once, step size 1, tutorial weights"
    )
    return step


def seed001() -> Step:
    weights = SEED_001_STEP["weights"]
    net = cr.Network(
        [
            cr.Dense(3, 2, "sigmoid", bias=False, weights=weights[0]),
            cr.Dense(2, 1, "sigmoid", bias=False, weights=weights[1]),
        ]
    )
    step = Step(
        net, np.array(SEED_001_STEP["input"]), np.array(SEED_001_STEP["target"]), "half_sse", "sgd", 0.5
    )
    step.notes.append("seed 001: the Udacity lesson's worked step (x = 0.5, 0.1, -0.2; target 0.6; lr 0.5)")
    return step


def seed002() -> Step:
    from chainrule.examples import seed_002_xor_train as seed

    step = Step(seed.build_sigmoid(), seed.X.astype(float), seed.y.astype(float), "sse", "sgd", 1.0)
    step.notes.append("seed 002: XOR's first step, all 4 rows (third input the constant 1), step size 1")
    return step


def seed004() -> Step:
    from chainrule.examples import seed_004_study_hours as seed

    x_max = seed.X.max(axis=0)
    step = Step(seed.build_network(), seed.X / x_max, seed.y / 100, "half_sse", "sgd", 1.0)
    step.notes.append(
        f"seed 004: hours studied and slept scaled by the training maxima {x_max}, scores by 100; "
        "the first of 1000 full-batch steps"
    )
    return step


SEED_STEPS = {"000": seed000, "001": seed001, "002": seed002, "004": seed004}


def weights_text(net: cr.Network, markdown: bool) -> str:
    """The weight matrices (and biases) the step multiplies, layer by layer."""
    lines = ["weights used (W_l maps layer l-1 to layer l; rows: inputs, columns: units):"]
    for number, layer in enumerate(net.dense_layers, start=1):
        for key, value in layer.params.items():
            text = np.array2string(value, precision=8, max_line_width=100)
            first, *rest = text.splitlines()
            label = f"  {key}{number} = "
            lines.append(label + first)
            lines.extend(" " * len(label) + row for row in rest)
    if markdown:
        return "\n" + lines[0] + "\n\n```\n" + "\n".join(lines[1:]) + "\n```"
    return "\n".join(lines) + "\n"
