"""Shared helpers: small random problems whose targets suit each loss."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import admissions_path
from tests.savehook.sitecustomize import LOG, install


def targets_for(loss: str, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Random targets valid for ``loss``: one-hot rows, 0/1 labels, or real numbers."""
    if loss == "categorical_crossentropy":
        y = np.zeros((n, k))
        y[np.arange(n), rng.integers(0, k, n)] = 1.0
        return y
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.uniform(-0.5, 1.0, (n, k))


def central_difference(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f / d x entry by entry, ``(f(x + eps) - f(x - eps)) / 2 eps``, for a scalar ``f``."""
    numeric = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (f(plus) - f(minus)) / (2 * eps)
    return numeric


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


COMMAND = Path(sys.executable).with_name("chainrule")
if not COMMAND.exists():  # pragma: no cover - only without a virtual environment's bin/
    COMMAND = Path(shutil.which("chainrule") or "chainrule")


def run(*args, cwd, ok=True):
    result = subprocess.run(
        [str(COMMAND), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def assert_image(path: Path):
    data = path.read_bytes()
    assert len(data) > 1000
    if path.suffix == ".png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        import matplotlib.image

        assert matplotlib.image.imread(path).ndim == 3
    else:
        assert b"<svg" in data[:2000]


@pytest.fixture
def folder(tmp_path):
    """A temporary folder with the admissions CSV and two small generated tables."""
    pd = pytest.importorskip("pandas")
    shutil.copy(admissions_path(), tmp_path / "binary.csv")
    rng = np.random.default_rng(0)
    hours = pd.DataFrame({"studied": rng.uniform(0, 10, 80), "slept": rng.uniform(4, 10, 80)})
    hours["score"] = 40 + 4 * hours["studied"] + 3 * hours["slept"] + rng.normal(0, 1, 80)
    hours.to_csv(tmp_path / "hours.csv", index=False)
    moons = pd.DataFrame(rng.normal(size=(120, 2)), columns=["a", "b"])
    moons["label"] = np.where(moons["a"] * moons["b"] > 0, "same", "different")
    moons.to_csv(tmp_path / "signs.csv", index=False)
    return tmp_path


@pytest.fixture
def trained(folder):
    """`folder` with m.npz: a quick CLI model of the admissions data."""
    run(
        "train",
        "binary.csv",
        "--target",
        "admit",
        "--categorical",
        "rank",
        "--out",
        "m.npz",
        "--epochs",
        "3",
        "--quiet",
        cwd=folder,
    )
    return folder


# ---------------------------------------------------------------------------- every saved model is usable
@pytest.fixture(scope="session", autouse=True)
def saved_models_log(tmp_path_factory):
    """A log of every model file saved during the session, here and in the commands tests start
    (see `tests/savehook/sitecustomize.py`): each saved file is copied aside and logged."""
    import chainrule.io.model_file as model_file

    log = tmp_path_factory.mktemp("saved-models") / "saved.tsv"
    log.touch()
    before = {key: os.environ.get(key) for key in (LOG, "PYTHONPATH")}
    hook = str(Path(__file__).parent / "savehook")
    os.environ[LOG] = str(log)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [hook, before["PYTHONPATH"]]))
    original = model_file.atomic_write
    install(model_file)
    yield log
    model_file.atomic_write = original
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def saved_models_are_usable(saved_models_log):
    """Issue 21, 3: every model a test saves (by `save`, a checkpoint, the CLI or the playground)
    loads and predicts; checked on a copy taken when it was saved, when the test ends."""
    start = saved_models_log.stat().st_size
    yield
    with open(saved_models_log, encoding="utf-8") as stream:
        stream.seek(start)
        entries = [line.split("\t") for line in stream.read().splitlines()]
    problems = []
    for copy, original in entries:
        try:
            predict_with(copy)
        except Exception as exc:  # any failure means an unusable model was written
            problems.append(f"{original}: {type(exc).__name__}: {exc}")
        finally:
            os.remove(copy)
    assert not problems, "the test saved models that cannot be used: " + "; ".join(problems)


def predict_with(path) -> None:
    """Load a model file and predict two rows (typical raw rows for a table model); outputs finite."""
    import chainrule as cr

    model = cr.load(path)
    if isinstance(model, getattr(cr, "TableModel", ())):
        prep = model.preprocessor
        row = {name: value for name, value in zip(prep.numeric, prep.scaler.offset, strict=True)}
        row.update({name: categories[0] for name, categories in prep.categorical.items()})
        row.update({name: 0.5 for name in model.feature_names if name not in row})  # derived-from
        outputs = np.asarray(model.predict([row, row]))
        assert outputs.shape[0] == 2, outputs.shape
        scores = model.network.predict(prep.transform(_frame([row, row])))
    else:
        scores = model.predict(np.zeros((2, model.sizes[0]), dtype=model.dtype))
    assert np.isfinite(scores).all(), f"predictions {scores.tolist()} are not finite"


def _frame(rows):
    import pandas as pd

    return pd.DataFrame(rows)
