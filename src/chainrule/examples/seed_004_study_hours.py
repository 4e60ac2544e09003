"""Seed 004 (Shamdasani): predict a test score from hours studied and hours slept.

Inputs are scaled by their column maxima ``[3, 9]`` and scores by 100; a 2-3-1 sigmoid
network without biases trains 1000 steps of full-batch gradient descent (step size 1) on
``1/2 sum((y - out)**2)``, printing the mean squared error as the tutorial does. Then the
question its readers ask: the score for 4 hours one way and 8 the other, scaled with the
*training* maxima (the tutorial scales the new input by its own maximum, which is wrong).
"""

from __future__ import annotations

import numpy as np

import chainrule as cr

X = np.array([[2, 9], [1, 5], [3, 6]], dtype=float)
y = np.array([[92], [86], [89]], dtype=float)
NEW = np.array([4, 8], dtype=float)


def build_network(seed: int = 0) -> cr.Network:
    """The tutorial's untrained 2-3-1 sigmoid network without biases, standard normal weights."""
    return cr.Network([2, 3, 1], activation="sigmoid", bias=False, init="standard_normal", seed=seed)


def run(seed: int = 0) -> dict:
    x_max = X.max(axis=0)  # remember the training maxima: new inputs need the same scaling
    net = build_network(seed)
    history = net.fit(
        X / x_max, y / 100, loss="half_sse", optimizer=cr.SGD(lr=1.0), epochs=1000, metrics=["mse"]
    )
    final_mse = net.evaluate(X / x_max, y / 100, metrics=["mse"])["mse"]
    return {
        "x_max": x_max,
        "history": history,
        "final_mse": final_mse,
        "fitted": net.predict(X / x_max).ravel() * 100,
        "score": float(net.predict(NEW / x_max)[0] * 100),
        "score_tutorial_scaling": float(net.predict(NEW / NEW.max())[0] * 100),
    }


def worked_forward() -> np.ndarray:
    """The text's worked example: weights .2 .6 .1 / .8 .3 .7 on [2, 9], before the sigmoid."""
    layer = cr.Dense(2, 3, "sigmoid", bias=False, weights=[[0.2, 0.6, 0.1], [0.8, 0.3, 0.7]])
    return layer.linear(np.array([[2.0, 9.0]]))[0], layer.forward(np.array([[2.0, 9.0]]))[0]


def main() -> None:
    sums, hidden = worked_forward()
    print("worked example: sums", sums, "-> sigmoid", hidden)
    print("  (the text prints 7.5 and S(7.5) = 1.000553084 for the second unit; 2*.6 + 9*.3 = 3.9)")
    result = run()
    for step in (0, 1, 10, 100, 999):
        print(f"Loss after {step:4d} steps (mean squared error): {result['history']['mse'][step]:.8f}")
    print(f"Loss after training: {result['final_mse']:.8f}")
    print("Predicted scores for the training data:", np.round(result["fitted"], 2), "(actual: 92 86 89)")
    print(
        f"Predicted score for {NEW[0]:g} hours and {NEW[1]:g} hours, scaled by the training maxima "
        f"{result['x_max']}: {result['score']:.2f}"
    )
    print(
        f"  (with the tutorial's scaling by the input's own maximum, [0.5, 1.0]: "
        f"{result['score_tutorial_scaling']:.2f})"
    )


if __name__ == "__main__":
    main()
