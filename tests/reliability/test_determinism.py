"""Guarantee 5: the same seed gives the same weights, run to run and process to process.

What can change them: the BLAS library and its thread count. A matrix product split over more
threads may add its terms in another order, which changes the last bits of the result; so
bit-identical runs need the same NumPy build, BLAS and thread count (for example
``OPENBLAS_NUM_THREADS=1``). Within one setup, chainrule itself adds no randomness that is not
drawn from the seed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr

SCRIPT = """
import hashlib, numpy as np, chainrule as cr
rng = np.random.default_rng(5)
X, y = rng.normal(size=(64, 6)), rng.uniform(size=(64, 2))
net = cr.Network([cr.Dense(6, 16, "relu"), cr.Dropout(0.3), cr.Dense(16, 2, "sigmoid")], seed={seed})
net.fit(X, y, loss="binary_crossentropy", optimizer="adam", epochs=5, batch_size={batch},
        validation_split=0.25)
weights = b"".join(v.tobytes() for layer in net.get_weights() for v in layer.values())
print(hashlib.sha256(weights).hexdigest())
"""


def fingerprint(seed, batch, threads="1"):
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(seed=seed, batch=batch)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize("batch", ["None", "8"], ids=["full-batch", "mini-batch"])
def test_same_seed_same_weights_across_processes(batch):
    assert fingerprint(0, batch) == fingerprint(0, batch)
    assert fingerprint(0, batch) != fingerprint(1, batch)


@pytest.mark.parametrize("batch_size", [None, 1, 7])
def test_same_seed_same_weights_in_process(batch_size, rng):
    X, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 1))

    def weights():
        net = cr.Network([cr.Dense(3, 8, "tanh"), cr.Dropout(0.2), cr.Dense(8, 1)], seed=11)
        net.fit(X, y, loss="mse", optimizer=cr.SGD(0.01, momentum=0.9), epochs=4, batch_size=batch_size)
        return b"".join(v.tobytes() for layer in net.get_weights() for v in layer.values())

    assert hashlib.sha256(weights()).digest() == hashlib.sha256(weights()).digest()


def test_training_does_not_touch_numpys_global_random_state(rng):
    np.random.seed(0)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    net = cr.Network([cr.Dense(3, 4, "relu"), cr.Dropout(0.5), cr.Dense(4, 1)], seed=0)
    net.fit(
        rng.normal(size=(10, 3)),
        rng.normal(size=(10, 1)),
        loss="mse",
        epochs=2,
        batch_size=3,
        validation_split=0.2,
    )
    assert np.random.random() == expected  # noqa: NPY002
