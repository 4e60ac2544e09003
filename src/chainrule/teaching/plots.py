"""Figures a learner looks at: loss curves, decision boundaries, activations, outputs over training.

Every function draws in matplotlib's object-oriented style: pass ``ax=`` (or ``axes=``) to draw
into your own figure, or get a new one; the function returns the `~matplotlib.figure.Figure`
and writes a file only when ``path`` is given (PNG, SVG or PDF by its suffix, atomically). The
backend is never changed: in a notebook the figures show inline; a script without a display gets
matplotlib's own choice (the ``chainrule`` command selects Agg before it draws). matplotlib is an
optional dependency (``pip install "chainrule[cli]"``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.io.atomic import atomic_write
from chainrule.network import Network
from chainrule.nn.activations import ACTIVATIONS, get_activation
from chainrule.nn.layers import Dense
from chainrule.nn.losses import class_indices

FORMATS = (".png", ".svg", ".pdf")


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('plotting needs matplotlib: pip install "chainrule[cli]"') from None
    return plt


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = _pyplot().subplots(figsize=figsize)
    return fig, ax


def save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` (``.png``, ``.svg`` or ``.pdf``) atomically; return the path.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it stays open (close it with ``plt.close(fig)`` when done).
    path : str or path-like
        The file to write; its suffix chooses the format.

    Returns
    -------
    pathlib.Path
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"plots are written as .png, .svg or .pdf, not {target.suffix or 'no suffix'!r}")
    with atomic_write(target) as stream:
        fig.savefig(stream, format=suffix[1:], dpi=110, bbox_inches="tight")
    return target


def _finish(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    if path is not None:
        save_figure(fig, path)
    return fig


def loss_curves(
    history: dict[str, Sequence[float]],
    path: str | os.PathLike[str] | None = None,
    *,
    ax: Any = None,
    title: str = "",
) -> Any:
    """Training (and validation) loss per epoch, epochs counted from 1, log scale over decades.

    Parameters
    ----------
    history : dict of str to sequence of float
        ``History.history`` or the columns of a history CSV: ``loss`` and optionally ``val_loss``.
    path : str or path-like, optional
        Also write the figure here.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (6.4, 4.0))
    for key, label in (("loss", "training loss"), ("val_loss", "validation loss")):
        if key in history and len(history[key]):
            ax.plot(np.arange(1, len(history[key]) + 1), history[key], label=label)
    values = np.asarray(history["loss"], dtype=float)
    if values.size and values.min() > 0 and values.max() / values.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title or "Loss per epoch")
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def class_colors(n: int) -> list[tuple[float, float, float, float]]:
    """One distinct RGBA colour per class, the same for regions, points and legend."""
    plt = _pyplot()
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    if n <= 20:
        return [plt.get_cmap("tab20")(i) for i in range(n)]
    return [plt.get_cmap("hsv")(i / n) for i in range(n)]


