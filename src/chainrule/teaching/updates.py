"""The optimizer's part of one traced step: its formula and every number, for any optimizer.

`chainrule.trace_step` snapshots the optimizer's state (velocity, first and second moments)
before the real step and reads it again after; this module turns the two snapshots, the
gradient and the real weight change into the lines a learner reads: the gradient with its L2
term, each state update, Adam's bias corrections, and the change, all with the step's numbers.
The change is always the real one (the weights after minus before); the intermediate arrays are
the optimizer's own state after the step, so nothing shown is a re-derivation that could differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.train.optimizers import SGD, Adam, Optimizer, RMSprop, Slot

Array = np.ndarray


@dataclass
class ParamUpdate:
    """One parameter array's update: named arrays in the order the formula computes them.

    Attributes
    ----------
    name : str
        ``"W2"`` or ``"b2"`` (the layer counted as the trace counts it).
    arrays : dict of str to ndarray
        ``"gradient"`` (dLoss/dparam), ``"l2"`` (``weight_decay * W``, when it applies),
        ``"l1"`` (``l1 * sign(W)``, likewise), ``"g"`` (the gradient the rule uses), the state
        before (``"v_prev"``, ``"m_prev"``) and after (``"v"``, ``"m"``), Adam's ``"m_hat"`` and
        ``"v_hat"``, and ``"change"`` (the real one).
    """

    name: str
    arrays: dict[str, Array] = field(default_factory=dict)


@dataclass
class UpdateRule:
    """The optimizer's rule for the step: its formulas, settings and step number.

    Attributes
    ----------
    name : str
        ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"`` or ``"rmsprop"``.
    formulas : list of str
        One line per array the rule computes, in order (``g = gradient + l2 * W`` first when
        weight decay applies).
    settings : dict of str to float
        ``lr`` and the rule's own numbers (momentum; beta1, beta2, eps, the step ``t`` and the
        bias corrections ``1 - beta1**t``, ``1 - beta2**t``; rho), and ``weight_decay``.
    """

    name: str
    formulas: list[str]
    settings: dict[str, float]


def rule_name(opt: Optimizer) -> str:
    """The rule's name: SGD is ``"sgd"``, ``"momentum"`` or ``"nesterov"``."""
    if isinstance(opt, SGD) and opt.momentum:
        return "nesterov" if opt.nesterov else "momentum"
    return opt.name


def snapshot(opt: Optimizer, slots: list[Slot]) -> dict[str, dict[str, Array]]:
    """Copies of each slot's persistent state (zeros where the optimizer has none yet)."""
    keys = opt.state_keys()
    out: dict[str, dict[str, Array]] = {}
    for slot in slots:
        state = opt.state.get(slot.name) or {}
        out[slot.name] = {
            key: np.array(state[key]) if key in state else np.zeros_like(slot.param) for key in keys
        }
    return out


def describe_rule(opt: Optimizer) -> UpdateRule:
    """The formulas and settings of ``opt``'s step, numbered as the step it is about to take."""
    name, settings = rule_name(opt), {"lr": float(opt.lr), "weight_decay": float(opt.weight_decay)}
    terms = ["gradient"] + ["weight_decay * W"] * bool(opt.weight_decay) + ["l1 * sign(W)"] * bool(opt.l1)
    biases = "   (weights only; biases use g = gradient)" if len(terms) > 1 else ""
    formulas = [f"g = {' + '.join(terms)}{biases}"]
    if opt.l1:
        settings["l1"] = float(opt.l1)
    if name == "sgd":
        formulas.append("change = -lr * g")
    elif isinstance(opt, SGD):
        settings["momentum"] = float(opt.momentum)
        formulas.append("v = momentum * v_prev + g")
        if opt.nesterov:
            formulas.append("change = -lr * (g + momentum * v)")
        else:
            formulas.append("change = -lr * v")
    elif isinstance(opt, Adam):
        t = opt.iterations  # already counted: the step this is
        settings.update(beta1=opt.beta1, beta2=opt.beta2, eps=opt.eps, t=float(t))
        settings.update(c1=1.0 - opt.beta1**t, c2=1.0 - opt.beta2**t)
        formulas += [
            "m = beta1 * m_prev + (1 - beta1) * g",
            "v = beta2 * v_prev + (1 - beta2) * g**2",
            "m_hat = m / (1 - beta1**t)",
            "v_hat = v / (1 - beta2**t)",
            "change = -lr * m_hat / (sqrt(v_hat) + eps)",
        ]
    elif isinstance(opt, RMSprop):
        settings.update(rho=opt.rho, eps=opt.eps)
        formulas += ["v = rho * v_prev + (1 - rho) * g**2", "change = -lr * g / (sqrt(v) + eps)"]
    else:
        formulas.append(f"change = {opt.name}'s update of g")
    return UpdateRule(name, formulas, settings)


