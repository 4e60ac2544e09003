"""
Seed 003: backpropagation in matrix form
========================================

python-course.eu sends the output errors back to the hidden layer through the transposed output
weights, then trains a sigmoid network one sample at a time on handwritten digits. chainrule
keeps the row layout (a batch is ``(n_samples, n_features)``), so the tutorial's ``who.T @ e``
is ``e @ W.T`` here, and it is exactly what ``Dense.backward`` returns. The digits are small 8x8
glyphs generated with noise (``chainrule.datasets.make_glyph_digits``), so nothing is
downloaded.
"""

# %%
# The printout
# ------------
from chainrule.examples import seed_003_matrix_backprop as seed

seed.main()

# %%
# A few of the digits it learned
# ------------------------------
import matplotlib.pyplot as plt

from chainrule.datasets import make_glyph_digits

images, labels = make_glyph_digits(10, noise=0.05, seed=1)
fig, axes = plt.subplots(1, 10, figsize=(8, 1.2))
for ax, image, label in zip(axes, images, labels, strict=True):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
fig.tight_layout()
