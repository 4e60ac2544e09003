"""Save and load networks as one ``.npz`` file: the arrays by name plus a JSON header.

Loading never executes code: arrays are read with ``allow_pickle=False`` and the header is
plain JSON. Saving writes a temporary file in the target's folder and renames it over the
target, so a crash or a full disk mid-save leaves any previous file intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.atomic import atomic_write
from chainrule.errors import ModelFileError
from chainrule.layers import layer_from_config
from chainrule.losses import get_loss
from chainrule.network import Network
from chainrule.optimizers import Optimizer

if TYPE_CHECKING:
    from chainrule.training import TrainingRun

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
STATE_PREFIX = "optimizer:"


def save(
    net: Network,
    path: str | os.PathLike[str],
    metadata: dict[str, Any] | None = None,
    *,
    _checkpoint: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None,
) -> None:
    """Write ``net`` to ``path`` (a ``.npz`` file) atomically.

    Parameters
    ----------
    metadata : dict, optional
        JSON-serialisable extras stored in the header (the CLI keeps its preprocessing here);
        merged over ``net.metadata``.
    """
    from chainrule import __version__

    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "dtype": net.dtype.name,
        "loss": net.loss.name if net.loss is not None else None,
        "layers": [layer.config() for layer in net.layers],
        "metadata": {**net.metadata, **(metadata or {})},
    }
    arrays = {
        f"layer{i}.{key}": value for i, layer in enumerate(net.layers) for key, value in layer.params.items()
    }
    if _checkpoint is not None:
        header["checkpoint"], state = _checkpoint
        arrays.update({f"{STATE_PREFIX}{name}": value for name, value in state.items()})
    header_bytes = json.dumps(header, allow_nan=False, default=_json_default).encode("utf-8")
    arrays[HEADER_KEY] = np.frombuffer(header_bytes, dtype=np.uint8)

    with atomic_write(path) as stream:
        np.savez(stream, **arrays)


def load(path: str | os.PathLike[str]) -> Network:
    """Read a network written by `save`.

    Raises
    ------
    ModelFileError
        If the file is not a chainrule model, is truncated or corrupt, comes from a newer
        format version, or its arrays disagree with its header.
    FileNotFoundError
        If there is no such file.
    """
    header, arrays, _ = _read(path)
    return _build(header, arrays, Path(path))


def _read(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The header, the model's arrays and any optimizer-state arrays of a file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if HEADER_KEY not in archive.files:
                raise ModelFileError(f"{path} is not a chainrule model file (it has no header)")
            header = _read_header(archive[HEADER_KEY], path)
            arrays = {name: archive[name] for name in archive.files if name != HEADER_KEY}
    except ModelFileError:
        raise
    except Exception as exc:  # any failure to parse untrusted bytes means a bad file
        raise ModelFileError(
            f"{path} is not a readable chainrule model file ({type(exc).__name__}: {exc}); "
            "it may be truncated, corrupt, or another kind of file"
        ) from None
    state = {
        name[len(STATE_PREFIX) :]: arrays.pop(name) for name in list(arrays) if name.startswith(STATE_PREFIX)
    }
    return header, arrays, state


def save_checkpoint(
    path: str | os.PathLike[str], net: Network, optimizer: Optimizer, run: TrainingRun
) -> None:
    """Save the network with everything needed to resume its training exactly.

    Besides the model, the file holds the optimizer's state (momentum, moment estimates,
    step count, current learning rate), the run's seed and its history; pass it to
    ``fit(..., resume_from=path)``. `load` reads it as a plain model.
    """
    config = {
        "run_seed": run.run_seed,
        "history": run.history.history,
        "optimizer": {"name": optimizer.name, "iterations": optimizer.iterations, "lr": optimizer.lr},
    }
    save(net, path, _checkpoint=(config, optimizer.state_arrays()))


def restore_checkpoint(path: str | os.PathLike[str], net: Network, optimizer: Optimizer) -> TrainingRun:
    """Put a checkpoint's weights into ``net`` and its state into ``optimizer``; return the run."""
    from chainrule.training import History, TrainingRun

    header, arrays, state = _read(path)
    saved = _build(header, arrays, Path(path))
    checkpoint = header.get("checkpoint")
    if not isinstance(checkpoint, dict):
        raise ModelFileError(
            f"{path} is a model without training state; resume from a file written by "
            "ModelCheckpoint (or chainrule.save_checkpoint)"
        )
    if [layer.config() for layer in saved.layers] != [layer.config() for layer in net.layers]:
        raise ModelFileError(
            f"{path} holds a different network ({saved!r}) than the one being trained ({net!r})"
        )
    if saved.dtype != net.dtype:
        raise ModelFileError(f"{path} holds {saved.dtype.name} weights; the network is {net.dtype.name}")
    try:
        name = checkpoint["optimizer"]["name"]
        if name != optimizer.name:
            raise ModelFileError(f"{path} was trained with {name}; resume it with the same optimizer")
        optimizer.load_state(state, checkpoint["optimizer"]["iterations"], checkpoint["optimizer"]["lr"])
        history = History()
        history.history = {key: [float(v) for v in values] for key, values in checkpoint["history"].items()}
        run = TrainingRun(int(checkpoint["run_seed"]), history)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: its training state is incomplete or invalid ({exc})") from None
    net.set_weights(saved.get_weights())
    return run


def _read_header(raw: np.ndarray, path: Path) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(f"{path}: the header is not stored as bytes")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a chainrule model file (wrong format tag)")
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written in model format {version}, newer than this chainrule reads "
            f"({FORMAT_VERSION}): upgrade chainrule (pip install -U chainrule)"
        )
    return header


def _build(header: dict[str, Any], arrays: dict[str, np.ndarray], path: Path) -> Network:
    try:
        dtype = np.dtype(header["dtype"])
        layers = []
        for i, config in enumerate(header["layers"]):
            prefix = f"layer{i}."
            params = {
                name[len(prefix) :]: arrays.pop(name) for name in list(arrays) if name.startswith(prefix)
            }
            for key, value in params.items():
                if value.dtype != dtype:
                    raise ModelFileError(
                        f"{path}: array layer{i}.{key} has dtype {value.dtype}, the header says {dtype}"
                    )
                if not np.isfinite(value).all():
                    raise ModelFileError(f"{path}: array layer{i}.{key} holds NaN or infinite values")
            layers.append(layer_from_config(config, params))
        if arrays:
            raise ModelFileError(f"{path}: arrays {sorted(arrays)} belong to no layer in the header")
        net = Network(layers, dtype=dtype)
        net.loss = get_loss(header["loss"]) if header.get("loss") else None
        net.metadata = dict(header.get("metadata") or {})
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ModelFileError(
            f"{path}: the header and arrays do not describe a valid network ({exc})"
        ) from None
    return net


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"metadata value {value!r} is not JSON-serialisable")
