"""What the page draws, computed from the network: heatmap grids as bytes, weights, the trace;
and the mailbox that holds the latest frame for the page."""

from __future__ import annotations

import base64
import threading
from typing import Any

import numpy as np

import chainrule as cr
import chainrule.teaching.updates as updates
from chainrule.live.data import Prepared

GRID = 64  # the output heatmap is GRID x GRID values (fewer for big networks: see grid_size)
THUMB_STRIDE = 3  # neuron thumbnails take every third grid value: 22 x 22
MAX_SHOWN = 16  # units drawn per layer in the network diagram


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode("ascii")


def _to_bytes(unit: np.ndarray) -> np.ndarray:
    """Values in [0, 1] as 0..255."""
    return np.rint(np.clip(np.nan_to_num(unit, nan=0.5), 0.0, 1.0) * 255.0).astype(np.uint8)


def shown_units(net: cr.Network) -> list[list[int]]:
    """The units the diagram draws: the first `MAX_SHOWN` of each layer, inputs included."""
    return [list(range(min(width, MAX_SHOWN))) for width in net.sizes]


def layer_outputs(net: cr.Network, inputs: np.ndarray) -> list[np.ndarray]:
    """Each Dense layer's output for ``inputs`` (inference: dropout off)."""
    outputs = []
    values = inputs
    with np.errstate(all="ignore"):
        for layer in net.layers:
            values = layer.forward(values, training=False)
            if isinstance(layer, cr.Dense):
                outputs.append(values)
    return outputs


def _unit_scale(values: np.ndarray, activation: str) -> np.ndarray:
    """A neuron's values mapped to [0, 1] for colouring: 0.5 is zero (or the midpoint)."""
    if activation in ("sigmoid", "softmax"):
        return values
    if activation == "tanh":
        return (values + 1.0) / 2.0
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    return values / (2.0 * peak) + 0.5 if peak > 0 else np.full_like(values, 0.5)


def grid_size(net: cr.Network) -> int:
    """`GRID`, or a coarser grid when one pass over it would cost much more than training."""
    weights = sum(layer.n_in * layer.n_out for layer in net.dense_layers)
    return GRID if weights <= 20_000 else 40 if weights <= 100_000 else 24


