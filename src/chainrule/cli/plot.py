"""``chainrule plot``: loss curves, a decision boundary, a model's activations, its outputs over training.

The command selects matplotlib's Agg backend itself (the library's plot functions never change
the backend), draws with `chainrule.teaching.plots`, and closes each figure once written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from chainrule.cli.files import CommandError, Output, check_outputs
from chainrule.cli.inputs import load_model, load_table_model, read_table, split_list
from chainrule.cli.options import PLOT_SUFFIXES
from chainrule.io.tables import pandas_module

KINDS = {
    "history": (
        "HISTORY.csv",
        "training and validation loss per epoch, from a file written by `train --history`",
    ),
    "boundary": (
        "MODEL DATA",
        "the predicted class over the plane of two numeric inputs (--x, --y; default the first "
        "two), the other inputs held at DATA's medians or most frequent values (or --hold), with "
        "DATA's points on top; regions, points and legend share one colour per class",
    ),
    "activations": (
        "[MODEL DATA]",
        "with MODEL DATA: the distribution of each hidden layer's outputs on DATA's rows, and per "
        "unit the share of rows where it is dead (ReLU at 0) or saturated (sigmoid/tanh); "
        "without: every activation function and its derivative",
    ),
    "steps": (
        "[MODEL]",
        "with MODEL: the outputs of a few training rows after each epoch, as recorded by "
        "`chainrule train`; without: seed 000's test output against its training steps",
    ),
}


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``plot`` subcommand to the ``chainrule`` parser's subparsers."""
    kinds = "\n".join(f"  {kind} {args}\n      {text}" for kind, (args, text) in KINDS.items())
    p = sub.add_parser(
        "plot",
        parents=parents,
        help="loss curves, decision boundary, a model's activations, outputs over training",
        description=f"Draw a figure and write it as PNG, SVG or PDF. The kinds:\n{kinds}",
    )
    p.add_argument("kind", choices=list(KINDS), help="what to draw (see above)")
    p.add_argument(
        "source", nargs="?", help="history CSV (history) or model file (boundary, activations, steps)"
    )
    p.add_argument("data", nargs="?", help="data file (boundary, activations)")
    p.add_argument("--out", required=True, help="the .png, .svg or .pdf to write")
    p.add_argument("--x", help="boundary: the numeric input on the horizontal axis")
    p.add_argument("--y", help="boundary: the numeric input on the vertical axis")
    p.add_argument("--hold", help="boundary: values of the other inputs, as COLUMN=VALUE,...")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule plot``; return the exit code."""
    usage = f"chainrule plot {args.kind} {KINDS[args.kind][0]} --out FILE.png".replace("  ", " ")
    wanted = KINDS[args.kind][0].strip("[]").split()
    given = [value for value in (args.source, args.data) if value]
    optional = KINDS[args.kind][0].startswith("[")
    if len(given) > len(wanted) or (len(given) < len(wanted) and not (optional and not given)):
        raise CommandError(
            f"plot {args.kind} takes {KINDS[args.kind][0]}, got {len(given)} file(s); usage: {usage}"
        )
    check_outputs(
        {"the model or history file": args.source, "the data file": args.data},
        [Output("--out", args.out, PLOT_SUFFIXES)],
    )
    draw: Callable[[Any], Any] = DRAW[args.kind](args, usage)
    with_agg(draw, args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def with_agg(draw: Callable[[Any], Any], path: str) -> None:
    """Select matplotlib's Agg backend, let ``draw(plots)`` make a figure, write it to ``path``, close it."""
    try:
        import matplotlib
    except ImportError:
        raise CommandError('plotting needs matplotlib: pip install "chainrule[cli]"') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from chainrule.teaching import plots

    fig = draw(plots)
    try:
        plots.save_figure(fig, path)
    finally:
        plt.close(fig)


def save_loss_plot(history: dict[str, Any], path: str, title: str = "") -> None:
    """Write the loss curves of ``history`` to ``path`` (for ``train --plot``)."""
    with_agg(lambda plots: plots.loss_curves(history, title=title), path)


def _history(args: argparse.Namespace, usage: str) -> Callable[[Any], Any]:
    frame = read_table(args.source, usage)
    if "loss" not in frame.columns:
        raise CommandError(f"{args.source} has no 'loss' column: pass a file written by train --history")
    curves = {c: frame[c].to_numpy(dtype=float) for c in frame.columns if c != "epoch"}
    return lambda plots: plots.loss_curves(curves)


