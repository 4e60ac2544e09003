"""
A scikit-learn pipeline with grid search
========================================

``NeuralNetClassifier`` is a scikit-learn estimator (``check_estimator`` passes), so it goes in
a ``Pipeline`` after a scaler and into ``GridSearchCV`` like any other. The grid here is small on
purpose: two hidden-layer sizes by two learning rates, 3-fold cross-validation on scikit-learn's
bundled breast-cancer data. Each fit stops early when its held-out 10% stops improving, and ends
with the weights of its best epoch.
"""

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.sklearn import NeuralNetClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipeline = Pipeline(
    [
        ("scale", StandardScaler()),
        ("net", NeuralNetClassifier(max_iter=500, early_stopping=True, random_state=0)),
    ]
)
grid = {
    "net__hidden_layer_sizes": [(8,), (32, 16)],
    "net__learning_rate_init": [0.001, 0.01],
}
search = GridSearchCV(pipeline, grid, cv=3)
search.fit(X_train, y_train)

results = pd.DataFrame(search.cv_results_)[
    ["param_net__hidden_layer_sizes", "param_net__learning_rate_init", "mean_test_score", "rank_test_score"]
]
print(results.to_string(index=False))
print("best:", search.best_params_)
print(f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.3f}")

# %%
# The fitted network inside the pipeline
# --------------------------------------
# The chainrule network is ``network_``; its training curve is ``loss_curve_``.
best_net = search.best_estimator_["net"]
print(best_net.network_)
print(f"{best_net.n_iter_} epochs; best validation loss {min(best_net.validation_loss_curve_):.4f}")
