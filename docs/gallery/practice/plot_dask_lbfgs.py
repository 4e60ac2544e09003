"""
One network, two workers: data-parallel L-BFGS on a Dask cluster
=================================================================

Full-batch L-BFGS needs the loss and gradient over all rows at each point, and both are sums
over rows. ``chainrule.dask.fit_lbfgs`` keeps each block of a Dask array on the worker that
computed it, sends the weights once per evaluation, and adds up the blocks' gradients on the
driver. Here two worker processes on this machine train a small classifier, and the result is
compared with the same fit in one process.
"""

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import make_classification

import chainrule as cr
from chainrule.dask import fit_lbfgs

X, labels = make_classification(n_samples=2000, n_features=8, n_informative=5, n_classes=3, random_state=0)
Y = np.eye(3)[labels]


def network():
    return cr.Network([8, 16, 3], activation="tanh", output_activation="softmax", seed=0)


# %%
# The single-process fit: the whole table in memory.
single = network()
expected = single.fit(X, Y, optimizer=cr.LBFGS(l2=1e-4), epochs=30)

# %%
# The same fit with the rows in four blocks on two workers.
if __name__ == "__main__":
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        spread = network()
        history = fit_lbfgs(
            spread, da.from_array(X, chunks=(500, 8)), da.from_array(Y, chunks=(500, 3)), max_iter=30, l2=1e-4
        )
    difference = max(
        float(np.abs(a[key] - b[key]).max())
        for a, b in zip(single.get_weights(), spread.get_weights(), strict=True)
        for key in a
    )
    print(f"final loss, one process: {expected['loss'][-1]:.10f}")
    print(f"final loss, two workers: {history['loss'][-1]:.10f}")
    print(f"largest weight difference: {difference:.1e}")
    print({key: history.result[key] for key in ("workers", "blocks", "bytes_per_evaluation")})
    print("accuracy:", float(np.mean(spread.predict_classes(X) == labels)))
