"""The model file: one ``.npz`` with the arrays by name plus a JSON header.

Loading never executes code and is bounded: it reads the zip directory and the JSON header,
works out from the header which arrays the file must hold (names, shapes, dtype), reads each
member's ``.npy`` header, and refuses any unnamed member, any shape, dtype or size that
disagrees, a JSON header over `MAX_HEADER_BYTES`, or arrays over ``max_bytes`` in all
(`MAX_MODEL_BYTES` by default), before it decompresses a single array. Each array is then read
once into its final buffer, checked for NaN a block at a time, and adopted by its layer without a
copy (the gradients are zeroed lazily), so a load's peak memory is about the declared size, not a
multiple of it. Saving runs the same
checks on what it is about to write (so `save` refuses what `load` would refuse), then writes a
temporary file in the target's folder and renames it over the target, so a crash or a full disk
mid-save leaves any previous file intact.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule._version import __version__
from chainrule.errors import ModelFileError
from chainrule.io.archive import MAX_HEADER_BYTES, all_finite, npz_members, read_member
from chainrule.io.atomic import atomic_write
from chainrule.io.derived import FormulaError
from chainrule.io.preprocessing import TablePreprocessor
from chainrule.nn.layers import Layer, layer_from_config

if TYPE_CHECKING:
    from chainrule.network import Network

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
STATE_PREFIX = "optimizer:"
STATE_KEYS = ("velocity", "m", "v")  # the optimizers' persistent state, per parameter
#: The most array data `load` reads by default (4 GiB); pass ``max_bytes`` for larger models.
MAX_MODEL_BYTES = 4 * 2**30


def save(
    net: Network,
    path: str | os.PathLike[str],
    metadata: dict[str, Any] | None = None,
    *,
    checkpoint: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None,
    max_bytes: int = MAX_MODEL_BYTES,
) -> None:
    """Write ``net`` to ``path`` (a ``.npz`` file) atomically, if `load` would read it back.

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
    max_bytes : int
        The array size `load` will accept (default `MAX_MODEL_BYTES`).

    Raises
    ------
    ModelFileError
        If `load` would refuse the file: a parameter that is not a finite array of the
        network's dtype and its layer's shape, a layer `load` cannot rebuild, a header over
        `MAX_HEADER_BYTES` or arrays over ``max_bytes``. Nothing is written then.

    Notes
    -----
    Non-finite floats in the header (a log's ``inf`` validation loss, say) are stored as the
    strings ``"inf"``, ``"-inf"`` and ``"nan"``, so the header stays strict JSON.
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
    header_bytes = json.dumps(json_ready(header), allow_nan=False).encode("utf-8")
    _check_before_saving(Path(path), header_bytes, arrays, max_bytes)
    arrays[HEADER_KEY] = np.frombuffer(header_bytes, dtype=np.uint8)
    with atomic_write(path) as stream:
        np.savez(stream, **arrays)


def _check_before_saving(path: Path, header_bytes: bytes, arrays: dict[str, Any], max_bytes: int) -> None:
    try:
        if len(header_bytes) > MAX_HEADER_BYTES:
            raise ModelFileError(f"its header is {len(header_bytes)} bytes, over {MAX_HEADER_BYTES}")
        header = _parse_header(header_bytes, path)
        expected = expected_arrays(header, path, max_bytes)
        file = ModelFile(path, header, {}, {})
        file.arrays, file.state = split_state({name: np.asarray(v) for name, v in arrays.items()})
        check_size(expected, [name for name in arrays if name in expected], max_bytes, path)
        file.check(expected)
        file.layers()
        _check_preprocessing(header["metadata"].get("preprocessing"))
    except ModelFileError as exc:
        raise ModelFileError(f"cannot save {path}: {exc}; load would refuse such a file") from None


def _check_preprocessing(stored: Any) -> None:
    """A table model's stored preprocessing must be readable, its scaling statistics finite."""
    if stored is None:
        return
    try:
        prep = TablePreprocessor.from_dict(stored)
        scalers = (prep.scaler, prep.target_scaler)
        stats = np.array([v for s in scalers for v in (*s.offset, *s.scale)], dtype=float)
    except FormulaError as exc:
        raise ModelFileError(str(exc)) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"its stored preprocessing is damaged ({type(exc).__name__}: {exc})") from None
    if not np.isfinite(stats).all():
        raise ModelFileError(f"a scaling statistic of its preprocessing is not finite ({stats.tolist()})")


