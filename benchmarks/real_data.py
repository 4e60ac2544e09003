"""Quality of the defaults on real tables: chainrule's against scikit-learn's MLP.

    python benchmarks/real_data.py                  # 8 tables x 5 seeds, writes docs/performance.md
    python benchmarks/real_data.py --seeds 2 iris   # a quick look, printed only (--no-write)

Each table is split by the seed into 75% training and 25% held-out test rows (stratified for
classes); every contender trains on the training rows with its defaults and is scored on the
test rows (accuracy, or R^2 for regression). The contenders:

* ``chainrule train``: `chainrule.train_table` on the raw training rows, every option at its
  default but the seed (what ``chainrule train DATA --target T`` does);
* ``estimators``: `chainrule.sklearn.NeuralNetClassifier` / ``NeuralNetRegressor`` with
  defaults but ``random_state``;
* ``sklearn MLP``: scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` with its defaults
  (``max_iter=200``) and with ``max_iter=2000``.

The estimators and scikit-learn get the same array inputs: the columns ``chainrule train``
chooses (an identifier column such as cars' ``Name`` left out), numbers standardised and text
one-hot encoded, fitted on the training rows only. Regression targets are left in their units
(scikit-learn's MLP does not scale them; chainrule's estimator and ``train`` do by default).
Tables: scikit-learn's five bundled ones, the seeds' admissions table (``chainrule.datasets``),
and penguins and cars, shipped in ``benchmarks/data/`` (see its README for provenance); rows
with a missing cell are dropped from penguins (11) and cars (14) before splitting.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "performance.md"
BEGIN, END = "<!-- real-data table: begin (benchmarks/real_data.py) -->", "<!-- real-data table: end -->"


def _sklearn_table(loader: str, target: str) -> Callable[[], Any]:
    def load() -> Any:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)(as_frame=True)
        frame = bunch.frame.copy()
        frame.columns = [str(c) for c in frame.columns]
        if target == "class":  # numeric labels as text, so the task is never in doubt
            frame[target] = frame[target].astype(str)
        return frame

    return load


def _csv(name: str, drop_missing: bool = True) -> Callable[[], Any]:
    def load() -> Any:
        import pandas as pd

        frame = pd.read_csv(HERE / "data" / name)
        return frame.dropna().reset_index(drop=True) if drop_missing else frame

    return load


def _admissions() -> Any:
    import pandas as pd

    from chainrule.datasets import admissions_path

    return pd.read_csv(admissions_path())


#: name -> (loader, target, task)
TABLES: dict[str, tuple[Callable[[], Any], str, str]] = {
    "iris": (_sklearn_table("load_iris", "target"), "target", "classification"),
    "wine": (_sklearn_table("load_wine", "target"), "target", "classification"),
    "breast_cancer": (_sklearn_table("load_breast_cancer", "target"), "target", "classification"),
    "digits": (_sklearn_table("load_digits", "target"), "target", "classification"),
    "diabetes": (_sklearn_table("load_diabetes", "target"), "target", "regression"),
    "admissions": (_admissions, "admit", "classification"),
    "penguins": (_csv("penguins.csv"), "species", "classification"),
    "cars": (_csv("cars.csv"), "Miles_per_Gallon", "regression"),
}
CONTENDERS = ("chainrule train", "estimators", "sklearn MLP", "sklearn MLP max_iter=2000")


def split(frame: Any, target: str, task: str, seed: int) -> tuple[Any, Any]:
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if task == "classification" else None
    train, test = train_test_split(frame, test_size=0.25, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def arrays(train: Any, test: Any, target: str, task: str) -> tuple[np.ndarray, ...]:
    """The inputs ``chainrule train`` would make, fitted on the training rows, for every contender."""
    from chainrule.io.preprocessing import TablePreprocessor
    from chainrule.table.columns import choose_columns

    chosen, _ = choose_columns(train, target)
    prep = TablePreprocessor.fit(train, target, features=chosen, task=task)
    prep.unknown = "ignore"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_test = prep.transform(test)
    return prep.transform(train), train[target].to_numpy(), X_test, test[target].to_numpy()


def score(task: str, truth: np.ndarray, predicted: np.ndarray) -> float:
    if task == "classification":
        return float(np.mean(np.asarray(truth).astype(str) == np.asarray(predicted).astype(str)))
    truth, predicted = np.asarray(truth, dtype=float), np.asarray(predicted, dtype=float)
    return 1.0 - float(np.sum((truth - predicted) ** 2) / np.sum((truth - truth.mean()) ** 2))


def run_one(name: str, seed: int) -> dict[str, tuple[float, float]]:
    """Every contender's test score and training seconds on one table and seed."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    import chainrule as cr
    from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor

    load, target, task = TABLES[name]
    train, test = split(load(), target, task, seed)
    X, y, X_test, y_test = arrays(train, test, target, task)
    ours, theirs = (
        (NeuralNetClassifier, MLPClassifier)
        if task == "classification"
        else (NeuralNetRegressor, MLPRegressor)
    )
    fits: dict[str, Callable[[], Any]] = {
        "chainrule train": lambda: cr.train_table(train, target, task=task, seed=seed).predict(test),
        "estimators": lambda: ours(random_state=seed).fit(X, y).predict(X_test),
        "sklearn MLP": lambda: theirs(random_state=seed).fit(X, y).predict(X_test),
        "sklearn MLP max_iter=2000": lambda: (
            theirs(random_state=seed, max_iter=2000).fit(X, y).predict(X_test)
        ),
    }
    results = {}
    for contender, fit in fits.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predicted = fit()
        results[contender] = (score(task, y_test, predicted), time.perf_counter() - start)
    return results


