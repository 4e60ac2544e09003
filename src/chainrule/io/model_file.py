"""The model file: one ``.npz`` with the arrays by name plus a JSON header.

Loading never executes code: arrays are read with ``allow_pickle=False`` and the header is
plain JSON. Saving writes a temporary file in the target's folder and renames it over the
target, so a crash or a full disk mid-save leaves any previous file intact.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule._version import __version__
from chainrule.errors import ModelFileError
from chainrule.io.atomic import atomic_write
from chainrule.nn.layers import Layer, layer_from_config

if TYPE_CHECKING:
    from chainrule.network import Network

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
STATE_PREFIX = "optimizer:"


def save(
    net: Network,
    path: str | os.PathLike[str],
    metadata: dict[str, Any] | None = None,
    *,
    checkpoint: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None,
) -> None:
    """Write ``net`` to ``path`` (a ``.npz`` file) atomically.

    Parameters
    ----------
    net : Network
    path : str or path-like
        The file to write; a previous file there is replaced only once the new one is complete.
    metadata : dict, optional
        JSON-serialisable extras stored in the header (the CLI keeps its preprocessing here);
        merged over ``net.metadata``.
    checkpoint : (dict, dict of ndarray), optional
        Training state (JSON-ready description, optimizer arrays) for a checkpoint; see
        `chainrule.io.checkpoints.save_checkpoint`.
    """
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
    if checkpoint is not None:
        header["checkpoint"], state = checkpoint
        arrays.update({f"{STATE_PREFIX}{name}": value for name, value in state.items()})
    header_bytes = json.dumps(header, allow_nan=False, default=_json_default).encode("utf-8")
    arrays[HEADER_KEY] = np.frombuffer(header_bytes, dtype=np.uint8)

    with atomic_write(path) as stream:
        np.savez(stream, **arrays)


@dataclass
class ModelFile:
    """What a model file holds: its JSON header, the layers' arrays, and any optimizer state."""

    path: Path
    header: dict[str, Any]
    arrays: dict[str, np.ndarray]
    state: dict[str, np.ndarray]

    def layers(self) -> list[Layer]:
        """The layers the header describes, with their parameters from the arrays.

        Raises
        ------
        ModelFileError
            If an array is missing, extra, of the wrong dtype, or not finite.
        """
        try:
            return _layers(self.header, dict(self.arrays), self.path)
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ModelFileError(
                f"{self.path}: the header and arrays do not describe a valid network ({exc})"
            ) from None

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype."""
        try:
            return np.dtype(self.header["dtype"])
        except (KeyError, TypeError) as exc:
            raise ModelFileError(f"{self.path}: the header has no valid dtype ({exc})") from None


def read_model_file(path: str | os.PathLike[str]) -> ModelFile:
    """Read a file written by `save` without building a network.

    Raises
    ------
    ModelFileError
        If the file is not a chainrule model, is truncated or corrupt, or comes from a newer
        format version.
    FileNotFoundError
        If there is no such file.
    """
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
    return ModelFile(path, header, arrays, state)


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


def _layers(header: dict[str, Any], arrays: dict[str, np.ndarray], path: Path) -> list[Layer]:
    dtype = np.dtype(header["dtype"])
    layers = []
    for i, config in enumerate(header["layers"]):
        prefix = f"layer{i}."
        params = {name[len(prefix) :]: arrays.pop(name) for name in list(arrays) if name.startswith(prefix)}
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
    return layers


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"metadata value {value!r} is not JSON-serialisable")