@dataclass
class ModelFile:
    """What a model file holds: its JSON header, the layers' arrays, and any optimizer state."""

    path: Path
    header: dict[str, Any]
    arrays: dict[str, np.ndarray]
    state: dict[str, np.ndarray]

    def check(self, expected: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
        """Raise `ModelFileError` unless the arrays are exactly the ``expected`` ones, all finite."""
        names = {**self.arrays, **{STATE_PREFIX + name: value for name, value in self.state.items()}}
        params = {name for name in expected if not name.startswith(STATE_PREFIX)}
        missing = sorted(params - set(self.arrays))
        if missing:
            raise ModelFileError(f"{self.path}: the header needs arrays {sorted(params)}; missing {missing}")
        extra = sorted(set(names) - set(expected))
        if extra:
            raise ModelFileError(f"{self.path}: arrays {extra} belong to no layer in the header")
        for name, value in names.items():
            shape, dtype = expected[name]
            if value.dtype != dtype:
                raise ModelFileError(
                    f"{self.path}: array {name} has dtype {value.dtype}, the header says {dtype}"
                )
            if value.shape != shape:
                raise ModelFileError(
                    f"{self.path}: array {name} has shape {value.shape}, the header says {shape}"
                )
            if not all_finite(value):
                raise ModelFileError(f"{self.path}: array {name} holds NaN or infinite values")

    def layers(self) -> list[Layer]:
        """The layers the header describes, with their parameters from the arrays.

        Raises
        ------
        ModelFileError
            If a layer cannot be rebuilt from its description and arrays.
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


def read_model_file(path: str | os.PathLike[str], max_bytes: int = MAX_MODEL_BYTES) -> ModelFile:
    """Read a file written by `save` without building a network, reading no more than it must.

    Parameters
    ----------
    path : str or path-like
    max_bytes : int
        The most array data to accept (default `MAX_MODEL_BYTES`, 4 GiB).

    Raises
    ------
    ModelFileError
        If the file is not a chainrule model, is truncated or corrupt, comes from a newer
        format version, holds an array its header does not name or describe, or is larger
        than ``max_bytes`` (checked before any array is decompressed).
    FileNotFoundError
        If there is no such file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = npz_members(archive, path, HEADER_KEY)
            header = _parse_header(read_member(archive, members.pop(HEADER_KEY), path, None), path)
            expected = expected_arrays(header, path, max_bytes)
            unnamed = sorted(name for name in members if name not in expected)
            if unnamed:
                raise ModelFileError(f"{path}: arrays {unnamed} belong to no layer in the header")
            check_size(expected, members, max_bytes, path)
            for name, info in members.items():  # every .npy header first, no data yet
                read_member(archive, info, path, expected[name], data=False)
            arrays = {
                name: read_member(archive, info, path, expected[name]) for name, info in members.items()
            }
    except ModelFileError:
        raise
    except Exception as exc:  # any failure to parse untrusted bytes means a bad file
        raise ModelFileError(
            f"{path} is not a readable chainrule model file ({type(exc).__name__}: {exc}); "
            "it may be truncated, corrupt, or another kind of file"
        ) from None
    file = ModelFile(path, header, {}, {})
    file.arrays, file.state = split_state(arrays)
    file.check(expected)
    return file


def split_state(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Split a file's arrays into parameters and optimizer state (without the prefix)."""
    params = {name: value for name, value in arrays.items() if not name.startswith(STATE_PREFIX)}
    prefix = len(STATE_PREFIX)
    state = {name[prefix:]: value for name, value in arrays.items() if name.startswith(STATE_PREFIX)}
    return params, state


def _parse_header(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode("utf-8"))
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
        params = {key: value.astype(dtype, copy=False) for key, value in params.items()}
        layers.append(layer_from_config(config, params, adopt=True))
    if arrays:
        raise ModelFileError(f"{path}: arrays {sorted(arrays)} belong to no layer in the header")
    return layers


def expected_arrays(
    header: dict[str, Any], path: Path, max_bytes: int = MAX_MODEL_BYTES
) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Every array name the header allows, with its shape and dtype (optimizer state included).

    Raises
    ------
    ModelFileError
        If the header's dtype or layers are invalid, or its parameters (with a checkpoint's
        optimizer state) would exceed ``max_bytes``.
    """
    dtype_name = header.get("dtype")
    if dtype_name not in ("float32", "float64"):
        raise ModelFileError(f"{path}: the header's dtype {dtype_name!r} is not float32 or float64")
    dtype = np.dtype(dtype_name)
    layers = header.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelFileError(f"{path}: the header does not describe a valid network (no layers)")
    params: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    for i, config in enumerate(layers):
        for key, shape in _parameter_shapes(config, i, path).items():
            params[f"layer{i}.{key}"] = (shape, dtype)
    check_size(params, params, max_bytes, path)
    state = {}
    if isinstance(header.get("checkpoint"), dict):
        slots = {name.removeprefix("layer"): spec for name, spec in params.items()}
        state = {f"{STATE_PREFIX}{slot}:{key}": spec for slot, spec in slots.items() for key in STATE_KEYS}
    return {**params, **state}


def check_size(
    expected: dict[str, tuple[tuple[int, ...], np.dtype]], names: Iterable[str], max_bytes: int, path: Path
) -> None:
    """Raise `ModelFileError` if the arrays ``names`` (as in ``expected``) exceed ``max_bytes``."""
    total = sum(math.prod(expected[name][0]) * expected[name][1].itemsize for name in names)
    if total > max_bytes:
        raise ModelFileError(
            f"{path}: its header describes {total} bytes of arrays, over the {max_bytes} accepted "
            "(pass max_bytes= to read larger models)"
        )


def _parameter_shapes(config: Any, i: int, path: Path) -> dict[str, tuple[int, ...]]:
    kind = config.get("type") if isinstance(config, dict) else None
    if kind == "Dropout":
        return {}
    if kind != "Dense":
        raise ModelFileError(f"{path}: the header does not describe a valid network (layer {i}: {kind!r})")
    n_in, n_out, bias = config.get("n_in"), config.get("n_out"), config.get("bias")
    if not all(type(n) is int and n > 0 for n in (n_in, n_out)) or not isinstance(bias, bool):
        raise ModelFileError(f"{path}: the header does not describe a valid network (layer {i}: {config})")
    return {"W": (n_in, n_out), "b": (n_out,)} if bias else {"W": (n_in, n_out)}


def json_ready(value: Any, _within: tuple[int, ...] = ()) -> Any:
    """``value`` with NumPy scalars and arrays as lists and numbers, and every non-finite float
    as the string ``"nan"``, ``"inf"`` or ``"-inf"``: strict JSON (``allow_nan=False``) accepts it.

    Raises
    ------
    TypeError
        For a value JSON cannot hold (an object, a set), a key that is not a string or a number
        (a tuple), or a container that holds itself.
    """
    if isinstance(value, dict | list | tuple):
        if id(value) in _within:
            raise TypeError("metadata holds itself (a circular reference): JSON cannot store that")
        _within = (*_within, id(value))
    if isinstance(value, dict):
        bad = [key for key in value if not isinstance(key, str | int | float | bool) and key is not None]
        if bad:
            raise TypeError(f"metadata key {bad[0]!r} is not a string: JSON keys are text, so use str keys")
        return {
            str(key) if not isinstance(key, str) else key: json_ready(v, _within) for key, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [json_ready(v, _within) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        return json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"metadata value {value!r} is not JSON-serialisable")