def _boundary(args: argparse.Namespace, usage: str) -> Callable[[Any], Any]:
    model = load_table_model(args.source, usage)
    prep = model.preprocessor
    if prep.task != "classification":
        raise CommandError("plot boundary needs a classification model; this one is a regression")
    frame = read_table(args.data, usage)
    if prep.target not in frame.columns:
        raise CommandError(f"{args.data} has no target column {prep.target!r} to colour the points by")
    raw_numeric = [c for c in model.feature_names if c not in prep.categorical]  # derived ones: raw
    axes = boundary_axes(raw_numeric, args.x, args.y)
    held = held_values(frame, model.feature_names, axes, args.hold)
    if held:
        said = ", ".join(f"{column}={value}" for column, value in held.items())
        print(
            f"plot boundary: {axes[0]} and {axes[1]} vary; the other inputs are held at {said} "
            "(medians and most frequent values of DATA; --hold COLUMN=VALUE to choose)",
            file=sys.stderr,
        )
    pd = pandas_module()

    def transform(grid: Any) -> Any:
        rows = pd.DataFrame({column: [value] * len(grid) for column, value in held.items()})
        rows[axes[0]], rows[axes[1]] = grid[:, 0], grid[:, 1]
        return model.transform(rows)

    shown = frame.dropna(subset=[*axes, prep.target])  # a point needs both coordinates and a class
    points = shown[list(axes)].to_numpy(dtype=float)
    labels = prep.decode(prep.encode_target(shown[prep.target]))

    def draw(plots: Any) -> Any:
        fig = plots.decision_boundary(
            model.network, points, labels, classes=prep.classes, feature_names=axes, transform=transform
        )
        if held:
            text = ", ".join(f"{c}={v}" for c, v in held.items())
            fig.axes[0].set_title(f"held: {text[:90]}{'...' if len(text) > 90 else ''}", fontsize=8)
        return fig

    return draw


def boundary_axes(numeric: list[str], x: str | None, y: str | None) -> tuple[str, str]:
    """The two numeric inputs a boundary plot varies: ``--x`` and ``--y``, else the first two."""
    for flag, name in (("--x", x), ("--y", y)):
        if name is not None and name not in numeric:
            raise CommandError(f"{flag} {name!r} is not a numeric input of the model ({', '.join(numeric)})")
    rest = [c for c in numeric if c not in (x, y)]
    chosen = [x or (rest.pop(0) if rest else None), y or (rest.pop(0) if rest else None)]
    if None in chosen or chosen[0] == chosen[1]:
        raise CommandError(f"plot boundary needs two numeric inputs; this model has: {', '.join(numeric)}")
    return str(chosen[0]), str(chosen[1])


def held_values(frame: Any, inputs: list[str], axes: tuple[str, str], hold: str | None) -> dict[str, Any]:
    """Each other input's value: ``--hold`` pairs, else DATA's median (numbers) or most frequent value."""
    given = dict(item.partition("=")[::2] for item in split_list(hold, "--hold"))
    unknown = sorted(set(given) - set(inputs) | set(given) & set(axes))
    if unknown:
        raise CommandError(f"--hold names {unknown}: hold only the other inputs ({', '.join(inputs)})")
    held: dict[str, Any] = {}
    for column in inputs:
        if column in axes:
            continue
        values = frame[column].dropna()
        if column in given:
            held[column] = given[column]
        elif values.dtype.kind in "iuf":
            held[column] = float(values.median())
        else:
            held[column] = values.mode().iloc[0]
    return held


def _activations(args: argparse.Namespace, usage: str) -> Callable[[Any], Any]:
    if not args.source:
        print("no model given: drawing every activation function and its derivative", file=sys.stderr)
        return lambda plots: plots.activation_functions()
    model = load_table_model(args.source, usage)
    X = model.transform(read_table(args.data, usage))
    return lambda plots: plots.hidden_activations(model.network, X)


def _steps(args: argparse.Namespace, usage: str) -> Callable[[Any], Any]:
    if not args.source:
        from chainrule.examples import seed_000_truth_table

        print("no model given: drawing seed 000's test output against its training steps", file=sys.stderr)
        result = seed_000_truth_table.run()
        return lambda plots: plots.output_vs_steps(result["steps"], result["test_output_curve"], target=0.99)
    model = load_model(args.source, usage)
    trajectory = (model.metadata.get("training") or {}).get("trajectory")
    if not trajectory:
        raise CommandError(
            f"{args.source} has no recorded outputs over training (it was not trained by this "
            "version of `chainrule train`); retrain it to plot them"
        )
    try:
        rows, truth, epochs = trajectory["rows"], trajectory["truth"], trajectory["epochs"]
        outputs, what = trajectory["outputs"], trajectory["output"]
    except (KeyError, TypeError) as exc:
        raise CommandError(f"{args.source}: its recorded outputs are damaged (missing {exc})") from None
    classification = what != "prediction"
    labels = [
        f"{row} ({'class ' if classification else 'target '}{t})" for row, t in zip(rows, truth, strict=True)
    ]
    return lambda plots: plots.output_vs_steps(
        epochs,
        outputs,
        target=1.0 if classification else truth,
        labels=labels,
        xlabel="epoch",
        ylabel=what,
        title=f"{args.source}: outputs of {len(rows)} training rows over training",
    )


DRAW = {"history": _history, "boundary": _boundary, "activations": _activations, "steps": _steps}
