"""Seed 001 (Udacity): one worked backprop step, then a 6-2-1 network on admissions data.

Part 1 traces a single step of a 3-2-1 sigmoid network and prints the weight changes.
Part 2 prepares ``binary.csv`` as the lesson does (one-hot ``rank``, standardised ``gre`` and
``gpa``, a 360/40 split drawn after ``np.random.seed(21)``) and trains 900 epochs of
full-batch gradient descent on the mean of ``1/2 (y - out)**2`` with learning rate 0.005.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.datasets import load_admissions


def worked_step() -> cr.StepTrace:
    """The lesson's single step: x = [0.5, 0.1, -0.2], target 0.6, learning rate 0.5."""
    net = cr.Network(
        [
            cr.Dense(3, 2, "sigmoid", bias=False, weights=[[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]),
            cr.Dense(2, 1, "sigmoid", bias=False, weights=[[0.1], [-0.3]]),
        ]
    )
    return cr.trace_step(net, [0.5, 0.1, -0.2], [0.6], loss="half_sse", optimizer=cr.SGD(lr=0.5))


def prepare_admissions() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features and targets as the lesson's ``data_prep.py`` makes them (train rows in draw order)."""
    data = load_admissions()
    admit, gre, gpa, rank = data.T
    standardise = lambda column: (column - column.mean()) / column.std(ddof=1)  # noqa: E731  (pandas' std)
    rank_one_hot = (rank[:, None] == np.arange(1, 5)).astype(float)
    features = np.column_stack([standardise(gre), standardise(gpa), rank_one_hot])
    legacy = np.random.RandomState(21)  # the lesson's np.random.seed(21)
    train_rows = legacy.choice(len(data), size=int(len(data) * 0.9), replace=False)
    test_rows = np.setdiff1d(np.arange(len(data)), train_rows)  # file order, as DataFrame.drop keeps
    return features[train_rows], admit[train_rows], features[test_rows], admit[test_rows]


def run() -> dict:
    step = worked_step()
    features, targets, features_test, targets_test = prepare_admissions()

    legacy = np.random.RandomState(21)  # the lesson seeds again before drawing weights
    n_features = features.shape[1]
    weights_input_hidden = legacy.normal(scale=1 / n_features**0.5, size=(n_features, 2))
    weights_hidden_output = legacy.normal(scale=1 / n_features**0.5, size=2)
    net = cr.Network(
        [
            cr.Dense(n_features, 2, "sigmoid", bias=False, weights=weights_input_hidden),
            cr.Dense(2, 1, "sigmoid", bias=False, weights=weights_hidden_output[:, None]),
        ]
    )
    report: list[tuple[int, float, float]] = []

    def every_90_epochs(epoch: int, logs: dict) -> None:
        if epoch % 90 == 0:
            true_loss = net.evaluate(features, targets, metrics=["mse"])["mse"]
            # The lesson's printed loss: the output for the *last training record only*,
            # compared against every target.
            last_only = net.predict(features[-1])[0]
            lesson_loss = float(np.mean((last_only - targets) ** 2))
            report.append((epoch, lesson_loss, true_loss))

    history = net.fit(
        features,
        targets,
        loss="half_mse",
        optimizer=cr.SGD(lr=0.005),
        epochs=900,
        metrics=["mse"],
        callbacks=[every_90_epochs],
    )
    predictions = net.predict(features_test)[:, 0] > 0.5
    accuracy = float(np.mean(predictions == targets_test))
    return {"step": step, "report": report, "history": history, "accuracy": accuracy}


def main() -> None:
    result = run()
    step = result["step"]
    print("Change in weights for hidden layer to output layer:")
    print(step.layers[1].changes["W"].ravel())
    print("Change in weights for input layer to hidden layer:")
    print(step.layers[0].changes["W"])
    print()
    print("epoch  lesson's printed 'Train loss'  true training loss (mse)")
    for epoch, lesson_loss, true_loss in result["report"]:
        print(f"{epoch:5d}  {lesson_loss:.12f}                {true_loss:.12f}")
    print(
        "  The lesson's numbers use the output for the last training record only, against all\n"
        "  targets (a bug in its print statement); the right column is the loss over all 360 rows."
    )
    print("Prediction accuracy: {:.3f}".format(result["accuracy"]))


if __name__ == "__main__":
    main()
