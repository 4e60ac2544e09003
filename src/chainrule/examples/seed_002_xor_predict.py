"""Seed 002 (Ando Ki), inference program: load the saved XOR network and predict.

This program shares nothing with the training program but the model file.
"""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr


def main(path: str = "xor_model.npz") -> None:
    net = cr.load(path)
    inputs = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    for row, out in zip(inputs, net.predict(inputs).ravel(), strict=True):
        print(f"{row[0]} XOR {row[1]} -> {out:.4f} (class {int(out > 0.5)})")


if __name__ == "__main__":
    main(*sys.argv[1:2])
