"""Past one machine: chainrule on a Dask cluster.

* `fit_lbfgs`: one network trained by full-batch L-BFGS on data spread over the workers; each
  worker computes the loss and gradient of its own blocks at the current weights.
* Dask arrays and DataFrames given to `chainrule.fit`, `Network.fit` or the estimators are
  streamed block by block (`chainrule.train.stream`); nothing here is needed for that.

See the guide "Scaling out" (docs/guides/scaling.md).
"""

from chainrule.dask.lbfgs import fit_lbfgs

__all__ = ["fit_lbfgs"]
