"""Threads: how many the element-wise passes of a run may use, and a cap on BLAS's own.

A step's big matrix products run on BLAS's threads (OpenBLAS splits a product above about 2^18
multiply-adds over all of them); the element-wise passes between them (bias and activation,
slope and bias gradient, the optimizer's update) run on one thread unless the caller asks for
more: inside ``with split_passes(2):``, a `fit` on the Numba backend whose arrays reach
`PARALLEL_MIN` elements calls the parallel variants (`chainrule.nn.kernels.numba_parallel`).
They split the same compiled serial pass over blocks of rows (a bias gradient: blocks of columns,
each summed down its rows in order), so the results are bit for bit those of one thread.

It is not the default because it did not pay where it was measured (2 shared cores, mnist-shaped
batches of 128): a pass over a few hundred thousand floats is memory-bound and takes tens of
microseconds, about what handing half of it to another thread costs; and with Numba's OpenMP
threading layer, whose idle threads spin, each parallel pass made OpenBLAS's threads and
OpenMP's fight for the second core (about 8 ms a step; ``OMP_WAIT_POLICY=passive`` removes
that). See docs/performance.md.

The count is held in a `contextvars.ContextVar`: `split_passes` sets it for its block, `fit`
copies the caller's context, so it is per thread and per asyncio task.

`limit` caps BLAS's threads for a block and restores the caller's setting on the way out, an
error included (``with limit(1): net.fit(...)``): for mid-sized networks on a machine other work
keeps busy, where OpenBLAS waits at every product for its slowest thread. A small network gains
nothing (OpenBLAS runs products under about 2^18 multiply-adds on one thread anyway), so `fit`
never caps by itself.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: The fewest elements an array must hold before its pass is split over threads: below it the
#: hand-over to another thread (some microseconds) costs more than the pass itself.
PARALLEL_MIN = 1 << 16

_passes: contextvars.ContextVar[int] = contextvars.ContextVar("chainrule_pass_threads", default=1)

#: The threads this context's element-wise passes may use (1 unless a run set more): a C-level call.
passes: Callable[[], int] = _passes.get


def set_passes(count: int) -> None:
    """Let this context's passes use ``count`` threads, with no way back: for a copied context only
    (``contextvars.copy_context().run(...)``, as `fit` trains), which ends with its call."""
    _passes.set(max(1, int(count)))


@contextmanager
def split_passes(threads: int) -> Iterator[int]:
    """Let the `fit` calls inside a ``with`` block split Numba's element-wise passes over ``threads``.

    Only runs on the Numba backend whose largest pass crosses `PARALLEL_MIN` elements split; the
    numbers are the same as on one thread. Give BLAS's thread count (more only adds threads that
    wait for the products).

    Parameters
    ----------
    threads : int
        At least 1 (1: every pass on one thread, the default).

    Yields
    ------
    int
        ``threads``.

    Raises
    ------
    ValueError
        For a count that is not a whole number of at least 1 (nothing is changed).

    Examples
    --------
    >>> from chainrule.nn.kernels.threads import passes, split_passes
    >>> with split_passes(2):
    ...     passes()
    2
    >>> passes()
    1
    """
    token = _passes.set(_checked(threads))
    try:
        yield threads
    finally:
        _passes.reset(token)


def _checked(threads: int) -> int:
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a whole number of at least 1, got {threads!r}")
    return threads


def blas_threads() -> int:
    """BLAS's thread count now (threadpoolctl's; the largest if several BLAS are loaded), else 1."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 1
    counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts, default=1)


def for_run(largest: int) -> int:
    """The threads a run's passes may use, given the most elements one of its passes crosses:
    the caller's `split_passes` count where ``largest`` reaches `PARALLEL_MIN`, else 1."""
    return passes() if largest >= PARALLEL_MIN else 1


@contextmanager
def limit(threads: int) -> Iterator[int]:
    """Cap BLAS's threads (and so the passes') at ``threads`` inside a ``with`` block.

    Parameters
    ----------
    threads : int
        At least 1.

    Yields
    ------
    int
        ``threads``.

    Raises
    ------
    ValueError
        For a count that is not a whole number of at least 1 (nothing is changed).
    ImportError
        Without threadpoolctl (``pip install threadpoolctl``).

    Notes
    -----
    The caller's settings are restored when the block ends, however it ends. Like threadpoolctl's
    own limits, the cap is process-wide while it holds: other threads' products see it too.

    Examples
    --------
    >>> import chainrule as cr
    >>> from chainrule.nn.kernels.threads import limit
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> with limit(1):  # doctest: +SKIP
    ...     history = net.fit([[0, 1], [1, 0]], [1, 0], epochs=2)
    """
    _checked(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError as error:
        raise ImportError("capping BLAS's threads needs threadpoolctl: pip install threadpoolctl") from error
    with threadpool_limits(limits=threads, user_api="blas"):
        yield threads
