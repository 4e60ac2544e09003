r"""
Seed 000, exactly: the tutorial's loop beside chainrule's
=========================================================

Sichkar's tutorial (seed 000) trains a 3-4-1 sigmoid network on a truth table for 5000 steps
and prints its mean absolute error every 500 steps with 16 or 17 significant digits. How
exactly does chainrule reproduce it? This page runs the tutorial's own loop and chainrule's
``fit`` side by side and compares the float64 bits, then compares both with the digits the
tutorial printed in 2018. ``tests/test_seed000_exact.py`` asserts the same facts.
"""

# %%
# The tutorial's loop
# -------------------
#
# Copied from the tutorial (Valentyn N. Sichkar, *Backpropagation in Neural Network (NN) with
# Python*, ``Intro_simple_three_layers_NN.py``, MIT License), with its class turned into a
# function, its weights drawn from a local ``RandomState(1)`` (the same numbers as its
# ``np.random.seed(1)``), and the error recorded at every step instead of printed every 500.
# ``dot`` is ``np.dot`` unless said otherwise. It lives beside chainrule's version of the seed
# (``chainrule.examples.seed_000_truth_table.tutorial_loop``, which the tests use too) and calls
# no chainrule code:
import inspect

import numpy as np

import chainrule as cr
from chainrule.examples import seed_000_truth_table as seed

print(inspect.getsource(seed.tutorial_loop))


def tutorial_training(iterations=5000, dot=np.dot):
    """The tutorial's loop (``seed.tutorial_loop``): every step's error and the final weights."""
    run = seed.tutorial_loop(iterations, dot)
    return run["errors"], run["weights"]


# %%
# chainrule's run
# ---------------
#
# The same network and weights (``seed.build_network``), ``loss="half_sse"`` (the tutorial's
# :math:`\tfrac12\sum (y - out)^2`, summed over the batch) and plain SGD with step 1; the
# ``mae`` metric of each epoch is the tutorial's error, computed from the forward pass of that
# step, before its update.
net = seed.build_network()
history = net.fit(seed.X, seed.y, loss="half_sse", optimizer=cr.SGD(lr=1.0), epochs=5000, metrics=["mae"])
ours = np.array(history["mae"])
theirs, tutorial_weights = tutorial_training()

same_errors = int(np.sum(ours == theirs))
same_weights = all(
    np.array_equal(a["W"], b) for a, b in zip(net.get_weights(), tutorial_weights, strict=True)
)
print(f"errors with identical float64 bits: {same_errors} of {len(theirs)}")
print(f"final weights identical, bit for bit: {same_weights}")
assert same_errors == len(theirs) and same_weights

# %%
# Every one of the 5000 errors, and both final weight matrices, are the same bits. That is
# expected rather than lucky: chainrule's step does the tutorial's operations in the
# tutorial's order (a BLAS ``np.dot`` for each product, the sigmoid as
# :math:`1/(1 + e^{-z})`, its slope as :math:`a(1-a)`), and the differences of convention are
# exact in floating point: chainrule's delta :math:`\partial E/\partial z` is the tutorial's
# with the sign flipped, and it subtracts the step that the tutorial adds; a sign flip and a
# step size of 1.0 change no bit.
#
# Against the printed digits
# --------------------------
#
# The tutorial's printout came from its author's machine. The table compares it with this
# run: the first significant digit at which the two 17-digit numbers differ, and the
# difference in units in the last place (ulp, the spacing of float64 numbers there).
PRINTED = seed.PRINTED_ERRORS


def first_differing_digit(a, b):
    da, db = f"{a:.16e}".replace(".", ""), f"{b:.16e}".replace(".", "")
    return next((str(i + 1) for i, (x, y) in enumerate(zip(da, db, strict=True)) if x != y), "-")


print(f"{'step':>5} {'printed (2018)':>22} {'this run':>22} {'first digit':>11} {'ulp':>5}")
for step, printed, mine in zip(range(0, 5000, 500), PRINTED, ours[::500], strict=True):
    ulp = round((mine - printed) / np.spacing(printed))
    first = first_differing_digit(mine, printed)
    print(f"{step:>5} {printed!r:>22} {float(mine)!r:>22} {first:>11} {ulp:>5}")
n_equal = sum(a == b for a, b in zip(ours[::500], PRINTED, strict=True))
shared = min(int(d) for d in map(first_differing_digit, ours[::500], PRINTED) if d != "-") - 1
print(f"{n_equal} of 10 printed errors are the same float64; the others share {shared} significant digits")

# %%
# Where the last digits come from
# -------------------------------
#
# Each matrix product is a sum of products, and floating-point addition is not associative:
# the order of the additions, and whether a multiply and an add are rounded once (a fused
# multiply-add) or twice, change the last bit. OpenBLAS picks its order and its FMA kernels
# for the CPU it runs on. To see the effect, run the tutorial's loop again with every
# ``np.dot`` replaced by products added one by one in plain NumPy:


def summed_one_by_one(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a2, b2 = np.atleast_2d(a), b if b.ndim == 2 else b[:, None]
    out = (a2[:, :, None] * b2[None, :, :]).sum(axis=1)
    return out.reshape(np.dot(a, b).shape)


other_order, _ = tutorial_training(dot=summed_one_by_one)
changed = other_order != theirs
relative = np.abs(other_order - theirs) / theirs
print(f"errors changed by the summation order: {int(changed.sum())} of {len(theirs)}")
print(f"largest relative change: {relative.max():.1e}")
matched = sum(a == b for a, b in zip(other_order[::500], PRINTED, strict=True))
print(f"printed errors matched with this order: {matched} of 10")
assert changed.any() and relative.max() < 1e-13

# %%
# The order alone moves the last digits, by about as much as the printout differs from this
# run, and matches a different subset of the printed numbers. Other orders we tried (one by
# one from the other end, pairwise, with fused multiply-adds) did not reproduce all ten
# either: the printed last digits belong to the 2018 machine's libraries, not to the procedure.
# chainrule's Numba backend (:doc:`/guides/backend`) adds the products one by one in its
# compiled loops and gives this second set of numbers, bit for bit; the test checks that too.
#
# In short: **chainrule runs the tutorial's procedure bit for bit** (same machine, NumPy
# backend); **the tutorial's printed errors agree with it to a few ulp** (14 to 16 significant
# digits, by machine), as any two BLAS libraries, or two ``exp`` implementations, would.
