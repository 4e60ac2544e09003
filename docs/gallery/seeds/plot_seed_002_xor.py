"""
Seed 002: XOR, biases and tanh, saved and loaded by another program
===================================================================

Ando Ki's slides train a 3-4-1 sigmoid network on XOR (the third input is a constant 1 that
stands in for a bias), add real biases and a tanh hidden layer, plot the loss curve, and save the
weights so that a separate inference program can use them. The slides' save file is a pickle with
a ``.txt`` name that fails to load on Python 3; chainrule's is a ``.npz`` with a JSON header,
which ``cr.load`` reads without running any code.
"""

# %%
# Training, with both networks
# ----------------------------
# The page runs in a scratch folder, as you would in your own: the printed command then works
# as printed, from the folder that holds ``xor_model.npz``.
import contextlib
import tempfile

from chainrule.examples import seed_002_xor_predict, seed_002_xor_train

folder = tempfile.mkdtemp()
with contextlib.chdir(folder):
    seed_002_xor_train.main("xor_model.npz")

# %%
# Inference, in a program that shares only the file
# -------------------------------------------------
with contextlib.chdir(folder):
    seed_002_xor_predict.main("xor_model.npz")

# %%
# The loss curves
# ---------------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
for title, train in (
    ("sigmoid, no biases", seed_002_xor_train.train_sigmoid),
    ("tanh hidden layer, biases", seed_002_xor_train.train_tanh_with_biases),
):
    _, history = train()
    ax.plot(history["loss"], label=title)
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("sum of squared errors")
ax.legend()
fig.tight_layout()
