"""Seed 002 (Ando Ki), training program: XOR with sigmoid, and with tanh plus biases.

The tutorial trains a 3-4-1 sigmoid network (the third input is a constant 1) with weights
from ``np.random.rand``, on ``sum((y - out)**2)`` with step size 1 for 1000 steps, records the
loss curve, and saves the weights to a file that a separate inference program loads. Its
pickle-in-a-.txt save file cannot be loaded on Python 3; ours is a ``.npz`` that `chainrule.load`
reads without executing anything. Run ``seed_002_xor_predict.py`` on the saved file next.
"""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
y = np.array([[0], [1], [1], [0]])


def build_sigmoid(seed: int = 2) -> cr.Network:
    """The tutorial's untrained network: 3-4-1, sigmoid, no biases, uniform [0, 1) weights."""
    return cr.Network([3, 4, 1], activation="sigmoid", bias=False, init="uniform01", seed=seed)


def train_sigmoid(seed: int = 2) -> tuple[cr.Network, cr.History]:
    """The tutorial's network (`build_sigmoid`) trained 1000 full-batch steps, step size 1."""
    net = build_sigmoid(seed)
    history = net.fit(X, y, loss="sse", optimizer=cr.SGD(lr=1.0), epochs=1000)
    return net, history


def train_tanh_with_biases(seed: int = 2) -> tuple[cr.Network, cr.History]:
    """The slides' extension: biases and a tanh hidden layer (the constant input is then redundant)."""
    net = cr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=seed)
    history = net.fit(X[:, :2], y, loss="sse", optimizer=cr.SGD(lr=0.5), epochs=1000)
    return net, history


def main(path: str = "xor_model.npz") -> None:
    for title, (net, history) in (
        ("sigmoid, no biases", train_sigmoid()),
        ("tanh hidden layer, biases", train_tanh_with_biases()),
    ):
        print(f"XOR, {title}: {net}")
        for epoch in (0, 1, 10, 100, 999):
            print(f"  loss after {epoch:4d} steps: {history['loss'][epoch]:.6f}")
        print("  outputs:", np.round(net.predict(X if net.n_inputs == 3 else X[:, :2]).ravel(), 4))
    net, _ = train_sigmoid()
    cr.save(net, path)
    print(f"saved the sigmoid network to {path}; load it with the separate inference program:")
    print(f"  {predict_command(path)}")


def predict_command(path: str) -> str:
    """The exact command that runs the inference program on the model saved at ``path``."""
    import shlex

    return f"python -m chainrule.examples.seed_002_xor_predict {shlex.quote(str(path))}"


if __name__ == "__main__":
    main(*sys.argv[1:2])
