"""A stack of layers: built from sizes, checked that its widths chain, and described as a table."""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.nn.layers import Dense, Layer


def dense_stack(
    sizes: list[int], activation: str, output_activation: str | None, bias: bool, init: Any
) -> list[Layer]:
    """Dense layers for widths ``sizes`` (``[3, 4, 1]``: 3 inputs, 4 hidden units, 1 output).

    Every layer uses ``activation`` except the last, which uses ``output_activation`` (default
    ``activation``).
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes need at least an input and an output width, got {sizes}")
    last = len(sizes) - 2
    return [
        Dense(
            n_in, n_out, (output_activation or activation) if i == last else activation, bias=bias, init=init
        )
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes))
    ]


def check_stack(layers: list[Layer]) -> None:
    """Raise `ValueError` unless the widths chain and the last layer is a Dense output layer."""
    dense = [layer for layer in layers if isinstance(layer, Dense)]
    if not dense:
        raise ValueError("a network needs at least one Dense layer")
    if not isinstance(layers[-1], Dense):
        raise ValueError(f"the last layer must be a Dense output layer, not {layers[-1]!r}")
    for below, above in itertools.pairwise(dense):
        if below.n_out != above.n_in:
            raise ValueError(
                f"layer widths do not chain: {below!r} outputs {below.n_out} values but "
                f"{above!r} expects {above.n_in}"
            )


def summary_rows(layers: list[Layer]) -> list[tuple[str, str, int]]:
    """One ``(layer, output shape, parameter count)`` row per layer."""
    rows, width = [], 0
    for layer in layers:
        width = layer.n_out if isinstance(layer, Dense) else width
        rows.append((repr(layer), f"(None, {width})", sum(p.size for p in layer.params.values())))
    return rows


def summary_text(layers: list[Layer], dtype: np.dtype) -> str:
    """The layers as a plain-text table with the total parameter count."""
    rows = summary_rows(layers)
    name_width = max(len("layer"), *(len(name) for name, _, _ in rows))
    lines = [f"{'#':>3}  {'layer':<{name_width}}  {'output shape':<13}  params"]
    lines += [
        f"{i:>3}  {name:<{name_width}}  {shape:<13}  {n:,}" for i, (name, shape, n) in enumerate(rows, 1)
    ]
    lines.append(f"total: {sum(n for _, _, n in rows):,} parameters, {np.dtype(dtype).name}")
    return "\n".join(lines)


def summary_html(layers: list[Layer], dtype: np.dtype) -> str:
    """The same table as HTML, for notebooks."""
    rows = summary_rows(layers)
    body = "".join(
        f"<tr><td>{i}</td><td><code>{html.escape(name)}</code></td><td>{shape}</td><td>{n:,}</td></tr>"
        for i, (name, shape, n) in enumerate(rows, 1)
    )
    total = sum(n for _, _, n in rows)
    return (
        "<table><thead><tr><th>#</th><th>layer</th><th>output shape</th><th>params</th></tr></thead>"
        f"<tbody>{body}</tbody></table><p>total: {total:,} parameters, {np.dtype(dtype).name}</p>"
    )


def cast_layers(layers: list[Layer], rng: np.random.Generator, dtype: np.dtype) -> Callable[[], None]:
    """Cast every layer's parameters to ``dtype``, all or nothing; return what undoes it.

    The cast copies are made first, without touching any layer; then each layer takes its
    copies. An exception or Ctrl-C anywhere in between puts every layer back as it was, so no
    network is left with layers of mixed dtypes. The returned function restores the exact
    arrays (not a cast back), for a caller that must undo the cast after a later failure.
    """
    saved = [(layer.params, layer.grads, dict(layer.grads)) for layer in layers]
    staged = [{key: np.ascontiguousarray(value, dtype=dtype) for key, value in layer.params.items()}
              for layer in layers]  # fmt: skip

    def restore() -> None:
        for layer, (params, grads, grad_arrays) in zip(layers, saved, strict=True):
            layer.params, layer.grads = params, grads
            layer.initialize(rng, params[next(iter(params))].dtype if params else dtype)
            grads.update(grad_arrays)  # initialize made fresh zeros; keep the last gradients

    try:
        for layer, params in zip(layers, staged, strict=True):
            layer.params, layer.grads = params, {}
            layer.initialize(rng, dtype)
        return restore  # inside the try: an interrupt on this line is undone too
    except BaseException:
        restore()
        raise
