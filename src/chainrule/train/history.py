"""What a training run leaves behind and needs to resume: its `History` and its `TrainingRun`."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.errors import ModelFileError

if TYPE_CHECKING:
    from chainrule.nn.losses import Loss
    from chainrule.train.batches import TrainingData
    from chainrule.train.optimizers import Optimizer


class History:
    """Per-epoch numbers of a training run: ``history["loss"]``, ``history["val_loss"]``, ...

    Attributes
    ----------
    history : dict of str to list of float
        One list per logged quantity (``loss``, ``val_loss``, metrics, ``lr``), one entry per
        completed epoch.
    interrupted : bool
        True when the run was stopped by Ctrl-C (KeyboardInterrupt).
    backend : str or None
        The kernels the last `fit` ran on (``"numpy"`` or ``"numba"``; see
        `chainrule.set_backend`), None before any.
    result : dict or None
        A full-batch solver's outcome (L-BFGS: ``nit``, ``nfev``, ``success``, ``message``,
        ``fun``); None for step-based runs.

    Examples
    --------
    >>> import chainrule as cr
    >>> net = cr.Network([2, 3, 1], seed=0)
    >>> history = net.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], lr=0.5, epochs=3)
    >>> history
    History(epochs=3, last={'loss': 0.702981, 'accuracy': 0.5, 'lr': 0.5})
    >>> [round(loss, 4) for loss in history["loss"]] == [round(loss, 4) for loss in history.loss]
    True
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.interrupted = False
        self.backend: str | None = None
        self.result: dict[str, Any] | None = None

    def append(self, logs: dict[str, float]) -> None:
        """Add one epoch's numbers.

        Parameters
        ----------
        logs : dict of str to float
            The epoch's value of each quantity.
        """
        self.extend({key: [value] for key, value in logs.items()})

    def extend(self, columns: dict[str, list[float]]) -> None:
        """Add several epochs' numbers: one list per quantity, one entry per epoch.

        Parameters
        ----------
        columns : dict of str to list of float
            Per quantity, its values for the epochs added.
        """
        for key, values in columns.items():
            self.history.setdefault(key, []).extend(values)

    @property
    def epochs(self) -> int:
        """The number of completed epochs."""
        return len(self.history.get("loss", []))

    def truncate(self, epochs: int) -> None:
        """Keep the first ``epochs`` entries of every list (an interrupted epoch's are dropped).

        Parameters
        ----------
        epochs : int
            How many epochs to keep; quantities left with no entry are removed.
        """
        self.history = {key: values[:epochs] for key, values in self.history.items() if values[:epochs]}

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __getattr__(self, key: str) -> list[float]:
        """``history.loss`` is ``history["loss"]``: each logged quantity as an attribute too."""
        if not key.startswith("_") and key in self.__dict__.get("history", {}):
            return self.__dict__["history"][key]
        logged = ", ".join(self.__dict__.get("history", {})) or "nothing yet"
        raise AttributeError(f"History has no {key!r}; it logged: {logged}")

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={self.epochs}, last={last})"

    def _repr_html_(self) -> str:
        """A notebook table: each quantity's first, best and last value, with a sparkline."""
        rows = "".join(
            f"<tr><td>{key}</td><td>{values[0]:.4g}</td><td>{values[-1]:.4g}</td>"
            f"<td>{_sparkline(values)}</td></tr>"
            for key, values in self.history.items()
            if values
        )
        state = " (interrupted)" if self.interrupted else ""
        return (
            f"<p>History: {self.epochs} epochs{state}</p><table><thead><tr><th>quantity</th>"
            f"<th>first</th><th>last</th><th>per epoch</th></tr></thead><tbody>{rows}</tbody></table>"
        )