def decision_boundary(
    net: Network,
    X: np.ndarray,
    labels: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    ax: Any = None,
    classes: Sequence[str] | None = None,
    feature_names: Sequence[str] = ("x0", "x1"),
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Any:
    """Predicted class over the plane of a two-input classifier, with the data on top.

    Parameters
    ----------
    net : Network
        A classifier with two inputs: one sigmoid output or one output per class.
    X : ndarray of shape (n_samples, 2)
        The points, in the units shown on the axes.
    labels : ndarray of shape (n_samples,)
        Each point's class label.
    path : str or path-like, optional
        Also write the figure here.
    ax : matplotlib.axes.Axes, optional
    classes : sequence of str, optional
        The labels in the network's output order (default: the sorted distinct labels). Class
        ``k`` has the same colour in the regions, the points and the legend.
    feature_names : sequence of str
    transform : callable, optional
        Maps points in the axes' units to network inputs (the model's stored scaling).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs a model with 2 inputs, this data has {X.shape[1]}")
    labels = np.asarray(labels).astype(str)
    classes = [str(c) for c in (classes if classes is not None else np.unique(labels))]
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0) + 1e-12)
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    out = net.predict(transform(grid) if transform is not None else grid)
    predicted = class_indices(out).reshape(xx.shape)
    colors = np.array(class_colors(max(len(classes), out.shape[1], 2)))
    fig, ax = _axes(ax, (5.5, 4.5))
    ax.imshow(
        colors[predicted], origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), aspect="auto", alpha=0.35
    )
    ax.contour(xx, yy, predicted, levels=np.arange(colors.shape[0]) + 0.5, colors="k", linewidths=0.8)
    index = {c: i for i, c in enumerate(classes)}
    for label in classes:
        pick = labels == label
        ax.scatter(
            X[pick, 0],
            X[pick, 1],
            s=16,
            color=colors[index[label]],
            edgecolors="k",
            linewidths=0.4,
            label=label,
        )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(title="class (region: predicted)", fontsize=8)
    ax.set_title("Decision boundary")
    return _finish(fig, path)


def activation_functions(
    path: str | os.PathLike[str] | None = None, *, names: Sequence[str] | None = None
) -> Any:
    """Each activation and its derivative on [-6, 6] (seed 002's plot of tanh and tanh').

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    names = list(names or sorted(set(ACTIVATIONS) - {"linear", "softmax"}))
    z = np.linspace(-6, 6, 401)
    fig, axes = plt.subplots(1, len(names), figsize=(3.0 * len(names), 3.0), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        act = get_activation(name)
        a = act.forward(z[None, :].copy())[0]
        ax.plot(z, a, label=f"{name}(z)")
        ax.plot(z, act.derivative(a[None, :])[0], "--", label="derivative")
        ax.set_title(name)
        ax.axhline(0, color="grey", lw=0.5)
        ax.legend(fontsize=7)
    return _finish(fig, path)


def unit_health(layer: Dense, a: np.ndarray) -> tuple[np.ndarray, str]:
    """Per unit, the share of rows where it passes (almost) no gradient, and what that means.

    A ReLU outputs 0 (dead for that row); a sigmoid or tanh sits where its slope is below 0.001
    (saturated); other activations always pass gradient.
    """
    name = layer.activation.name
    if name == "relu":
        return np.mean(a <= 0, axis=0), "dead (output 0)"
    if name in ("sigmoid", "tanh"):
        slope = a * (1.0 - a) if name == "sigmoid" else 1.0 - a * a
        return np.mean(slope < 1e-3, axis=0), "saturated (slope < 0.001)"
    return np.zeros(a.shape[1]), "inactive"


def hidden_activations(
    net: Network,
    X: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    axes: Any = None,
) -> Any:
    """How each hidden layer of ``net`` responds to the rows ``X``: where units saturate or die.

    Top row: the distribution of every unit's output over the rows, one panel per hidden layer.
    Bottom row: for each unit, the share of rows where it passes no gradient (a ReLU at 0, a
    sigmoid or tanh in its flat tails); a unit at 100% is dead or saturated for this data.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (n_samples, n_inputs)
        Network inputs (already scaled as in training).
    path : str or path-like, optional
        Also write the figure here.
    axes : ndarray of Axes of shape (2, n_hidden_layers), optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    dense = [layer for layer in net.layers if isinstance(layer, Dense)][:-1]
    if not dense:
        raise ValueError("the network has no hidden layer to show")
    if axes is None:
        _, axes = _pyplot().subplots(
            2,
            len(dense),
            figsize=(3.6 * len(dense), 5.4),
            squeeze=False,
            height_ratios=[3, 2],
            layout="constrained",
        )
    fig = axes[0][0].figure
    a = net.as_inputs(X)
    number = 0
    for layer in net.layers:
        a = layer.forward(a)
        if layer not in dense:
            continue
        top, bottom = axes[0][number], axes[1][number]
        number += 1
        share, meaning = unit_health(layer, a)
        gone = int(np.sum(share >= 0.999))
        top.hist(a.ravel(), bins=40, color="C0")
        top.set_title(f"layer {number} ({layer.activation.name}, {a.shape[1]} units)", fontsize=9)
        top.set_xlabel("unit output")
        bottom.bar(np.arange(1, a.shape[1] + 1), 100 * share, color=np.where(share >= 0.999, "C3", "C0"))
        bottom.set_ylim(0, 100)
        bottom.set_xlabel(f"unit ({gone} {meaning.split()[0]} on every row)")
        bottom.set_ylabel(f"% rows {meaning.split()[0]}")
    fig.suptitle(f"Hidden activations on {X.shape[0]} rows")
    return _finish(fig, path)


def output_vs_steps(
    steps: Sequence[int],
    outputs: Sequence[float] | Sequence[Sequence[float]],
    path: str | os.PathLike[str] | None = None,
    *,
    ax: Any = None,
    target: float | Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    xlabel: str = "Iterations",
    ylabel: str = "Output",
    title: str = "Iterations via Output",
) -> Any:
    """Outputs against the number of training steps (seed 000's analysis plot), one curve per row.

    Parameters
    ----------
    steps : sequence of int
    outputs : sequence of float, or one sequence per curve
    path : str or path-like, optional
        Also write the figure here.
    ax : matplotlib.axes.Axes, optional
    target : float or sequence of float, optional
        A dashed line at each curve's target value.
    labels : sequence of str, optional
        One legend entry per curve.
    xlabel, ylabel, title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (6.0, 4.0))
    curves = np.atleast_2d(np.asarray(outputs, dtype=float))
    shared = target is not None and np.ndim(target) == 0
    if shared:
        ax.axhline(float(target), color="grey", ls="--", lw=0.8)  # type: ignore[arg-type]
    for i, curve in enumerate(curves):
        color = f"C{i % 10}" if len(curves) > 1 else "b"
        ax.plot(steps, curve, color=color, label=None if labels is None else labels[i])
        if target is not None and not shared:
            ax.axhline(float(np.asarray(target)[i]), color=color, ls="--", lw=0.8)
    if labels is not None:
        ax.legend(fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _finish(fig, path)
