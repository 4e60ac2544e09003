"""
Regression with target scaling
==============================

A network's weights start small, so its raw outputs start near zero; a target in the hundreds
(scikit-learn's bundled diabetes data: disease progression from about 25 to 346) makes the first
gradients huge and training slow or unstable at the usual learning rates. The cure is to
standardise the inputs *and* the target, train, and map the predictions back.

``chainrule.sklearn.NeuralNetRegressor`` standardises the target by default
(``target_scaling=True``) and undoes it in ``predict``; ``target_scaling=False`` trains on the
raw target, exactly as scikit-learn's ``MLPRegressor`` does. The inputs are scaled in the
pipeline.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.sklearn import NeuralNetRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)


def model(target_scaling):
    return make_pipeline(
        StandardScaler(),
        NeuralNetRegressor(
            hidden_layer_sizes=(16,),
            activation="tanh",
            max_iter=300,
            early_stopping=True,
            target_scaling=target_scaling,
            random_state=0,
        ),
    )


models = {"raw target": model(False), "standardised target": model(True)}
for name, pipeline in models.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline.fit(X_train, y_train)
    print(f"{name:20s}: R^2 on the test set {pipeline.score(X_test, y_test):.3f}")
    for warning in caught:
        print(f"{'':22s}{warning.category.__name__}: {warning.message}")

# The bar to clear on this small, noisy data set: a linear model.
linear = make_pipeline(StandardScaler(), LinearRegression()).fit(X_train, y_train)
print(f"{'linear regression':20s}: R^2 on the test set {linear.score(X_test, y_test):.3f}")

# %%
# Predictions against the truth
# -----------------------------
# The scaled model's predictions come back in the target's units.
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(y_test, models["standardised target"].predict(X_test), s=12)
ax.plot([y.min(), y.max()], [y.min(), y.max()], color="grey", linewidth=1)
ax.set_xlabel("true progression")
ax.set_ylabel("predicted progression")
fig.tight_layout()

# %%
# The same with the core library
# ------------------------------
# Without scikit-learn: keep the training statistics, and apply them to new inputs too (the
# mistake seed 004's tutorial makes is to scale a new input by its own statistics).
import chainrule as cr

x_mean, x_std = X_train.mean(axis=0), X_train.std(axis=0)
y_mean, y_std = y_train.mean(), y_train.std()
net = cr.Network([10, 16, 1], activation="tanh", output_activation="identity", seed=0)
net.fit((X_train - x_mean) / x_std, (y_train - y_mean) / y_std, optimizer="adam", lr=0.01, epochs=100)
predicted = net.predict((X_test - x_mean) / x_std).ravel() * y_std + y_mean
r2 = 1 - ((y_test - predicted) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum()
print(f"core library, standardised target: R^2 {r2:.3f}")
