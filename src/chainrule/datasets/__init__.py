"""Small data sets that ship with chainrule, so examples and demos run on a fresh machine."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

ADMISSIONS_COLUMNS = ("admit", "gre", "gpa", "rank")


def admissions_path() -> Path:
    """Path of the bundled graduate-admissions CSV (seed 001's ``binary.csv``)."""
    return Path(str(resources.files(__name__).joinpath("binary.csv")))


def load_admissions() -> np.ndarray:
    """The admissions data as a float array of shape (400, 4): admit, gre, gpa, rank."""
    return np.loadtxt(admissions_path(), delimiter=",", skiprows=1)


def make_glyph_digits(
    n_samples: int = 1000, noise: float = 0.1, seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy 8x8 images of the digits 0-9, a small stand-in for MNIST that needs no download.

    Each sample is a 5x7 pixel-font digit placed at a random offset in an 8x8 frame, with
    every pixel flipped with probability ``noise``.

    Returns
    -------
    X : ndarray of shape (n_samples, 64), values 0 or 1
    labels : ndarray of shape (n_samples,), integers 0-9
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    glyphs = np.array([[[int(c) for c in row] for row in digit] for digit in _GLYPHS], dtype=float)
    labels = rng.integers(0, 10, size=n_samples)
    images = np.zeros((n_samples, 8, 8))
    rows, cols = rng.integers(0, 2, size=n_samples), rng.integers(0, 4, size=n_samples)
    for i, (label, r, c) in enumerate(zip(labels, rows, cols, strict=True)):
        images[i, r : r + 7, c : c + 5] = glyphs[label]
    flips = rng.random(images.shape) < noise
    images[flips] = 1.0 - images[flips]
    return images.reshape(n_samples, 64), labels


_GLYPHS = [
    ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
    ["00100", "01100", "00100", "00100", "00100", "00100", "01110"],
    ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
    ["11111", "00010", "00100", "00010", "00001", "10001", "01110"],
    ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
    ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
    ["00110", "01000", "10000", "11110", "10001", "10001", "01110"],
    ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
    ["01110", "10001", "10001", "01110", "10001", "10001", "01110"],
    ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
]
