"""chainrule: feed-forward neural networks trained by backpropagation, on NumPy.

>>> import chainrule as cr
>>> net = cr.Network([3, 4, 1], activation="sigmoid", bias=False, seed=1)
>>> history = net.fit([[1, 1, 1], [1, 0, 1], [0, 0, 1], [0, 1, 1]], [1, 1, 0, 0],
...                   loss="half_sse", optimizer=cr.SGD(lr=1.0), epochs=5000)
>>> bool(net.predict([1, 0, 0])[0] > 0.9)
True
"""

from chainrule._version import __version__
from chainrule.errors import (
    ChainruleError,
    DataWarning,
    DivergenceError,
    InputError,
    ModelFileError,
    NotInitializedError,
    TrainingWarning,
)
from chainrule.io.c_export import export_c
from chainrule.io.checkpoints import ModelCheckpoint, save_checkpoint
from chainrule.io.onnx import export_onnx
from chainrule.network import Network, fit
from chainrule.nn.activations import get_activation
from chainrule.nn.inputs import one_hot
from chainrule.nn.kernels import backend, set_backend, use_backend
from chainrule.nn.layers import Dense, Dropout, Layer
from chainrule.nn.losses import Loss, get_loss
from chainrule.table import TableModel, load, save, train_table
from chainrule.teaching.gradcheck import GradcheckResult, gradcheck
from chainrule.teaching.trace import StepTrace, trace_step
from chainrule.train.callbacks import (
    Callback,
    EarlyStopping,
    LambdaCallback,
    ProgressLogger,
    ReduceLROnPlateau,
)
from chainrule.train.history import History, TrainingRun
from chainrule.train.lbfgs import LBFGS
from chainrule.train.optimizers import SGD, Adam, Optimizer, RMSprop, get_optimizer
from chainrule.train.schedules import CosineDecay, ExponentialDecay, InverseTimeDecay, StepDecay


def __getattr__(name: str) -> object:
    """Lazy re-exports of front ends, so ``import chainrule`` loads no web server.

    ``chainrule.playground(...)`` starts the live training page (`chainrule.live.playground`).
    """
    if name == "playground":
        from chainrule.live import playground

        globals()["playground"] = playground
        return playground
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


__all__ = [
    "LBFGS",
    "SGD",
    "Adam",
    "Callback",
    "ChainruleError",
    "CosineDecay",
    "DataWarning",
    "Dense",
    "DivergenceError",
    "Dropout",
    "EarlyStopping",
    "ExponentialDecay",
    "GradcheckResult",
    "History",
    "InputError",
    "InverseTimeDecay",
    "LambdaCallback",
    "Layer",
    "Loss",
    "ModelCheckpoint",
    "ModelFileError",
    "Network",
    "NotInitializedError",
    "Optimizer",
    "ProgressLogger",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepDecay",
    "StepTrace",
    "TableModel",
    "TrainingRun",
    "TrainingWarning",
    "__version__",
    "backend",
    "export_c",
    "export_onnx",
    "fit",
    "get_activation",
    "get_loss",
    "get_optimizer",
    "gradcheck",
    "load",
    "one_hot",
    "playground",
    "save",
    "save_checkpoint",
    "set_backend",
    "trace_step",
    "train_table",
    "use_backend",
]