def param_update(
    label: str,
    slot: Slot,
    weights: Array,
    change: Array,
    before: dict[str, Array],
    after: dict[str, Array],
    rule: UpdateRule,
) -> ParamUpdate:
    """The arrays of one parameter's update, from the step's gradient, states and change.

    Parameters
    ----------
    label : str
        ``"W2"``, ``"b2"``.
    slot : Slot
        The parameter's slot (its gradient and whether weight decay applies).
    weights : ndarray
        The parameter before the step.
    change : ndarray
        The real change (after minus before).
    before, after : dict of str to ndarray
        The optimizer's persistent state for the slot, before and after the step.
    rule : UpdateRule
    """
    s = rule.settings
    arrays: dict[str, Array] = {"gradient": slot.grad.copy()}
    g = arrays["gradient"]
    if (s["weight_decay"] or s.get("l1")) and slot.decay:  # the sum in `Optimizer.step`'s order
        g = weights * s["weight_decay"]
        if s["weight_decay"]:
            arrays["l2"] = g.copy()
        if s.get("l1"):
            arrays["l1"] = s["l1"] * np.sign(weights)
            g = g + arrays["l1"]
        g = g + slot.grad
    arrays["g"] = g
    for key in ("m", "v", "velocity"):
        if key in after:
            short = "v" if key == "velocity" else key
            arrays[f"{short}_prev"] = before[key]
            arrays[short] = np.array(after[key])
    if rule.name == "adam":
        arrays["m_hat"] = arrays["m"] / s["c1"]
        arrays["v_hat"] = arrays["v"] / s["c2"]
    arrays["change"] = change
    return ParamUpdate(label, arrays)


def expected_change(update: ParamUpdate, rule: UpdateRule) -> Array:
    """The change the formula gives from the shown arrays (equal to the real one up to rounding)."""
    a, s = update.arrays, rule.settings
    if rule.name == "sgd":
        return -s["lr"] * a["g"]
    if rule.name == "momentum":
        return -s["lr"] * a["v"]
    if rule.name == "nesterov":
        return -s["lr"] * (a["g"] + s["momentum"] * a["v"])
    if rule.name == "adam":
        return -s["lr"] * a["m_hat"] / (np.sqrt(a["v_hat"]) + s["eps"])
    if rule.name == "rmsprop":
        return -s["lr"] * a["g"] / (np.sqrt(a["v"]) + s["eps"])
    return a["change"]


def settings_text(rule: UpdateRule) -> str:
    """The rule's settings on one line: ``lr = 0.03, beta1 = 0.9, ..., t = 12``."""
    parts: list[str] = []
    for key, value in rule.settings.items():
        if key == "weight_decay" and not value:
            continue
        label = {
            "c1": "1 - beta1**t",
            "c2": "1 - beta2**t",
            "weight_decay": "weight_decay (L2)",
            "l1": "l1 (L1)",
        }.get(key, key)
        parts.append(f"{label} = {int(value) if key == 't' else format(value, '.8g')}")
    return ", ".join(parts)


def as_json(update: ParamUpdate) -> dict[str, Any]:
    """The arrays as nested lists of floats."""
    return {key: np.asarray(value, dtype=float).tolist() for key, value in update.arrays.items()}
