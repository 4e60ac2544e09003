"""
XOR decision boundary
=====================

XOR is the smallest problem a single layer cannot solve: no straight line separates the two
classes. A hidden layer of a few tanh units bends the boundary. Here a 2-8-1 network (tanh
hidden layer, sigmoid output, biases) learns it from noisy samples around the four corners,
and the picture shows the probability it gives to class 1 over the whole plane.
"""

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)
corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
labels = np.array([0, 1, 1, 0])
X = np.repeat(corners, 50, axis=0) + rng.normal(scale=0.15, size=(200, 2))
y = np.repeat(labels, 50)

net = cr.Network([2, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)
history = net.fit(X, y, optimizer="adam", lr=0.05, epochs=300, batch_size=32)
print(net)
print(f"training accuracy after {history.epochs} epochs: {history['accuracy'][-1]:.3f}")

# %%
# The probability of class 1 over the plane
# -----------------------------------------
xx, yy = np.meshgrid(np.linspace(-0.6, 1.6, 200), np.linspace(-0.6, 1.6, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
proba = net.predict(grid).reshape(xx.shape)

fig, ax = plt.subplots(figsize=(5, 4.5))
filled = ax.contourf(xx, yy, proba, levels=20, cmap="RdBu_r", alpha=0.8)
ax.contour(xx, yy, proba, levels=[0.5], colors="black", linewidths=1.5)
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="white", linewidths=0.5, s=20)
fig.colorbar(filled, ax=ax, label="P(class 1)")
ax.set_title("XOR: the 0.5 contour is the decision boundary")
fig.tight_layout()
