"""The playground's settings: defaults, checking of what the page sends, and what they build."""

from __future__ import annotations

import copy
import math
from typing import Any

import chainrule as cr
import chainrule.live.features as feats
from chainrule.live.data import BUILTIN, MISSING

ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid", "identity")
OUTPUTS = ("auto", "sigmoid", "softmax", "identity", "tanh")
LOSSES = ("auto", "binary_crossentropy", "categorical_crossentropy", "mse", "half_mse", "mae")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
SCHEDULES = ("none", "step", "exponential", "inverse", "cosine")
TASKS = ("auto", "classification", "regression")
MAX_LAYERS, MAX_UNITS = 12, 256

DEFAULTS: dict[str, Any] = {
    "dataset": "spiral",
    "n": 300,
    "noise": 0.1,
    "train_ratio": 0.5,
    "data_seed": 0,
    "target": None,
    "task": "auto",
    "missing": "refuse",
    "features": list(feats.DEFAULT),
    "view": [],
    "held": -1,
    "layers": [
        {"units": 8, "activation": "tanh", "dropout": 0.0},
        {"units": 8, "activation": "tanh", "dropout": 0.0},
    ],
    "output": "auto",
    "loss": "auto",
    "optimizer": "adam",
    "lr": 0.03,
    "schedule": "none",
    "batch_size": 10,
    "l2": 0.0,
    "l1": 0.0,
    "seed": 0,
    "speed": 1,
}
DATA_KEYS = {"dataset", "n", "noise", "train_ratio", "data_seed", "target", "task", "missing", "features"}
NETWORK_KEYS = {"layers", "output", "loss", "seed"}
OPTIMIZER_KEYS = {"optimizer", "lr", "schedule", "l2", "l1"}


class ConfigError(cr.ChainruleError):
    """A setting the playground cannot use, with a message for the page."""


def _choice(value: Any, options: tuple[str, ...], key: str) -> str:
    if value not in options:
        raise ConfigError(f"{key} must be one of: {', '.join(options)}; got {value!r}")
    return str(value)


def _number(
    value: Any, key: str, lo: float, hi: float, integer: bool = False, above: bool = False
) -> float | int:
    """``value`` as a number in [lo, hi] (``above``: greater than ``lo``), or a `ConfigError`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a number, got {value!r}; nothing was changed") from None
    if not math.isfinite(number) or not lo <= number <= hi or (above and number == lo):
        span = f"greater than {lo:g} and at most {hi:g}" if above else f"between {lo:g} and {hi:g}"
        raise ConfigError(f"{key} must be {span}, got {value!r}; nothing was changed")
    if integer:
        if number != int(number):
            raise ConfigError(f"{key} must be a whole number, got {value!r}")
        return int(number)
    return number


def _layers(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise ConfigError(f"layers must be a list of at most {MAX_LAYERS} hidden layers")
    layers = []
    for i, layer in enumerate(value):
        if isinstance(layer, (int, float)):
            layer = {"units": layer}
        if not isinstance(layer, dict):
            raise ConfigError(f"hidden layer {i + 1} must be an object with units, activation, dropout")
        layers.append(
            {
                "units": _number(layer.get("units", 4), f"layer {i + 1} units", 1, MAX_UNITS, True),
                "activation": _choice(
                    layer.get("activation", "tanh"), ACTIVATIONS, f"layer {i + 1} activation"
                ),
                "dropout": _number(layer.get("dropout", 0.0), f"layer {i + 1} dropout", 0.0, 0.9),
            }
        )
    return layers


_CHECKS: dict[str, Any] = {
    "dataset": lambda v: v if v == "csv" else _choice(v, tuple(BUILTIN), "dataset"),
    "n": lambda v: _number(v, "n", 20, 5000, True),
    "noise": lambda v: _number(v, "noise", 0.0, 1.0),
    "train_ratio": lambda v: _number(v, "train_ratio", 0.1, 0.9),
    "data_seed": lambda v: _number(v, "data_seed", 0, 2**31 - 1, True),
    "target": lambda v: None if v in (None, "") else str(v),
    "task": lambda v: _choice(v, TASKS, "task"),
    "missing": lambda v: _choice(v, MISSING, "missing"),
    "features": lambda v: _features(v),
    "view": lambda v: [_number(x, "view", 0, 10**6, True) for x in v][:2] if isinstance(v, list) else [],
    "held": lambda v: _number(v, "held", -1, 10**9, True),
    "layers": _layers,
    "output": lambda v: _choice(v, OUTPUTS, "output"),
    "loss": lambda v: _choice(v, LOSSES, "loss"),
    "optimizer": lambda v: _choice(v, OPTIMIZERS, "optimizer"),
    "lr": lambda v: _number(v, "lr", 0.0, 1e6, above=True),
    "schedule": lambda v: _choice(v, SCHEDULES, "schedule"),
    "batch_size": lambda v: _number(v, "batch_size", 0, 10**6, True),
    "l2": lambda v: _number(v, "l2", 0.0, 10.0),
    "l1": lambda v: _number(v, "l1", 0.0, 10.0),
    "seed": lambda v: _number(v, "seed", 0, 2**31 - 1, True),
    "speed": lambda v: _number(v, "speed", 1, 1000, True),
}


def _features(value: Any) -> list[str]:
    try:
        return feats.check(value)
    except feats.FeatureError as exc:
        raise ConfigError(str(exc)) from None


def check(config: dict[str, Any], data: Any) -> None:
    """Refuse settings that cannot train on ``data`` (a `chainrule.live.data.Prepared`): a batch
    larger than the training rows (0, the whole set, is always fine), or an output and loss that
    do not fit the task; each message names the fix."""
    rows, n_out = len(data.train), data.prep.n_outputs
    if config["batch_size"] > rows:
        raise ConfigError(
            f"batch size {config['batch_size']} is larger than the {rows} training rows: "
            f"choose at most {rows} (or 0 for the whole set); nothing was changed"
        )
    output, loss = output_and_loss(config, data.task, n_out)
    problem = None
    if loss.endswith("crossentropy") and data.task == "regression":
        problem = f"{loss} needs classes, and this target is a number (regression): choose mse or auto"
    elif output == "softmax" and n_out == 1:
        problem = "softmax over one output unit is always 1, so nothing can be learnt: choose sigmoid or auto"
    elif loss == "categorical_crossentropy" and n_out == 1:
        problem = "categorical_crossentropy needs one output unit per class (this task has one): choose auto"
    elif loss == "binary_crossentropy" and output not in ("sigmoid", "softmax"):
        problem = (
            f"binary_crossentropy needs outputs between 0 and 1, which {output} does not give: choose sigmoid"
        )
    if problem:
        raise ConfigError(f"output {output} with loss {loss}: {problem}; nothing was changed")


def merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``current`` updated with the checked ``changes``; unknown keys and bad values raise."""
    if not isinstance(changes, dict):
        raise ConfigError("the configuration must be a JSON object")
    unknown = sorted(set(changes) - set(_CHECKS))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    merged = copy.deepcopy(current)
    for key, value in changes.items():
        merged[key] = _CHECKS[key](value)
    if len(merged["view"]) != 2:
        merged["view"] = []  # chosen by importance (see `chainrule.live.data.choose_view`)
    return merged


