"""
Early stopping and checkpoints
==============================

``EarlyStopping`` stops when the validation loss has not improved for ``patience`` epochs; with
``restore_best_weights=True`` the network ends with the weights of its best epoch (whether or
not it stopped early). ``ModelCheckpoint`` writes a checkpoint file: a model ``cr.load`` reads,
plus the optimizer's state, the run's seed and its history, so ``fit(..., resume_from=path)``
continues a run and ends bit-identical to one that was never interrupted.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import chainrule as cr

digits = load_digits()
X, y = digits.data / 16.0, digits.target
folder = Path(tempfile.mkdtemp())

# A network large enough to overfit 300 training digits.
net = cr.Network([64, 128, 10], activation="relu", output_activation="softmax", seed=0)
stop = cr.EarlyStopping(patience=10, restore_best_weights=True)
best = cr.ModelCheckpoint(folder / "best.npz", save_best_only=True)
history = net.fit(
    X[:300],
    y[:300],
    optimizer="adam",
    lr=0.01,
    epochs=200,
    batch_size=32,
    validation_data=(X[1000:], y[1000:]),
    callbacks=[stop, best],
)
best_epoch = int(np.argmin(history["val_loss"]))
print(f"stopped after {history.epochs} epochs; best validation loss at epoch {best_epoch}")
print("validation loss of the restored weights:", net.evaluate(X[1000:], y[1000:])["loss"])
checkpoint = cr.load(folder / "best.npz")
print("validation loss of the best checkpoint: ", checkpoint.evaluate(X[1000:], y[1000:])["loss"])

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(history["loss"], label="training")
ax.plot(history["val_loss"], label="validation")
ax.axvline(best_epoch, color="grey", linestyle=":", label="best epoch (restored)")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
ax.legend()
fig.tight_layout()


# %%
# Resuming a run from a checkpoint
# --------------------------------
# Train 20 epochs in one go; then train the same network from the same seed for 8 epochs with
# a checkpoint every epoch, and resume from it to 20. The weights are the same to the last bit.
def fresh():
    return cr.Network([64, 32, 10], activation="relu", output_activation="softmax", seed=1)


settings = dict(optimizer="adam", lr=0.01, batch_size=64)
whole = fresh()
whole.fit(X[:500], y[:500], epochs=20, **settings)

part = fresh()
part.fit(X[:500], y[:500], epochs=8, callbacks=[cr.ModelCheckpoint(folder / "run.npz")], **settings)
resumed = fresh()
resumed.fit(X[:500], y[:500], epochs=20, resume_from=folder / "run.npz", **settings)

same = all(
    np.array_equal(a[key], b[key])
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True)
    for key in a
)
print("resumed run equals the uninterrupted run, bit for bit:", same)
