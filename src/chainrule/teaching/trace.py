"""Record one training step with every intermediate value, and print it in the seeds' terms.

This is what a learner reads: each layer's input, pre-activation and output on the way
forward; the output error and each layer's delta on the way back; each weight change. The
numbers are the library's own: `trace_step` runs the training step itself
(`chainrule.train.step.train_step`) and copies out what each layer kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.errors import DivergenceError
from chainrule.network import Network
from chainrule.nn.losses import Loss
from chainrule.train.optimizers import Optimizer, get_optimizer
from chainrule.train.step import train_step

Array = np.ndarray


@dataclass
class LayerStep:
    """One Dense layer's part of the step (arrays are copies, shapes as in the network)."""

    number: int  # 1-based, as the tutorials count layers after the input layer 0
    activation: str
    derivative: str  # the activation's slope from its output, "{a}" standing for the output
    input: Array
    z: Array
    output: Array
    delta: Array
    grads: dict[str, Array]
    changes: dict[str, Array]


@dataclass
class StepTrace:
    """Everything one step computed; `format` prints it, ``str(trace)`` as plain text."""

    X: Array
    y: Array
    output: Array
    loss_name: str
    loss_formula: str
    gradient_formula: str
    loss: float
    loss_after: float
    fused: bool
    optimizer: str
    lr: float
    layers: list[LayerStep]

    @property
    def error(self) -> Array:
        """The tutorials' output error ``y - out``."""
        return self.y - self.output

    def format(self, style: str = "text") -> str:
        """The step as plain ``"text"`` or ``"markdown"``."""
        if style not in ("text", "markdown"):
            raise ValueError(f"style must be 'text' or 'markdown', got {style!r}")
        return _format(self, markdown=style == "markdown")

    def __str__(self) -> str:
        return self.format()


def trace_step(
    net: Network,
    X: Any,
    y: Any,
    loss: str | Loss | None = None,
    optimizer: str | Optimizer = "sgd",
    lr: float | None = None,
    apply: bool = True,
) -> StepTrace:
    """Run one training step on ``(X, y)`` and return every intermediate value.

    With ``apply=False`` the weights are put back afterwards, so the network is unchanged.
    """
    X, y = net.as_inputs(X), net.as_targets(y)
    loss_fn = net.resolve_loss(loss)
    opt = get_optimizer(optimizer, lr)
    before = net.get_weights()
    opt.start_epoch(0)
    value, out = train_step(net, X, y, loss_fn, opt)
    if not np.isfinite(value):
        net.set_weights(before)
        raise DivergenceError(
            f"the loss is {value} at these weights: there is no step to trace", epoch=0, history=None
        )
    records = []
    for number, layer in enumerate(net.dense_layers, start=1):
        assert layer.input is not None and layer.z is not None and layer.output is not None
        assert layer.delta is not None
        after = layer.params
        records.append(
            LayerStep(
                number=number,
                activation=repr(layer.activation),
                derivative=layer.activation.derivative_formula,
                input=layer.input.copy(),
                z=layer.z.copy(),
                output=layer.output.copy(),
                delta=layer.delta.copy(),
                grads={key: grad.copy() for key, grad in layer.grads.items()},
                changes={key: after[key] - before[net.layers.index(layer)][key] for key in after},
            )
        )
    loss_after = loss_fn(y, net.forward(X))
    if not apply:
        net.set_weights(before)
    fused = loss_fn.fuses_with(net.output_activation)
    return StepTrace(
        X.copy(),
        y.copy(),
        out.copy(),
        loss_fn.name,
        loss_fn.formula or loss_fn.name,
        loss_fn.gradient_formula or "dLoss/dout",
        value,
        loss_after,
        fused,
        opt.name,
        opt.lr,
        records,
    )


def _format(trace: StepTrace, markdown: bool) -> str:
    lines: list[str] = []

    def heading(text: str) -> None:
        lines.append(f"### {text}" if markdown else text)

    def show(label: str, array: Array, indent: int = 2) -> None:
        text = np.array2string(np.asarray(array), precision=8, max_line_width=100)
        if markdown:
            lines.append(f"- `{label}`")
            lines.extend(["  ```", *("  " + row for row in text.splitlines()), "  ```"])
        else:
            pad = " " * (indent + len(label) + 3)
            first, *rest = text.splitlines()
            lines.append(f"{' ' * indent}{label} = {first}")
            lines.extend(pad + row for row in rest)

    n = len(trace.layers)
    loss_text, grad_text = trace.loss_formula, trace.gradient_formula
    sizes = "-".join(
        str(s) for s in [trace.layers[0].input.shape[1], *(r.output.shape[1] for r in trace.layers)]
    )
    heading(f"One backpropagation step: {sizes} network, {trace.X.shape[0]} sample(s)")
    lines.append(f"loss: {trace.loss_name} = {loss_text}; update: {trace.optimizer}, lr = {trace.lr:g}")
    lines.append("")
    heading("Forward pass")
    show("layer 0 (input) a0", trace.layers[0].input)
    for r in trace.layers:
        role = "output" if r.number == n else "hidden"
        lines.append(f"  layer {r.number} ({role}, {r.activation}):")
        show(f"z{r.number} = a{r.number - 1} @ W{r.number}" + (" + b" if "b" in r.grads else ""), r.z, 4)
        show(f"a{r.number} = {r.activation}(z{r.number})", r.output, 4)
    lines.append("")
    heading("Output error and loss")
    show("target y", trace.y)
    show(f"error y - a{n}", trace.error)
    lines.append(f"  loss = {trace.loss:.10g}")
    lines.append("")
    heading("Backward pass (delta = dLoss/dz; the tutorials' error term is -delta)")
    for r in reversed(trace.layers):
        derivative = r.derivative.format(a=f"a{r.number}")
        if r.number == n:
            if trace.fused:
                formula = f"(a{n} - y)/n   (fused {r.activation} + {trace.loss_name})"
            else:
                formula = f"{grad_text} * {derivative}".replace("out", f"a{n}")
        else:
            formula = f"(delta{r.number + 1} @ W{r.number + 1}.T) * {derivative}"
        show(f"delta{r.number} = {formula}", r.delta)
    lines.append("")
    heading("Weight changes (= -lr * gradient; the gradient of W_l is a_(l-1).T @ delta_l)")
    for r in trace.layers:
        for key, change in r.changes.items():
            show(f"change in {key}{r.number}", change)
    lines.append("")
    lines.append(f"loss after the step = {trace.loss_after:.10g} (before: {trace.loss:.10g})")
    return "\n".join(lines)
