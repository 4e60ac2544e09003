"""Data from outside NumPy and pandas: polars frames train, GPU arrays get a clear way forward."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def test_polars_frames_train_like_numpy_arrays():
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"a": XOR_X[:, 0], "b": XOR_X[:, 1].astype(int)})  # a float and an int column
    target = pl.Series("y", XOR_Y)
    from_polars, from_numpy = cr.Network([2, 3, 1], seed=0), cr.Network([2, 3, 1], seed=0)
    history = from_polars.fit(frame, target, epochs=5, optimizer=cr.SGD(lr=0.5))
    expected = from_numpy.fit(XOR_X, XOR_Y, epochs=5, optimizer=cr.SGD(lr=0.5))
    assert history["loss"] == expected["loss"]
    np.testing.assert_array_equal(from_polars.predict(frame), from_numpy.predict(XOR_X))


def test_polars_nulls_and_text_get_chainrules_messages():
    pl = pytest.importorskip("polars")
    net = cr.Network([1, 1], seed=0)
    with pytest.raises(cr.InputError, match="NaN or infinite values \\(first at row 1"):
        net.fit(pl.DataFrame({"a": [1.0, None]}), [0.0, 1.0])
    with pytest.raises(cr.InputError, match="must be numeric"):
        net.fit(pl.DataFrame({"a": ["x", "y"]}), [0.0, 1.0])


class CudaArray:
    """Stands in for a CuPy or CUDA PyTorch array: the interface, and no implicit conversion."""

    shape, ndim, size = (4, 2), 2, 8

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": "<f8", "data": (0, False), "version": 3}

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed.")


class CupyNdarray(CudaArray):
    pass


CupyNdarray.__module__ = "cupy._core.core"


@pytest.mark.parametrize("array_type", [CudaArray, CupyNdarray])
def test_gpu_arrays_are_refused_with_the_way_forward(array_type):
    net = cr.Network([2, 3, 1], seed=0)
    for call in (lambda: net.fit(array_type(), XOR_Y), lambda: net.predict(array_type())):
        with pytest.raises(cr.InputError, match=r"GPU array .*X\.get\(\) or cupy\.asnumpy\(X\)"):
            call()
    with pytest.raises(cr.InputError, match=r"y is a GPU array"):
        net.fit(XOR_X, array_type())