def output_and_loss(config: dict[str, Any], task: str, n_outputs: int) -> tuple[str, str]:
    """The output activation and loss: chosen from the task as ``chainrule train`` does, or overridden."""
    if task == "regression":
        output, loss = "identity", "mse"
    elif n_outputs == 1:
        output, loss = "sigmoid", "binary_crossentropy"
    else:
        output, loss = "softmax", "categorical_crossentropy"
    output = output if config["output"] == "auto" else config["output"]
    loss = loss if config["loss"] == "auto" else config["loss"]
    return output, loss


def build_network(config: dict[str, Any], n_in: int, n_out: int, output: str) -> cr.Network:
    """A `Network` with the configured hidden layers (and dropout after them), from ``seed``."""
    layers: list[Any] = []
    width = n_in
    for layer in config["layers"]:
        layers.append(cr.Dense(width, layer["units"], layer["activation"]))
        if layer["dropout"] > 0:
            layers.append(cr.Dropout(layer["dropout"]))
        width = layer["units"]
    layers.append(cr.Dense(width, n_out, output))
    return cr.Network(layers, seed=config["seed"])


class ShiftedSchedule:
    """A schedule of the whole run's epoch, though each `fit` call counts its epochs from 0."""

    def __init__(self, base: Any) -> None:
        self.base, self.offset = base, 0

    def __call__(self, epoch: int) -> float:
        return float(self.base(epoch + self.offset))


def build_optimizer(config: dict[str, Any]) -> tuple[cr.Optimizer, ShiftedSchedule | None]:
    """The configured optimizer, and its schedule (whose offset the session advances), if any."""
    lr, name = config["lr"], config["schedule"]
    bases = {
        "step": lambda: cr.StepDecay(lr, factor=0.5, every=100),
        "exponential": lambda: cr.ExponentialDecay(lr, rate=0.995),
        "inverse": lambda: cr.InverseTimeDecay(lr, decay=0.01),
        "cosine": lambda: cr.CosineDecay(lr, epochs=500, min_lr=lr * 0.01),
    }
    schedule = ShiftedSchedule(bases[name]()) if name in bases else None
    rate: Any = schedule if schedule is not None else lr
    penalties = {"weight_decay": config["l2"], "l1": config.get("l1", 0.0)}
    kind = config["optimizer"]
    if kind == "sgd":
        return cr.SGD(rate, **penalties), schedule
    if kind == "momentum":
        return cr.SGD(rate, momentum=0.9, **penalties), schedule
    if kind == "adam":
        return cr.Adam(rate, **penalties), schedule
    return cr.RMSprop(rate, **penalties), schedule
