"""
Digits: classification with a loss curve
========================================

scikit-learn's bundled 8x8 digits (1797 images, no download), pixels scaled to [0, 1], a
64-64-10 network with a ReLU hidden layer and a softmax output trained with Adam on mini-batches.
Integer labels work as they are: with a softmax output, ``fit`` one-hot encodes them ("sparse"
labels, as in Keras). ``validation_data`` gives the validation curve next to the training curve.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import chainrule as cr

digits = load_digits()
X = digits.data / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, digits.target, test_size=0.25, stratify=digits.target, random_state=0
)

net = cr.Network([64, 64, 10], activation="relu", output_activation="softmax", seed=0)
history = net.fit(
    X_train,
    y_train,
    optimizer="adam",
    lr=0.01,
    epochs=40,
    batch_size=32,
    validation_data=(X_test, y_test),
)
net.summary()
accuracy = np.mean(net.predict_classes(X_test) == y_test)
print(f"test accuracy: {accuracy:.3f}")

# %%
# Loss and accuracy per epoch
# ---------------------------
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
left.plot(history["loss"], label="training")
left.plot(history["val_loss"], label="validation")
left.set_xlabel("epoch")
left.set_ylabel("categorical cross-entropy")
left.set_yscale("log")
left.legend()
right.plot(history["accuracy"], label="training")
right.plot(history["val_accuracy"], label="validation")
right.set_xlabel("epoch")
right.set_ylabel("accuracy")
right.legend()
fig.tight_layout()

# %%
# The confusion matrix on the test digits
# ---------------------------------------
predicted = net.predict_classes(X_test)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
print(confusion)
