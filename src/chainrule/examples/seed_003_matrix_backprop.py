"""Seed 003 (python-course.eu): error backpropagation in matrix form, then online training.

Part 1: output errors are sent back to the hidden layer through the transposed weights. The
tutorial's ``who`` is stored output-by-hidden in its column layout; in chainrule's row layout
the same numbers are the weights ``W`` of a layer from 4 hidden units to 3 outputs, and the
hidden errors are ``e @ W.T``, which is exactly what `Dense.backward` returns for an identity
layer. Part 2: a sigmoid network trained one sample at a time (``batch_size=1``), as the
tutorial's later chapters do on MNIST; here on noisy 8x8 glyph digits that need no download.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.datasets import make_glyph_digits

WHO = np.array([[0.6, 0.5, 0.06], [0.3, 0.2, 0.8], [0.2, 0.1, 0.7], [0.12, 0.7, 0.54]])
E = np.array([0.1, 0.2, 0.3])


def hidden_errors() -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's ``who * e`` (each weight's share of the error) and the hidden errors."""
    layer = cr.Dense(4, 3, "identity", bias=False, weights=WHO)
    layer.forward(np.zeros((1, 4)), training=True)  # backward needs a forward pass first
    errors = layer.backward(E[None, :])[0]
    return WHO * E, errors


def train_digits(seed: int = 0, epochs: int = 5) -> tuple[cr.Network, cr.History, float]:
    """64-64-10 sigmoid network, targets 0.01/0.99 as the tutorial, one sample per step."""
    images, labels = make_glyph_digits(3500, noise=0.05, seed=seed)
    targets = np.full((labels.size, 10), 0.01)
    targets[np.arange(labels.size), labels] = 0.99
    net = cr.Network([64, 64, 10], activation="sigmoid", bias=False, init="truncated_normal", seed=seed)
    history = net.fit(
        images[:3000],
        targets[:3000],
        loss="half_sse",
        optimizer=cr.SGD(lr=0.3),
        epochs=epochs,
        batch_size=1,
        metrics=["accuracy"],
    )
    accuracy = float(np.mean(net.predict_classes(images[3000:]) == labels[3000:]))
    return net, history, accuracy


def main() -> None:
    shares, errors = hidden_errors()
    print("who * e  (each weight's share of the output errors):")
    print(shares)
    print("hidden errors = e @ W.T  (the tutorial's who.T . e in its column layout):")
    print(errors)
    print()
    _, history, accuracy = train_digits()
    for epoch, (loss, acc) in enumerate(zip(history["loss"], history["accuracy"], strict=True)):
        print(f"epoch {epoch}: training loss {loss:.4f}, training accuracy {acc:.3f}")
    print(f"accuracy on 500 held-out glyph digits: {accuracy:.3f}")


if __name__ == "__main__":
    main()
