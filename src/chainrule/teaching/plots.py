"""Figures a learner looks at: loss curves, decision boundaries, activations, output vs steps.

Each function draws on a new matplotlib figure and writes it to ``path`` (PNG or SVG by the
suffix) atomically. matplotlib is an optional dependency (``pip install "chainrule[cli]"``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.io.atomic import atomic_write
from chainrule.network import Network
from chainrule.nn.activations import ACTIVATIONS, get_activation
from chainrule.nn.losses import class_indices


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ImportError('plotting needs matplotlib: pip install "chainrule[cli]"') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"plots are written as .png or .svg, not {target.suffix or 'no suffix'!r}")
    try:
        with atomic_write(target) as stream:
            fig.savefig(stream, format=suffix[1:], dpi=110, bbox_inches="tight")
    finally:
        _pyplot().close(fig)
    return target


def loss_curves(history: dict[str, Sequence[float]], path: str | os.PathLike[str], title: str = "") -> Path:
    """Training (and validation) loss per epoch, on a log scale when it spans decades."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
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
    return _save(fig, path)


def decision_boundary(
    net: Network,
    X: np.ndarray,
    labels: np.ndarray,
    path: str | os.PathLike[str],
    feature_names: Sequence[str] = ("x0", "x1"),
    transform: Any = None,
) -> Path:
    """Predicted class over the plane of a two-input classifier, with the data on top.

    ``X`` is in the units shown on the axes; ``transform`` maps such points to network inputs
    (the model's stored scaling), default none.
    """
    if X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs a model with 2 inputs, this data has {X.shape[1]}")
    plt = _pyplot()
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0) + 1e-12)
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    inputs = transform(grid) if transform is not None else grid
    out = net.predict(inputs)
    score = out[:, 0] if out.shape[1] == 1 else class_indices(out)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    if out.shape[1] == 1:
        mesh = ax.contourf(
            xx, yy, score.reshape(xx.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6
        )
        ax.contour(xx, yy, score.reshape(xx.shape), levels=[0.5], colors="k", linewidths=1)
        fig.colorbar(mesh, ax=ax, label="P(class 1)")
    else:
        ax.contourf(
            xx, yy, score.reshape(xx.shape), levels=np.arange(out.shape[1] + 1) - 0.5, cmap="tab10", alpha=0.4
        )
    classes = np.unique(labels)
    for i, label in enumerate(classes):
        pick = labels == label
        ax.scatter(
            X[pick, 0],
            X[pick, 1],
            s=14,
            edgecolors="k",
            linewidths=0.4,
            label=str(label),
            color=plt.get_cmap("tab10")(i % 10),
        )
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(title="class", fontsize=8)
    ax.set_title("Decision boundary")
    return _save(fig, path)


def activations(path: str | os.PathLike[str], names: Sequence[str] | None = None) -> Path:
    """Each activation and its derivative on [-6, 6] (seed 002's plot of tanh and tanh')."""
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
    return _save(fig, path)


def output_vs_steps(
    steps: Sequence[int], outputs: Sequence[float], path: str | os.PathLike[str], target: float | None = None
) -> Path:
    """Seed 000's analysis plot: the test output against the number of training steps."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    ax.plot(steps, outputs, "b")
    if target is not None:
        ax.axhline(target, color="grey", ls="--", lw=0.8)
    ax.set_title("Iterations via Output")
    ax.set_xlabel("Iterations")
    ax.set_ylabel("Output")
    return _save(fig, path)