def output_grid(data: Prepared, out: np.ndarray, size: int = GRID) -> dict[str, Any]:
    """The output heatmap: probability, (class, confidence) pairs, or a scaled regression value."""
    if data.task == "regression":
        target = data.y[data.train, 0]
        lo, hi = float(target.min()), float(target.max())
        pad = (hi - lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
        values = _b64(_to_bytes((out[:, 0] - lo) / (hi - lo)))
        return {"size": size, "kind": "value", "lo": lo, "hi": hi, "b64": values}
    if out.shape[1] == 1:
        return {"size": size, "kind": "probability", "b64": _b64(_to_bytes(out[:, 0]))}
    pairs = np.empty((out.shape[0], 2), dtype=np.uint8)
    pairs[:, 0] = out.argmax(axis=1)
    pairs[:, 1] = _to_bytes(out.max(axis=1))
    return {"size": size, "kind": "classes", "b64": _b64(pairs)}


def pictures(data: Prepared, net: cr.Network, focus: tuple[int, int] | None) -> dict[str, Any]:
    """The output grid, every shown unit's thumbnail, and the focused unit's full grid."""
    size = grid_size(net)
    grid = data.grid_inputs(size)
    outputs = layer_outputs(net, grid.astype(net.dtype))
    shown = shown_units(net)[1:]
    activations = [layer.activation.name for layer in net.dense_layers]
    thumbs = []
    for values, units, activation in zip(outputs, shown, activations, strict=True):
        square = values[:, units].reshape(size, size, len(units))[::THUMB_STRIDE, ::THUMB_STRIDE]
        thumbs.append(_to_bytes(_unit_scale(square, activation)).transpose(2, 0, 1).ravel())
    result: dict[str, Any] = {
        "grid": output_grid(data, outputs[-1], size),
        "neurons": {"size": len(range(0, size, THUMB_STRIDE)), "b64": _b64(np.concatenate(thumbs))},
        "inputs": input_thumbnails(grid, size, shown_units(net)[0]),
        "focus": None,
    }
    if focus is not None:
        layer, unit = focus
        if 0 <= layer < len(outputs) and 0 <= unit < outputs[layer].shape[1]:
            values = _unit_scale(outputs[layer][:, unit], activations[layer])
            result["focus"] = {"layer": layer, "unit": unit, "size": size, "b64": _b64(_to_bytes(values))}
    return result


def input_thumbnails(grid: np.ndarray, size: int, units: list[int]) -> str:
    """Each shown input over the view, lowest value dark, highest light (a held input is flat)."""
    square = grid[:, units].reshape(size, size, len(units))[::THUMB_STRIDE, ::THUMB_STRIDE]
    lo, hi = square.min(axis=(0, 1)), square.max(axis=(0, 1))
    span = np.where(hi - lo > 1e-12, hi - lo, np.inf)
    scaled = np.where(np.isfinite(span), (square - lo) / span, 0.5)
    return _b64(_to_bytes(scaled).transpose(2, 0, 1).ravel())


def weights(net: cr.Network) -> list[dict[str, Any]]:
    """The shown part of each Dense layer's weights and biases, rounded for the diagram."""
    shown = shown_units(net)
    out = []
    for i, layer in enumerate(net.dense_layers):
        W = layer.params["W"][np.ix_(shown[i], shown[i + 1])]
        b = layer.params.get("b", np.zeros(layer.n_out))[shown[i + 1]]
        out.append(
            {
                "activation": layer.activation.name,
                "W": np.round(np.nan_to_num(W), 4).tolist(),
                "b": np.round(np.nan_to_num(b), 4).tolist(),
            }
        )
    return out


def thin(series: list[float], points: int = 200) -> list[float | None]:
    """At most ``points`` values of a per-epoch series, evenly spaced, last one included."""
    if len(series) > points:
        index = np.linspace(0, len(series) - 1, points).round().astype(int)
        series = [series[i] for i in index]
    return [round(v, 6) if v is not None and np.isfinite(v) else None for v in series]


def _array(values: np.ndarray) -> list[Any]:
    return np.asarray(values, dtype=float).tolist()


def trace_json(trace: cr.StepTrace, net: cr.Network) -> dict[str, Any]:
    """Every number of a `cr.trace_step` result, and the weights it used, as JSON."""
    dense = net.dense_layers
    return {
        "X": _array(trace.X),
        "y": _array(trace.y),
        "output": _array(trace.output),
        "error": _array(trace.error),
        "loss_name": trace.loss_name,
        "loss": float(trace.loss),
        "loss_after": float(trace.loss_after),
        "fused": bool(trace.fused),
        "optimizer": trace.optimizer,
        "lr": float(trace.lr),
        "rule": None
        if trace.rule is None
        else {"name": trace.rule.name, "formulas": trace.rule.formulas, "settings": trace.rule.settings},
        "layers": [
            {
                "number": record.number,
                "activation": dense[record.number - 1].activation.name,
                "input": _array(record.input),
                "z": _array(record.z),
                "output": _array(record.output),
                "delta": _array(record.delta),
                "grads": {key: _array(value) for key, value in record.grads.items()},
                "changes": {key: _array(value) for key, value in record.changes.items()},
                "updates": {key: updates.as_json(value) for key, value in record.updates.items()},
                "W": _array(dense[record.number - 1].params["W"]),
                "b": _array(dense[record.number - 1].params["b"]) if "b" in record.grads else None,
            }
            for record in trace.layers
        ],
    }


class Mailbox:
    """The latest frame and its number; readers wait for a newer one and skip any in between."""

    def __init__(self) -> None:
        self.version, self.text = 0, ""
        self.changed = threading.Condition()

    def put(self, text: str) -> None:
        with self.changed:
            self.version += 1
            self.text = text
            self.changed.notify_all()

    def latest(self) -> str:
        """The latest frame's JSON text."""
        with self.changed:
            return self.text

    def wait_newer(self, seen: int, timeout: float) -> tuple[int, str] | None:
        with self.changed:
            if not self.changed.wait_for(lambda: self.version > seen, timeout):
                return None
            return self.version, self.text
