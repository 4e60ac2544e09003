"""
Seed 000: a three-layer network on a truth table
================================================

Sichkar's tutorial trains a 3-4-1 sigmoid network without biases on four rows of a truth table
(the output is the first input), with weights drawn after ``np.random.seed(1)``, 5000 full-batch
steps of step size 1 on :math:`E = \\tfrac12 \\sum (y - out)^2` (summed, not averaged).

``chainrule.examples.seed_000_truth_table`` reproduces it with the public API; its ``main()``
prints what the tutorial printed. The errors agree with the tutorial's to a few ulp; their last
digits depend on the machine's summation order and exp (see "Seed 000, exactly").
"""

# %%
# The tutorial's printout
# -----------------------
# Everything below was printed by running the example when this page was built.
from chainrule.examples import seed_000_truth_table as seed

seed.main()

# %%
# The network in chainrule
# ------------------------
# ``build_network`` is the tutorial's set-up: the weights come from the legacy
# ``np.random.seed(1)`` draws so that the numbers match; ``fit`` with ``loss="half_sse"``
# and ``SGD(lr=1.0)`` is its loop.
import inspect

print(inspect.getsource(seed.build_network))
print(inspect.getsource(seed.tutorial_weights))

# %%
# Test output against the number of training steps
# -------------------------------------------------
# The tutorial's last question: how many steps until the test input ``[1, 0, 0]`` gives
# at least 0.99? The curve crosses 0.99 between 990 and 1000 steps; the tutorial prints
# 1010 because its loop adds 10 after the run that reached it.
import matplotlib.pyplot as plt

result = seed.run()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(result["steps"], result["test_output_curve"])
ax.axhline(0.99, color="grey", linestyle="--", linewidth=1)
ax.axvline(result["iterations_to_099"], color="grey", linestyle=":", linewidth=1)
ax.set_xlabel("training steps")
ax.set_ylabel("output for [1, 0, 0]")
ax.set_title(f"0.99 first reached after {result['iterations_to_099']} steps")
fig.tight_layout()
