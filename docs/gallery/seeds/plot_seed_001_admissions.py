"""
Seed 001: one worked step, then graduate admissions
===================================================

Udacity's lesson first computes one backpropagation step of a 3-2-1 sigmoid network by hand
(the weight changes ``[0.00804047, 0.00555918]`` for the hidden-to-output weights), then trains a
6-2-1 network on the admissions data (``binary.csv``, bundled with chainrule) for 900 epochs of
full-batch gradient descent on the mean of :math:`\\tfrac12 (y - out)^2` with learning rate 0.005.

The guide :doc:`/guides/backprop_step` takes the first step apart number by number.
"""

# %%
# The lesson's printout
# ---------------------
# The "Train loss" column reproduces the lesson's printed numbers to 12 digits, and they are
# not the training loss: the lesson's print statement uses the output for the *last training
# record only*. The true loss over all 360 rows is printed next to it.
from chainrule.examples import seed_001_admissions as seed

seed.main()

# %%
# The worked step, as chainrule traces it
# ---------------------------------------
# ``cr.trace_step`` runs one real training step and keeps every intermediate value; printing
# it shows the forward pass, the deltas and the weight changes in the tutorials' notation.
print(seed.worked_step())

# %%
# The training curve
# ------------------
import matplotlib.pyplot as plt

result = seed.run()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(result["history"]["mse"], label="true training loss (mse)")
epochs, lesson, _ = zip(*result["report"], strict=True)
ax.plot(epochs, lesson, "o", label="the lesson's printed 'Train loss'")
ax.set_xlabel("epoch")
ax.legend()
ax.set_title(f"test accuracy {result['accuracy']:.3f}")
fig.tight_layout()