def table(scores: dict[str, dict[str, list[float]]], seeds: int) -> str:
    """The Markdown table: mean +/- standard deviation over seeds, per table and contender."""
    head = "| table (rows, metric) | " + " | ".join(CONTENDERS) + " |"
    lines = [head, "|---" * (len(CONTENDERS) + 1) + "|"]
    for name, by_contender in scores.items():
        load, _target, task = TABLES[name]
        rows = len(load())
        metric = "accuracy" if task == "classification" else "R^2"
        cells = []
        best = max(statistics.mean(v) for v in by_contender.values())
        for contender in CONTENDERS:
            values = by_contender[contender]
            mean = statistics.mean(values)
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            text = f"{mean:.3f} ± {spread:.3f}"
            cells.append(f"**{text}**" if mean == best else text)
        lines.append(f"| {name} ({rows}, {metric}) | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Mean ± standard deviation over {seeds} seeds (each its own 75/25 split and initial "
        "weights), scored on the held-out 25%; the best mean in bold."
    )
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOC} has no markers {BEGIN!r} ... {END!r}")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    DOC.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", doc))


def one_thread() -> None:
    """One BLAS thread: these networks are small, and spare threads only wait on a busy machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="*", help=f"some of: {', '.join(TABLES)} (default: every one)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print the table, leave the docs alone")
    args = parser.parse_args(argv)
    one_thread()
    names = args.tables or list(TABLES)
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        parser.error(f"unknown tables {unknown}; choose from: {', '.join(TABLES)}")
    scores: dict[str, dict[str, list[float]]] = {}
    for name in names:
        scores[name] = {c: [] for c in CONTENDERS}
        for seed in range(args.seeds):
            for contender, (value, seconds) in run_one(name, seed).items():
                scores[name][contender].append(value)
                print(f"{name} seed {seed} {contender}: {value:.4f} ({seconds:.1f} s)", file=sys.stderr)
    text = table(scores, args.seeds)
    print(text)
    if not args.no_write and names == list(TABLES):
        write_doc(text)
        print(f"wrote the table into {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
