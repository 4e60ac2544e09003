"""Dask arrays and DataFrames given to `fit` are streamed block by block, never computed whole.

With one block the run is the in-memory run (same draws, same batches, same weights); with
several, the block order and the rows within each block are shuffled per epoch from the run's
seed; a subprocess shows that training on a lazy array several times larger than the memory it
uses keeps its peak to a few blocks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

import chainrule as cr  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(240, 4))
LABELS = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
Y = np.eye(3)[LABELS]


def network():
    return cr.Network([4, 6, 3], activation="tanh", output_activation="softmax", seed=0)


def train(X_data, y_data, **options):
    net = network()
    with cr.use_backend("numpy"):
        options = {"batch_size": 16, **options}
        history = net.fit(X_data, y_data, optimizer="adam", lr=0.01, epochs=3, seed=5, **options)
    return net, history


def assert_same(a, b):
    for left, right in zip(a.get_weights(), b.get_weights(), strict=True):
        for key in left:
            np.testing.assert_array_equal(left[key], right[key])


@pytest.mark.parametrize("weighted", [False, True])
def test_one_block_gives_the_in_memory_weights(weighted):
    weights = RNG.uniform(0.5, 2.0, 240) if weighted else None
    expected, history = train(X, Y, sample_weight=weights)
    streamed, streamed_history = train(
        da.from_array(X, chunks=-1),
        da.from_array(Y, chunks=-1),
        sample_weight=None if weights is None else da.from_array(weights, chunks=-1),
    )
    assert_same(expected, streamed)
    assert streamed_history["loss"] == history["loss"]


def test_a_dataframe_streams_its_partitions_like_an_array_of_the_same_blocks():
    frame = pd.DataFrame(X, columns=list("abcd")).assign(label=LABELS)
    ddf = dd.from_pandas(frame, npartitions=3)
    from_frame, _ = train(ddf[list("abcd")], ddf["label"])
    sizes = tuple(int(n) for n in ddf.map_partitions(len).compute())
    from_array, _ = train(da.from_array(X, chunks=(sizes, 4)), da.from_array(LABELS, chunks=(sizes,)))
    assert_same(from_frame, from_array)


def test_several_blocks_are_shuffled_from_the_seed():
    Xd, yd = da.from_array(X, chunks=(60, 4)), da.from_array(Y, chunks=(60, 3))
    first, history = train(Xd, yd)
    again, _ = train(Xd, yd)
    assert_same(first, again)  # the same seed, the same order
    in_memory, _ = train(X, Y)
    assert not np.array_equal(first.get_weights()[0]["W"], in_memory.get_weights()[0]["W"])
    assert history["loss"][-1] < history["loss"][0]


def test_lbfgs_streams_blocks_and_matches_the_in_memory_objective():
    in_memory, streamed = network(), network()
    expected = in_memory.fit(X, Y, optimizer="lbfgs", epochs=10)
    history = streamed.fit(
        da.from_array(X, chunks=(50, 4)), da.from_array(Y, chunks=(50, 3)), optimizer="lbfgs", epochs=10
    )
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-12)
    for left, right in zip(in_memory.get_weights(), streamed.get_weights(), strict=True):
        for key in left:
            np.testing.assert_allclose(right[key], left[key], rtol=0, atol=1e-10)


def test_mismatched_blocks_and_validation_split_are_refused():
    with pytest.raises(cr.InputError, match="blocks"):
        network().fit(da.from_array(X, chunks=(60, 4)), dd.from_pandas(pd.Series(LABELS), npartitions=2))
    with pytest.raises(ValueError, match="validation_data"):
        network().fit(da.from_array(X, chunks=60), da.from_array(Y, chunks=60), validation_split=0.2)


PROBE = textwrap.dedent(
    """
    import sys, tracemalloc
    import dask, dask.array as da
    import chainrule as cr

    def peak_mib():  # VmHWM, the peak resident set since the last reset_peak()
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024

    def reset_peak():  # Linux >= 4.0: the peak starts again from the current resident set
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")

    dask.config.set(scheduler="synchronous")
    rows, block = 2**20 * 3 // 4, 2**14  # 96 MiB of float64 inputs in 2 MiB blocks
    X = da.random.default_rng(0).standard_normal((rows, 16), chunks=(block, 16))
    y = (X[:, 0] > 0).astype("float64")
    net = cr.Network([16, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    net.fit(X[:block], y[:block], epochs=1, batch_size=4096, seed=0)  # warm up: imports, buffers
    reset_peak()
    before = peak_mib()
    tracemalloc.start()
    history = net.fit(X, y, epochs=1, batch_size=4096, seed=0)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print("GROWTH", peak_mib() - before, history.epochs)
    print("TRACED", traced)
    reset_peak()
    before = peak_mib()
    kept = X.compute()  # the control: the whole array really is 96 MiB
    print("CONTROL", peak_mib() - before)
    """
)


@pytest.mark.slow
def test_streaming_a_lazy_array_keeps_memory_to_a_few_blocks():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CHAINRULE_BACKEND": "numpy"},
    )
    assert result.returncode == 0, result.stderr
    numbers = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    growth, control = float(numbers["GROWTH"].split()[0]), float(numbers["CONTROL"])
    traced = float(numbers["TRACED"])
    assert traced < 16, f"streaming 96 MiB in 2 MiB blocks traced a peak of {traced:.1f} MiB"
    assert growth < 24, f"streaming 96 MiB in 2 MiB blocks raised peak memory by {growth:.0f} MiB"
    assert control > 80, "the probe must see memory that really is used (the control)"


def test_batch_size_none_says_it_steps_once_per_block():
    with pytest.warns(cr.TrainingWarning, match="one step per block") as caught:
        _, history = train(da.from_array(X, chunks=80), da.from_array(Y, chunks=80), batch_size=None)
    assert len(caught) == 1 and "3 blocks" in str(caught[0].message)
    assert history.epochs == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", cr.TrainingWarning)
        train(
            da.from_array(X, chunks=-1), da.from_array(Y, chunks=-1), batch_size=None
        )  # one block: full batch
