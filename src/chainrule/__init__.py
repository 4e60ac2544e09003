"""chainrule: feed-forward neural networks trained by backpropagation, on NumPy.

>>> import chainrule as cr
>>> net = cr.Network([3, 4, 1], activation="sigmoid", bias=False, seed=1)
>>> history = net.fit([[1, 1, 1], [1, 0, 1], [0, 0, 1], [0, 1, 1]], [1, 1, 0, 0],
...                   loss="half_sse", optimizer=cr.SGD(lr=1.0), epochs=5000)
>>> bool(net.predict([1, 0, 0])[0] > 0.9)
True
"""

from chainrule.activations import get_activation
from chainrule.callbacks import (
    Callback,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ProgressLogger,
    ReduceLROnPlateau,
)
from chainrule.errors import (
    ChainruleError,
    DivergenceError,
    InputError,
    ModelFileError,
    NotInitializedError,
    TrainingWarning,
)
from chainrule.export import export_onnx
from chainrule.gradcheck import GradcheckResult, gradcheck
from chainrule.layers import Dense, Dropout, Layer
from chainrule.losses import Loss, get_loss
from chainrule.network import Network, one_hot
from chainrule.optimizers import SGD, Adam, Optimizer, RMSprop, get_optimizer
from chainrule.schedules import CosineDecay, ExponentialDecay, InverseTimeDecay, StepDecay
from chainrule.serialization import load, save, save_checkpoint
from chainrule.trace import StepTrace, trace_step
from chainrule.training import History, TrainingRun, fit

__version__ = "0.1.0"

__all__ = [
    "SGD",
    "Adam",
    "Callback",
    "ChainruleError",
    "CosineDecay",
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
    "TrainingRun",
    "TrainingWarning",
    "__version__",
    "export_onnx",
    "fit",
    "get_activation",
    "get_loss",
    "get_optimizer",
    "gradcheck",
    "load",
    "one_hot",
    "save",
    "save_checkpoint",
    "trace_step",
]