class TrainingRun:
    """What identifies a run and how far it got: enough to checkpoint and resume it exactly.

    Shuffling, the validation split and dropout draw from generators derived from
    ``(run_seed, epoch)``, not from one stream, so a run resumed from a checkpoint at any
    epoch makes the same draws as one that never stopped.

    Parameters
    ----------
    run_seed : int
        The seed every per-epoch generator derives from.
    history : History, optional
        The epochs already completed (a resumed run); default an empty one.
    settings : dict, optional
        What the run's result depends on besides the data's values (loss, optimizer settings,
        batch size, sample counts, validation): set by `fit`, stored in checkpoints, and
        compared by `check_resume` when a checkpoint is resumed.

    Examples
    --------
    The same seed and epoch give the same draws, however the run got there:

    >>> import chainrule as cr
    >>> a, b = cr.TrainingRun(7), cr.TrainingRun(7)
    >>> bool((a.epoch_rng(5).permutation(10) == b.epoch_rng(5).permutation(10)).all())
    True
    >>> a.epochs_done
    0
    """

    def __init__(
        self, run_seed: int, history: History | None = None, settings: dict[str, Any] | None = None
    ) -> None:
        self.run_seed = int(run_seed)
        self.history = history if history is not None else History()
        self.settings = settings

    @property
    def epochs_done(self) -> int:
        """The number of completed epochs."""
        return self.history.epochs

    def epoch_rng(self, epoch: int) -> np.random.Generator:
        """The generator for one epoch's shuffling and dropout masks.

        Parameters
        ----------
        epoch : int
            The epoch, from 0.

        Returns
        -------
        numpy.random.Generator
            A new generator seeded from ``(run_seed, 1, epoch)``.
        """
        return np.random.default_rng([self.run_seed, 1, epoch])

    def split_rng(self) -> np.random.Generator:
        """The generator for the validation split.

        Returns
        -------
        numpy.random.Generator
            A new generator seeded from ``(run_seed, 0)``.
        """
        return np.random.default_rng([self.run_seed, 0])


def _sparkline(values: list[float], width: int = 120, height: int = 24) -> str:
    """An inline SVG polyline of ``values`` (non-finite values left out)."""
    points = [(i, v) for i, v in enumerate(values) if np.isfinite(v)]
    if len(points) < 2:
        return ""
    low, high = min(v for _, v in points), max(v for _, v in points)
    span, last = (high - low) or 1.0, max(len(values) - 1, 1)
    coords = " ".join(f"{i / last * width:.1f},{height - (v - low) / span * height:.1f}" for i, v in points)
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 -1 {width} {height + 2}">'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{coords}"/></svg>'
    )


#: Settings a resumed run may change when named in ``resume_overrides``; the rest identify the run.
OVERRIDABLE = frozenset(
    {
        "lr",
        "weight_decay",
        "momentum",
        "nesterov",
        "beta1",
        "beta2",
        "eps",
        "rho",
        "batch_size",
        "shuffle",
        "samples",
        "validation_split",
        "validation_samples",
        "sample_weight",
        "seed",
    }
)


def check_resume(
    source: str, saved: dict[str, Any] | None, now: dict[str, Any], overrides: Collection[str]
) -> None:
    """Refuse to resume a run whose settings differ from the checkpoint's, unless overridden.

    Parameters
    ----------
    source : str
        The checkpoint, for the message.
    saved : dict or None
        The checkpoint's settings (None for a checkpoint older than settings: not compared).
    now : dict
        This call's settings.
    overrides : collection of str
        The settings the caller changes on purpose (``resume_overrides={"lr"}``).

    Raises
    ------
    ValueError
        If ``overrides`` names a setting that cannot be overridden.
    ModelFileError
        If a setting differs and is not in ``overrides``; the message names every difference.
    """
    unknown = sorted(set(overrides) - OVERRIDABLE)
    if unknown:
        raise ValueError(
            f"resume_overrides: {unknown} cannot be overridden; choose from {sorted(OVERRIDABLE)}"
        )
    if saved is None:
        return
    differences = [
        f"{key}={saved.get(key)!r} in the checkpoint, {now.get(key)!r} now"
        for key in sorted(set(saved) | set(now))
        if saved.get(key) != now.get(key) and key not in overrides
    ]
    if differences:
        changed = [key for key in set(saved) | set(now) if saved.get(key) != now.get(key)]
        allowed = sorted(key for key in changed if key in OVERRIDABLE)
        hint = f"; to change it on purpose pass resume_overrides={set(allowed)}" if allowed else ""
        raise ModelFileError(
            f"{source} is a run with other settings than this call: {'; '.join(differences)}. "
            f"Resume with the same settings{hint}"
        )


def run_settings(
    loss_fn: Loss,
    opt: Optimizer,
    batch_size: int | None,
    shuffle: bool,
    validation_split: float,
    data: TrainingData,
    sample_weight: Any,
) -> dict[str, Any]:
    """What the run's numbers depend on besides the data's values: compared when resuming."""
    settings: dict[str, Any] = {"loss": loss_fn.name}
    for key, value in opt.config().items():
        settings["optimizer" if key == "name" else key] = value
    settings.update(
        batch_size=batch_size,
        shuffle=shuffle,
        samples=data.samples,
        validation_split=validation_split,
        validation_samples=0 if data.validation is None else int(data.validation[0].shape[0]),
        sample_weight=sample_weight is not None,
    )
    return settings
