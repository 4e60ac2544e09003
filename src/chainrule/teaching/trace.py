"""Record one training step with every intermediate value, and print it in the seeds' terms.

This is what a learner reads: each layer's input, pre-activation and output on the way
forward; the output error and each layer's delta on the way back; each weight change. The
numbers are the library's own: `trace_step` runs the training step itself
(`chainrule.train.step.train_step`) and copies out what each layer kept.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.errors import DivergenceError
from chainrule.network import Network
from chainrule.nn.losses import Loss
from chainrule.teaching.updates import (
    ParamUpdate,
    UpdateRule,
    describe_rule,
    param_update,
    settings_text,
    snapshot,
)
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
    weights: dict[str, Array]  # the parameters the forward pass used (before the step)
    updates: dict[str, ParamUpdate] = field(default_factory=dict)  # the optimizer's arrays


@dataclass
class StepTrace:
    """Everything one step computed; `format` prints it, ``str(trace)`` as plain text.

    Attributes
    ----------
    X, y : ndarray
        The batch and its targets.
    output : ndarray
        The network's outputs before the step.
    loss_name, loss_formula, gradient_formula : str
        The loss and its formulas as the trace prints them.
    loss, loss_after : float
        The batch loss before and after the step.
    fused : bool
        Whether the output delta took the fused ``(out - y)/n`` form.
    optimizer : str
    lr : float
    layers : list of LayerStep
        One record per Dense layer (input, z, output, delta, grads, changes, weights, and the
        optimizer's arrays of each parameter's update).
    rule : UpdateRule
        The optimizer's formulas and settings for this step (``t``, bias corrections, L2).

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> trace = cr.trace_step(net, [[0, 1], [1, 0]], [1, 0], lr=0.5)
    >>> round(trace.loss, 4), round(trace.loss_after, 4), trace.fused
    (0.6874, 0.6713, True)
    >>> [record.changes["W"].shape for record in trace.layers]
    [(2, 3), (3, 1)]
    >>> print(trace.format("markdown").splitlines()[0])
    ### One backpropagation step: 2-3-1 network, 2 sample(s)
    """

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
    rule: UpdateRule | None = None

    @property
    def error(self) -> Array:
        """The tutorials' output error ``y - out``."""
        return self.y - self.output

    def format(self, style: str = "text") -> str:
        """The step as plain ``"text"`` or ``"markdown"``.

        Parameters
        ----------
        style : {"text", "markdown"}
            Plain text (as ``str(trace)`` and ``chainrule explain`` print it) or Markdown (as
            Jupyter shows it).

        Returns
        -------
        str
            Every number of the step: forward pass, loss, deltas, gradients and updates.

        Raises
        ------
        ValueError
            For another style.
        """
        if style not in ("text", "markdown"):
            raise ValueError(f"style must be 'text' or 'markdown', got {style!r}")
        return _format(self, markdown=style == "markdown")

    def __str__(self) -> str:
        return self.format()

    def _repr_markdown_(self) -> str:
        """Jupyter shows the step as Markdown."""
        return self.format("markdown")


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

    The step is `chainrule.train.step.train_step`, the one `fit` runs; the trace copies out
    what each layer kept (input, ``z``, output, delta, gradients) and the weight changes.

    Parameters
    ----------
    net : Network
        The network to step (its weights change unless ``apply=False``).
    X : array-like of shape (n_samples, n_inputs)
        One sample (a 1-D array) or a batch.
    y : array-like of shape (n_samples, n_outputs)
        The targets.
    loss : str or Loss, optional
        Default: the network's own, else the one its output activation suggests.
    optimizer : str or Optimizer
        The update rule; default plain ``"sgd"``. An instance's step is its real next one:
        its state (velocity, moments), step count, current learning rate and weight decay are
        used, and advance by one step unless ``apply`` is False.
    lr : float, optional
        Learning rate for an optimizer given by name.
    apply : bool
        Keep the updated weights and optimizer state (default); ``False`` puts the old ones back.

    Returns
    -------
    StepTrace
        ``str(trace)`` prints the step in the seeds' terms; ``trace.format("markdown")``.

    Raises
    ------
    DivergenceError
        If the loss at these weights is not finite (there is no step to show).

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.Network([2, 2, 1], activation="sigmoid", seed=0)
    >>> trace = cr.trace_step(net, [[1.0, 0.0]], [[1.0]], loss="half_sse", lr=0.5, apply=False)
    >>> [record.delta.shape for record in trace.layers]
    [(1, 2), (1, 1)]
    """
    X, y = net.as_inputs(X), net.as_targets(y)
    loss_fn = net.resolve_loss(loss)
    opt = get_optimizer(optimizer, lr)
    if isinstance(optimizer, Optimizer):  # its current rate (a schedule's, mid-run), checked
        if not (math.isfinite(opt.lr) and opt.lr >= 0.0):
            raise ValueError(f"lr must be a finite number >= 0, got {opt.lr!r}")
    else:
        opt.start_epoch(0)
    before = net.get_weights()
    saved = copy.deepcopy(opt.state), opt.iterations
    state_before = snapshot(opt, net.slots())
    value, out = train_step(net, X, y, loss_fn, opt)
    if not np.isfinite(value):
        net.set_weights(before)
        raise DivergenceError(
            f"the loss is {value} at these weights: there is no step to trace", epoch=0, history=None
        )
    rule, slots = describe_rule(opt), {slot.name: slot for slot in net.slots()}
    state_after = snapshot(opt, list(slots.values()))
    records = [
        _record(
            number,
            layer,
            before[net.layers.index(layer)],
            net.layers.index(layer),
            slots,
            rule,
            state_before,
            state_after,
        )
        for number, layer in enumerate(net.dense_layers, start=1)
    ]
    loss_after = loss_fn(y, net.forward(X))
    if not apply:
        net.set_weights(before)
        opt.state, opt.iterations = saved
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
        rule,
    )


def _record(
    number: int,
    layer: Any,
    weights: dict[str, Array],
    position: int,
    slots: dict[str, Any],
    rule: UpdateRule,
    state_before: dict[str, dict[str, Array]],
    state_after: dict[str, dict[str, Array]],
) -> LayerStep:
    """One Dense layer's record: copies of what it kept, its changes and its update's arrays."""
    assert layer.input is not None and layer.z is not None and layer.output is not None
    assert layer.delta is not None
    changes = {key: value - weights[key] for key, value in layer.params.items()}
    updates = {}
    for key in layer.params:
        name = f"{position}.{key}"
        updates[key] = param_update(
            f"{key}{number}",
            slots[name],
            weights[key],
            changes[key],
            state_before[name],
            state_after[name],
            rule,
        )
    return LayerStep(
        number=number,
        activation=repr(layer.activation),
        derivative=layer.activation.derivative_formula,
        input=layer.input.copy(),
        z=layer.z.copy(),
        output=layer.output.copy(),
        delta=layer.delta.copy(),
        grads={key: grad.copy() for key, grad in layer.grads.items()},
        changes=changes,
        weights=weights,
        updates=updates,
    )


class _Writer:
    """Lines of a step trace, as aligned plain text or as Markdown that nests correctly."""

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.lines: list[str] = []

    def heading(self, text: str, level: int = 3) -> None:
        if self.markdown:
            self.lines.extend(["", "#" * level + " " + text, ""])
        else:
            self.lines.append(text if level <= 3 else "  " + text.rstrip(":") + ":")

    def paragraph(self, text: str) -> None:
        self.lines.extend(["", text, ""] if self.markdown else ["  " + text])

    def show(self, label: str, array: Array, indent: int = 2) -> None:
        text = np.array2string(np.asarray(array), precision=8, max_line_width=100)
        if self.markdown:  # a list item whose code block is indented under it
            self.lines.extend(
                [f"- `{label}` =", "", "  ```", *("  " + row for row in text.splitlines()), "  ```"]
            )
            return
        first, *rest = text.splitlines()
        self.lines.append(f"{' ' * indent}{label} = {first}")
        self.lines.extend(" " * (indent + len(label) + 3) + row for row in rest)

    def text(self) -> str:
        # Markdown: at most one blank line in a row, none at the start.
        out: list[str] = []
        for line in self.lines:
            if line == "" and (not out or out[-1] == ""):
                continue
            out.append(line)
        return "\n".join(out).strip("\n")


def _format(trace: StepTrace, markdown: bool) -> str:
    w = _Writer(markdown)
    n = len(trace.layers)
    sizes = "-".join(
        str(s) for s in [trace.layers[0].input.shape[1], *(r.output.shape[1] for r in trace.layers)]
    )
    w.heading(f"One backpropagation step: {sizes} network, {trace.X.shape[0]} sample(s)")
    w.lines.append(
        f"loss: {trace.loss_name} = {trace.loss_formula}; update: {trace.optimizer}, lr = {trace.lr:g}"
    )
    w.lines.append("")
    w.heading("Forward pass")
    w.show("layer 0 (input) a0", trace.layers[0].input)
    for r in trace.layers:
        role = "output" if r.number == n else "hidden"
        w.heading(f"layer {r.number} ({role}, {r.activation}):", level=4)
        for key, value in r.weights.items():
            w.show(f"{key}{r.number}", value, 4)
        w.show(
            f"z{r.number} = a{r.number - 1} @ W{r.number}" + (f" + b{r.number}" if "b" in r.grads else ""),
            r.z,
            4,
        )
        w.show(f"a{r.number} = {r.activation}(z{r.number})", r.output, 4)
    w.lines.append("")
    w.heading("Output error and loss")
    w.show("target y", trace.y)
    w.show(f"error y - a{n}", trace.error)
    w.paragraph(f"loss = {trace.loss:.10g}")
    w.lines.append("")
    w.heading("Backward pass (delta = dLoss/dz; the tutorials' error term is -delta)")
    for r in reversed(trace.layers):
        derivative = r.derivative.format(a=f"a{r.number}")
        if r.number == n:
            if trace.fused:
                formula = f"(a{n} - y)/n   (fused {r.activation} + {trace.loss_name})"
            else:
                formula = f"{trace.gradient_formula} * {derivative}".replace("out", f"a{n}")
        else:
            formula = f"(delta{r.number + 1} @ W{r.number + 1}.T) * {derivative}"
        w.show(f"delta{r.number} = {formula}", r.delta)
    w.lines.append("")
    _format_update(w, trace)
    w.lines.append("")
    w.paragraph(f"loss after the step = {trace.loss_after:.10g} (before: {trace.loss:.10g})")
    return w.text()


ARRAY_LABELS = {
    "gradient": "gradient dLoss/d{p} = a{prev}.T @ delta{n}",
    "l2": "l2 term weight_decay * {p}",
    "l1": "l1 term l1 * sign({p})",
    "g": "g",
    "v_prev": "v_prev (the state before the step)",
    "m_prev": "m_prev (the state before the step)",
    "m": "m",
    "v": "v",
    "m_hat": "m_hat",
    "v_hat": "v_hat",
    "change": "change in {p}",
}


def _format_update(w: _Writer, trace: StepTrace) -> None:
    """The optimizer's formulas, settings and, per parameter, every array of its update."""
    rule = trace.rule
    if rule is None:  # a trace made by hand: the changes alone
        w.heading("Weight changes")
        for r in trace.layers:
            for key, change in r.changes.items():
                w.show(f"change in {key}{r.number}", change)
        return
    w.heading(f"Weight changes: the {rule.name} update (the gradient of W_l is a_(l-1).T @ delta_l)")
    w.paragraph(settings_text(rule))
    for formula in rule.formulas:
        w.paragraph(formula)
    for r in trace.layers:
        for key, update in r.updates.items():
            w.heading(f"{update.name}:", level=4)
            for name, array in update.arrays.items():
                if name == "g" and "l2" not in update.arrays:
                    continue  # g is the gradient itself
                label = ARRAY_LABELS[name].format(p=update.name, prev=r.number - 1, n=r.number)
                if key == "b" and name == "gradient":
                    label = f"gradient dLoss/d{update.name} = sum of delta{r.number} over samples"
                w.show(label, array, 4)
