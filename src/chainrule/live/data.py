"""The playground's data: built-in 2-D sets, and tables read exactly as ``chainrule train`` reads them.

This module holds the playground's only imports from inside the library's modules
(`TablePreprocessor`, `read_table`, the missing-cell policy `clean_missing` and the derived
input features of `chainrule.io.derived`), so a restructuring of the package is one edit here.
"""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.io.cleaning import MISSING, clean_missing  # noqa: F401 (MISSING: for config.py)
from chainrule.io.derived import derive, playground_steps
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.io.tables import pandas_module, read_table

BUILTIN = {
    "circle": "circle (2 classes)",
    "xor": "XOR (2 classes)",
    "gauss": "two Gaussians (2 classes)",
    "spiral": "spiral (2 classes)",
    "blobs3": "3 blobs (3 classes)",
    "blobs5": "5 blobs (5 classes)",
    "surface": "regression surface",
}
MAX_VIEW_POINTS = 2000


class DataError(cr.ChainruleError):
    """A data set the playground cannot use, with a message for the page."""


def builtin_frame(name: str, n: int = 300, noise: float = 0.0, seed: int = 0) -> Any:
    """A built-in 2-D data set as a table with columns ``x1``, ``x2`` and the target.

    Coordinates lie in about [-6, 6] as in TensorFlow Playground; ``noise`` (0 to 1) blurs the
    classes. Classification sets have an integer ``label``; the regression surface a real ``y``.
    """
    if name not in BUILTIN:
        raise DataError(f"unknown data set {name!r}; choose one of: {', '.join(BUILTIN)}")
    rng = np.random.default_rng([int(seed), 7])
    n = int(np.clip(n, 10, 5000))
    noise = float(np.clip(noise, 0.0, 1.0))
    if name == "surface":
        points = rng.uniform(-6, 6, (n, 2))
        x, y = points[:, 0], points[:, 1]
        value = np.sin(x / 2) * 3 + np.cos(y / 2.5) * 2 + 0.1 * x * y
        value = value + rng.normal(0, 3 * noise + 1e-3, n)
        return pandas_module().DataFrame({"x1": points[:, 0], "x2": points[:, 1], "y": value})
    points, labels = _CLASSIFIERS[name](rng, n)
    points = points + rng.normal(0, 1.0, points.shape) * noise * 1.5
    return pandas_module().DataFrame({"x1": points[:, 0], "x2": points[:, 1], "label": labels})


