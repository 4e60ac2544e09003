"""
A table in, a model out: train_table and TableModel
===================================================

``chainrule train data.csv --target y`` is a thin layer over one Python function,
`chainrule.train_table`, which returns a `chainrule.TableModel`: the network together with
everything learned from the training table (which columns are inputs, their scaling, the
categories of each categorical column, the class labels). This example trains one on the
bundled admissions table (400 applicants: ``gre``, ``gpa``, ``rank`` 1-4, and ``admit`` 0/1),
then shows that the command line, run on the same file with the same options, writes the same
weights bit for bit. The guide :doc:`/guides/table_model` explains each step.
"""

import contextlib
import os
import shutil
import sys
import tempfile

import numpy as np
import pandas as pd

import chainrule as cr
from chainrule.cli.main import main as chainrule_command
from chainrule.datasets import admissions_path

frame = pd.read_csv(admissions_path())
print(frame.head())

# %%
# Training
# --------
# ``log=print`` prints the lines ``chainrule train`` prints before training: what it decided
# about the columns, the task, the network, early stopping and the optimizer, and why.
# ``rank`` holds the numbers 1-4 but they are categories, so it is named in ``categorical``.
model = cr.train_table(frame, target="admit", categorical=["rank"], log=print)
print(model)
summary = model.metadata["training"]
print(f"epochs run: {summary['epochs_run']}; stopped early: {summary['stopped_early']}")
print("metrics on the training rows:", summary["metrics"]["train"])

# %%
# Predicting on raw rows
# ----------------------
# The model takes rows as the table had them, as a DataFrame, a dict of columns or a list of
# dicts: it scales ``gre`` and ``gpa`` with the *training* means and deviations and one-hot
# encodes ``rank``, then answers in the target's own labels.
applicants = [
    {"gre": 700, "gpa": 3.8, "rank": 1},
    {"gre": 500, "gpa": 3.0, "rank": 4},
]
print("labels:", model.predict(applicants))
print("classes:", model.classes_)
print("probabilities (one column per class):")
print(np.array2string(model.predict_proba(applicants), precision=4))
print("the network's inputs for these rows:", model.preprocessor.feature_names)
print(np.array2string(model.transform(applicants), precision=4))

# %%
# Evaluating
# ----------
# ``evaluate`` is what ``chainrule evaluate`` prints; ``score`` is accuracy here (R^2 for a
# regression), as in scikit-learn. (These are the training rows, so this is not a held-out
# estimate; the :doc:`/guides/user_guide` shows a split.)
metrics = model.evaluate(frame)
print(f"accuracy {metrics['accuracy']:.3f}, log loss {metrics['log_loss']:.4f}")
print("confusion (rows: true class, columns: predicted):")
print(metrics["confusion"])

# %%
# The command line does the same
# ------------------------------
# Run ``chainrule train`` on the same file with the same options (in a scratch folder, so the
# paths it prints are short), load what it saved, and compare the weights.
start = os.getcwd()
with tempfile.TemporaryDirectory() as scratch:
    shutil.copy(admissions_path(), os.path.join(scratch, "admissions.csv"))
    os.chdir(scratch)
    try:  # the command reports its decisions on stderr; here they join the page's output
        with contextlib.redirect_stderr(sys.stdout):
            exit_code = chainrule_command(
                [
                    "train",
                    "admissions.csv",
                    "--target",
                    "admit",
                    "--categorical",
                    "rank",
                    "--out",
                    "model.npz",
                ]
            )
        from_cli = cr.load("model.npz")
    finally:
        os.chdir(start)
print("exit code:", exit_code)
print("loaded:", from_cli)
same = all(
    np.array_equal(a[key], b[key])
    for a, b in zip(model.network.get_weights(), from_cli.network.get_weights(), strict=True)
    for key in a
)
print("same weights as train_table's, bit for bit:", same)
print("same predictions:", np.array_equal(model.predict(applicants), from_cli.predict(applicants)))
assert exit_code == 0 and same

# %%
# The defaults both use
# ---------------------
# One dictionary holds them, ``chainrule.table.DEFAULTS``; the command-line options and
# `train_table`'s keyword arguments are read from it.
from chainrule.table import DEFAULTS

for name, value in DEFAULTS.items():
    print(f"{name:>17}: {value!r}")
