"""Seed 000 (Sichkar): a 3-4-1 sigmoid network trained 5000 times on a truth table.

The tutorial draws its weights with NumPy's legacy global generator, ``np.random.seed(1)``;
we draw the same numbers from a local ``RandomState(1)`` and hand the matrices to the layers.
Its loop is full-batch gradient descent with step size 1 on ``1/2 * sum((y - out)**2)``.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr

X = np.array([[1, 1, 1], [1, 0, 1], [0, 0, 1], [0, 1, 1]])
y = np.array([[1, 1, 0, 0]]).T
TEST_INPUT = np.array([1, 0, 0])


def tutorial_weights() -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's starting weights: ``2 * random - 1`` after ``np.random.seed(1)``."""
    legacy = np.random.RandomState(1)
    weights_0_1 = 2 * legacy.random_sample((3, 4)) - 1
    weights_1_2 = 2 * legacy.random_sample((4, 1)) - 1
    return weights_0_1, weights_1_2


# What the tutorial printed ("Final error after i iterations", every 500 steps), from the seed's text.
PRINTED_ERRORS = (
    0.4685343254580603,
    0.027359665117498422,
    0.018014239352682853,
    0.01424538015492187,
    0.01209811882788332,
    0.01067390131321088,
    0.009643630560125674,
    0.008855140776037976,
    0.008227317734746435,
    0.007712523196874705,
)


# --- The tutorial's own loop, the reference chainrule's run is compared with -----------------
# Copied from Valentyn N. Sichkar, "Backpropagation in Neural Network (NN) with Python",
# Intro_simple_three_layers_NN.py (github.com/sichkar-valentyn, MIT License, (c) 2018), as kept
# in the project's seed 000 text. Changes, none of which touch the arithmetic: the class is a
# function; the weights come from `tutorial_weights` (the same draws as np.random.seed(1) then
# np.random.random, without touching NumPy's global state); the print every 500 steps records
# the error of every step instead; ``dot`` is a parameter (np.dot in the tutorial) so that the
# summation order can be swapped. It uses no chainrule code.
def normalizing_results(x):
    return 1 / (1 + np.exp(-x))


def derivative_of_sigmoid(x):
    return x * (1 - x)


def tutorial_loop(iterations: int = 5000, dot=np.dot) -> dict:
    """The tutorial's training loop: every step's error, the last outputs, the test output, the weights."""
    weights_0_1, weights_1_2 = tutorial_weights()
    set_of_inputs_for_training = np.array([[1, 1, 1], [1, 0, 1], [0, 0, 1], [0, 1, 1]])
    set_of_outputs_for_training = np.array([[1, 1, 0, 0]]).T
    errors = []
    layer_2 = None
    for _ in range(iterations):
        layer_0 = set_of_inputs_for_training
        layer_1 = normalizing_results(dot(layer_0, weights_0_1))
        layer_2 = normalizing_results(dot(layer_1, weights_1_2))
        layer_2_error = set_of_outputs_for_training - layer_2
        errors.append(np.mean(np.abs(layer_2_error)))
        delta_2 = layer_2_error * derivative_of_sigmoid(layer_2)
        layer_1_error = dot(delta_2, weights_1_2.T)
        delta_1 = layer_1_error * derivative_of_sigmoid(layer_1)
        weights_1_2 += dot(layer_1.T, delta_2)
        weights_0_1 += dot(layer_0.T, delta_1)
    test = normalizing_results(dot(normalizing_results(dot(np.array([1, 0, 0]), weights_0_1)), weights_1_2))
    return {
        "errors": np.array(errors),
        "outputs_after_training": layer_2.ravel(),  # from the start of the last step
        "test_output": test,
        "weights": (weights_0_1, weights_1_2),
    }


def build_network() -> cr.Network:
    weights_0_1, weights_1_2 = tutorial_weights()
    return cr.Network(
        [
            cr.Dense(3, 4, "sigmoid", bias=False, weights=weights_0_1),
            cr.Dense(4, 1, "sigmoid", bias=False, weights=weights_1_2),
        ]
    )


def run() -> dict:
    net = build_network()
    initial = net.get_weights()
    optimizer = cr.SGD(lr=1.0)
    # The tutorial prints its "output after training" from the forward pass at the start of
    # its last step, i.e. after 4999 updates; so we train 4999 steps, look, then take the last.
    history = net.fit(X, y, loss="half_sse", optimizer=optimizer, epochs=4999, metrics=["mae"])
    outputs_after_4999 = net.predict(X)
    net.fit(X, y, loss="half_sse", optimizer=optimizer, epochs=1, metrics=[])
    test_output = net.predict(TEST_INPUT)

    # Test output after 10, 20, ..., 1000 steps: one run of 1000 steps from the same start
    # is the same as the tutorial's fresh network per count, because training is deterministic.
    curve: list[float] = []
    probe = build_network()

    def record(epoch: int, logs: dict) -> None:
        if (epoch + 1) % 10 == 0:
            curve.append(float(probe.predict(TEST_INPUT)[0]))

    probe.fit(X, y, loss="half_sse", optimizer=cr.SGD(lr=1.0), epochs=1000, metrics=[], callbacks=[record])
    steps = list(range(10, 1001, 10))
    first_099 = next(n for n, out in zip(steps, curve, strict=True) if out >= 0.99)
    return {
        "initial_weights": initial,
        "errors": history["mae"][::500],
        "outputs_after_training": outputs_after_4999.ravel(),
        "test_output": test_output,
        "steps": steps,
        "test_output_curve": curve,
        "iterations_to_099": first_099,
    }


def main() -> None:
    result = run()
    w = result["initial_weights"]
    print("Weights 0-1")
    print(w[0]["W"])
    print()
    print("Weights 1-2")
    print(w[1]["W"])
    print()
    for step, error in zip(range(0, 5000, 500), result["errors"], strict=True):
        print("Final error after", step, "iterations =", error)
    print()
    print("Output results after training:")
    print(result["outputs_after_training"])
    print("  (the forward pass at the start of the last step, after 4999 updates, as the tutorial prints it)")
    print()
    print("Output result for testing data = ", result["test_output"])
    print()
    curve = dict(zip(result["steps"], result["test_output_curve"], strict=True))
    print(f"test output after 990 steps: {curve[990]:.8f}, after 1000 steps: {curve[1000]:.8f}")
    print("Number of iterations to reach accuracy 0.99 is", result["iterations_to_099"])
    print(
        "  (the tutorial prints 1010: its while-loop adds 10 to the count after the run that\n"
        "   reached 0.99, and prints the incremented count)"
    )


if __name__ == "__main__":
    main()
