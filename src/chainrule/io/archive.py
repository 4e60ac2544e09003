"""Bounded reading of ``.npz`` archives: the directory and each member's ``.npy`` header first.

`read_member` checks a member's declared shape, dtype and size against what the caller
expects before it reads any data, and then reads exactly that many bytes in chunks, so a
hostile archive (members that inflate to gigabytes, a header padded to a gigabyte) is refused
after reading a few hundred bytes.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from chainrule.errors import ModelFileError

#: The largest JSON header a model file may have (16 MiB: a model's description plus its preprocessing).
MAX_HEADER_BYTES = 16 * 2**20
_CHUNK = 2**20


def npz_members(archive: zipfile.ZipFile, path: Path, header_key: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's ``.npy`` members by array name, from its directory alone."""
    infos = archive.infolist()
    names = [info.filename.removesuffix(".npy") for info in infos]
    if len(set(names)) != len(names) or any(not info.filename.endswith(".npy") for info in infos):
        raise ModelFileError(f"{path}: the archive holds duplicate or non-array members")
    members = dict(zip(names, infos, strict=True))
    if header_key not in members:
        raise ModelFileError(f"{path} is not a chainrule model file (it has no header)")
    return members


def read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: Path,
    expected: tuple[tuple[int, ...], np.dtype] | None,
    data: bool = True,
) -> Any:
    """One member: its ``.npy`` header checked against ``expected`` (the JSON header's own
    member when None: bytes, at most `MAX_HEADER_BYTES`), then, with ``data``, its values."""
    name = info.filename.removesuffix(".npy")
    with archive.open(info) as stream:
        shape, fortran, dtype = npy_header(stream, name, path)
        if expected is None:
            if dtype != np.uint8 or len(shape) != 1:
                raise ModelFileError(f"{path}: the header is not stored as bytes")
            if shape[0] > MAX_HEADER_BYTES:
                raise ModelFileError(
                    f"{path}: its JSON header is {shape[0]} bytes; chainrule reads at most {MAX_HEADER_BYTES}"
                )
        elif (shape, dtype) != expected:
            raise ModelFileError(
                f"{path}: array {name} is stored as {dtype}{list(shape)}; the header says "
                f"{expected[1]}{list(expected[0])} (shape or dtype)"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size != stream.tell() + nbytes:
            raise ModelFileError(
                f"{path}: member {info.filename} is {info.file_size} bytes, not {nbytes} of data"
            )
        if not data:
            return None
        buffer = bytearray(nbytes)
        view, done = memoryview(buffer), 0
        while done < nbytes:
            chunk = stream.read(min(_CHUNK, nbytes - done))
            if not chunk:
                raise ModelFileError(f"{path}: array {name} is truncated")
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
        stream.read(1)  # reach the end, where zipfile checks the CRC
    if expected is None:
        return bytes(buffer)
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def all_finite(array: np.ndarray) -> bool:
    """Whether every value is finite, checked a block at a time (no temporary the array's size).

    Parameters
    ----------
    array : ndarray
        C- or Fortran-ordered (as `read_member` returns them), of a float dtype.

    Returns
    -------
    bool
    """
    flat = array.ravel(order="K")  # a view of a C- or Fortran-ordered array
    return all(bool(np.isfinite(flat[i : i + _CHUNK]).all()) for i in range(0, flat.size, _CHUNK))


def npy_header(stream: IO[bytes], name: str, path: Path) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream)
    raise ModelFileError(f"{path}: array {name} uses .npy format {version}, not 1.0 or 2.0")
