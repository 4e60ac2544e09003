"""
Seed 004: a test score from hours studied and slept
===================================================

Shamdasani's "flexible" network: inputs scaled by their column maxima ``[3, 9]``, scores by 100,
a 2-3-1 sigmoid network without biases, 1000 full-batch steps. Its readers asked how to predict
a new input; the tutorial scales the new input by *its own* maximum, which is wrong: a new input
must be scaled with the statistics of the training data.
"""

# %%
# The printout
# ------------
from chainrule.examples import seed_004_study_hours as seed

seed.main()

# %%
# The loss over the 1000 steps
# ----------------------------
import matplotlib.pyplot as plt

result = seed.run()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(result["history"]["mse"])
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("mean squared error (scores / 100)")
fig.tight_layout()