def _circle(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    inside = np.arange(n) % 2 == 0
    radius = np.where(inside, rng.uniform(0, 2.5, n), rng.uniform(3.5, 5.0, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]), inside.astype(int)


def _xor(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    points = rng.uniform(-5, 5, (n, 2))
    points += np.sign(points) * 0.3  # a margin around the axes
    return points, (points[:, 0] * points[:, 1] >= 0).astype(int)


def _gauss(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.arange(n) % 2
    centres = np.where(labels[:, None] == 1, 2.0, -2.0)
    return centres + rng.normal(0, 1.0, (n, 2)), labels


def _spiral(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.arange(n) % 2
    t = rng.uniform(0, 1, n)
    r = 5 * t
    angle = 1.75 * t * 2 * np.pi + labels * np.pi
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)]), labels


def _blobs(k: int) -> Any:
    def make(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(n) % k
        angle = 2 * np.pi * labels / k + 0.3
        centres = np.column_stack([3.5 * np.cos(angle), 3.5 * np.sin(angle)])
        return centres + rng.normal(0, 0.9, (n, 2)), labels

    return make


_CLASSIFIERS = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "blobs3": _blobs(3),
    "blobs5": _blobs(5),
}


def read_path(path: str) -> Any:
    """A table from a file named on the command line (CSV, or ``.npz``/``.npy`` as ``train`` reads)."""
    pandas_module()
    return read_table(path)


def read_upload(data: bytes, filename: str = "upload.csv") -> Any:
    """A table from uploaded CSV bytes, read by the same function as ``chainrule train``.

    The bytes go to a private temporary file (the page never names a path); messages name
    the uploaded file, not the temporary one.
    """
    pandas_module()
    name = os.path.basename(filename or "upload.csv") or "upload.csv"
    handle, path = tempfile.mkstemp(suffix=".csv", prefix="chainrule-upload-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        return read_table(path)
    except (cr.ChainruleError, ValueError) as exc:
        raise DataError(" ".join(str(exc).replace(path, name).split())) from None
    finally:
        os.unlink(path)


@dataclass
class Prepared:
    """A table turned into network inputs and targets, split into training and test rows."""

    frame: Any
    prep: TablePreprocessor
    X: np.ndarray
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray
    view: tuple[int, int] = (0, 1)
    held_row: int = 0
    view_reason: str = ""
    plane: np.ndarray | None = None  # a built-in set's raw x1, x2: the view's axes
    grids: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def task(self) -> str:
        return self.prep.task

    @property
    def features(self) -> list[str]:
        return self.prep.feature_names

    def labels(self) -> np.ndarray:
        """Class index (classification) or scaled target value (regression) of every row."""
        if self.task == "regression":
            return self.y[:, 0]
        return self.y.argmax(axis=1) if self.y.shape[1] > 1 else self.y[:, 0].astype(int)

    def describe(self) -> dict[str, Any]:
        """What the page needs to draw the points (at most `MAX_VIEW_POINTS` of them)."""
        rows = np.arange(len(self.X))
        if rows.size > MAX_VIEW_POINTS:
            rows = np.sort(np.random.default_rng(0).choice(rows, MAX_VIEW_POINTS, replace=False))
        is_test = np.zeros(len(self.X), dtype=bool)
        is_test[self.test] = True
        a, b = self.view
        labels = self.labels()
        xs, ys = (
            (self.plane[:, 0], self.plane[:, 1]) if self.plane is not None else (self.X[:, a], self.X[:, b])
        )
        return {
            "task": self.task,
            "target": self.prep.target,
            "columns": [str(c) for c in self.frame.columns],
            "features": self.features,
            "classes": self.prep.classes,
            "view": list(self.view),
            "plane": self.plane is not None,
            "axes": ["x1", "x2"]
            if self.plane is not None
            else [self.features[i] for i in self.view if i >= 0],
            "view_reason": self.view_reason,
            "held": self.held(),
            "domain": self.domain(),
            "rows": len(self.X),
            "target_scale": [self.prep.target_scaler.offset[0], self.prep.target_scaler.scale[0]]
            if self.task == "regression"
            else None,
            "n_train": int(self.train.size),
            "n_test": int(self.test.size),
            "points": {
                "index": rows.tolist(),
                "x": np.round(xs[rows], 5).tolist(),
                "y": np.round(ys[rows], 5).tolist() if b >= 0 else [0.0] * rows.size,
                "label": np.round(labels[rows], 5).tolist(),
                "test": is_test[rows].astype(int).tolist(),
            },
        }

    def held(self) -> dict[str, Any] | None:
        """The row the inputs outside the view are held at, with those columns' raw values."""
        if self.plane is not None:
            return None  # every input is computed from the view's two axes
        shown = {self.features[i] for i in self.view if i >= 0}
        columns = [
            str(c)
            for c in self.frame.columns
            if str(c) != self.prep.target and str(c) not in shown and str(c) in self._input_columns()
        ]
        if not columns:
            return None
        row = self.frame.iloc[self.held_row]
        values = {c: _plain(row[c]) for c in columns}
        return {
            "row": int(self.held_row),
            "split": "test" if self.held_row in set(self.test.tolist()) else "train",
            "values": values,
        }

    def _input_columns(self) -> set[str]:
        return {str(c) for c in self.prep.inputs}

    def row(self, index: int) -> dict[str, Any]:
        """Row ``index`` as the explain panel shows it: a built-in set's raw ``x1``, ``x2``, then
        its input features (computed by the preprocessing) and target; a table's own cells."""
        cells = derive(self.frame.iloc[index : index + 1], self.prep.derived).iloc[0]
        if self.plane is None:
            return {str(k): v for k, v in cells.items()}
        raw = {"x1": round(float(self.plane[index, 0]), 6), "x2": round(float(self.plane[index, 1]), 6)}
        return {**raw, **{k: cells[k] for k in [*self.features, self.prep.target]}}

    def domain(self) -> list[float]:
        """``[xmin, xmax, ymin, ymax]`` of the view in network (scaled) input units, or in the raw
        units of a built-in set's plane."""
        out = []
        for column in self.view:
            if self.plane is not None:
                values = self.plane[:, column]
            else:
                values = self.X[:, column] if column >= 0 else np.zeros(1)
            lo, hi = float(values.min()), float(values.max())
            pad = max((hi - lo) * 0.08, 0.25)
            out += [round(lo - pad, 4), round(hi + pad, 4)]
        return out

    def grid_inputs(self, size: int) -> np.ndarray:
        """``size * size`` network inputs covering the view, row by row from the top.

        The two viewed features vary; every other input is held at row `held_row`'s value
        (a real row: a categorical column at one real category, never a mix of them). On a
        built-in set every input is its feature of the grid point, scaled as the rows are.
        """
        if size in self.grids:
            return self.grids[size]
        x0, x1, y0, y1 = self.domain()
        xs = np.linspace(x0, x1, size)
        ys = np.linspace(y1, y0, size)
        gx, gy = np.meshgrid(xs, ys)
        if self.plane is not None:  # the raw x1, x2 of each point: the preprocessing derives the rest
            raw = pandas_module().DataFrame({"x1": gx.ravel(), "x2": gy.ravel()})
            self.grids[size] = self.prep.transform(raw)
            return self.grids[size]
        inputs = np.tile(self.X[self.held_row], (size * size, 1))
        inputs[:, self.view[0]] = gx.ravel()
        if self.view[1] >= 0:
            inputs[:, self.view[1]] = gy.ravel()
        self.grids[size] = inputs
        return inputs


def prepare(
    frame: Any,
    target: str | None = None,
    *,
    task: str | None = None,
    train_ratio: float = 0.5,
    seed: int = 0,
    view: tuple[int, int] | None = None,
    held: int | None = None,
    missing: str = "refuse",
    plane: np.ndarray | None = None,
    features: list[str] | None = None,
) -> Prepared:
    """Preprocess ``frame`` as ``chainrule train`` does (standard scaling) and split it.

    ``target`` defaults to the last column; ``task`` to the inferred one; ``view`` (two input
    positions) to the pair `choose_view` picks; ``held`` (a row number) to `typical_row`'s;
    ``missing`` is ``chainrule train --missing`` (one of `MISSING`). ``plane``: a built-in set's
    raw ``x1``, ``x2``, the view's axes whatever the inputs are; ``features``: its chosen input
    features (`chainrule.live.features`), derived from them by the preprocessing. The scaling
    statistics and the missing cells' fill values come from the training rows only, as the test
    rows are held out.
    """
    target = target or str(frame.columns[-1])
    try:
        columns = [str(c) for c in frame.columns if c != target]
        training = functools.partial(training_rows, train_ratio=train_ratio, seed=seed)  # fills from them
        cleaned = (
            clean_missing(frame, columns, target, missing, fit_rows=training)
            if target in frame.columns
            else None
        )
        frame = frame if cleaned is None else cleaned.frame
        if len(frame) < 4:
            raise DataError(f"the table has {len(frame)} rows: the playground needs at least 4")
        train, test = split_rows(len(frame), train_ratio, seed)
        derived = playground_steps(features or [])
        prep = TablePreprocessor.fit(
            frame, target, features=features, task=task or None, derived=derived, rows=train
        )
        prep.fill, prep.missing = ({}, missing) if cleaned is None else (cleaned.fill, missing)
        X, y = prep.transform(frame), prep.encode_target(frame[target])
    except (cr.ChainruleError, ValueError) as exc:
        raise DataError(" ".join(str(exc).split())) from None
    if X.shape[1] == 0:
        raise DataError(f"the table has no input column besides the target {target!r}: add at least one")
    n = X.shape[1]
    if plane is not None:
        reason = "the view is the data set's plane (x1, x2); the network's inputs are computed from it"
        held_row = typical_row(X, train)
        return Prepared(frame, prep, X, y, train, test, (0, 1), held_row, reason, plane)
    if view is None or n < 2:
        view, reason = choose_view(prep, X[train], y[train])
    else:
        view = (min(int(view[0]), n - 1), min(int(view[1]), n - 1))
        if view[0] == view[1]:
            view = (view[0], (view[0] + 1) % n)
        reason = "the view's two inputs were chosen by hand"
    held_row = typical_row(X, train) if held is None or held < 0 or held >= len(X) else int(held)
    return Prepared(frame, prep, X, y, train, test, view, held_row, reason)


def training_rows(rows: int, train_ratio: float, seed: int) -> np.ndarray:
    """The training row positions of `split_rows`."""
    return split_rows(rows, train_ratio, seed)[0]


def split_rows(rows: int, train_ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training and test row positions of a table of ``rows`` rows (each part not empty)."""
    order = np.random.default_rng([int(seed), 11]).permutation(rows)
    n_train = int(np.clip(round(rows * float(train_ratio)), 2, rows - 1))
    return np.sort(order[:n_train]), np.sort(order[n_train:])


def choose_view(prep: TablePreprocessor, X: np.ndarray, y: np.ndarray) -> tuple[tuple[int, int], str]:
    """The two inputs that matter most, and a sentence saying how they were chosen.

    Each numeric input's importance is the size of its coefficient in a least-squares linear
    fit of the (one-hot) target on all the standardised inputs, summed over the target's
    columns: the inputs a linear model leans on most. One-hot columns are only chosen when
    there are fewer than two numeric inputs. Two inputs are shown as they are.
    """
    n = X.shape[1]
    if n == 1:
        return (0, -1), "the table has one input"
    if n == 2:
        return (0, 1), "the table has two inputs, both shown"
    design = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(design, y - y.mean(axis=0), rcond=None)
    importance = np.abs(coef[:-1]).sum(axis=1)
    candidates = list(range(len(prep.numeric))) if len(prep.numeric) >= 2 else list(range(n))
    ranked = sorted(candidates, key=lambda i: -importance[i])
    names = prep.feature_names
    return (ranked[0], ranked[1]), (
        f"{names[ranked[0]]} and {names[ranked[1]]} are the two inputs a linear fit of the target on "
        "all standardised inputs weighs most (largest coefficients); choose others below"
    )


def typical_row(X: np.ndarray, rows: np.ndarray) -> int:
    """The training row nearest the median of every input: a real row to hold the others at."""
    middle = np.median(X[rows], axis=0)
    return int(rows[np.argmin(((X[rows] - middle) ** 2).sum(axis=1))])


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, 6) if np.isfinite(value) else None
    return value if isinstance(value, (int, str, bool)) or value is None else str(value)
