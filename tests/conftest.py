"""Shared helpers: small random problems whose targets suit each loss."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import admissions_path


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
