"""Guarantee 4 (bounded loading): a hostile model file is refused before it costs memory.

Each file here is a few megabytes on disk but declares members that inflate to gigabytes (a
deflate stream of zeros), or a JSON header padded to a gigabyte, or a network of terabytes.
`load` must refuse each with `ModelFileError` quickly, and a subprocess measures its peak
resident memory (``VmHWM`` where Linux has it: ``ru_maxrss`` would start at the forking
parent's size and hide growth) to prove nothing was inflated.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import time
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.io.archive import MAX_HEADER_BYTES
from chainrule.io.model_file import HEADER_KEY, MAX_MODEL_BYTES

GIB = 2**30
BLOCK = 2**20


def npy_header(shape, descr="<f8"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def json_header(layers=None):
    header = {
        "format": "chainrule-model",
        "format_version": 1,
        "library_version": "0",
        "dtype": "float64",
        "loss": None,
        "metadata": {},
        "layers": layers
        or [{"type": "Dense", "n_in": 2, "n_out": 1, "activation": {"name": "identity"}, "bias": False}],
    }
    return json.dumps(header).encode()


def deflated(prefix: bytes, filler: bytes, size: int):
    """A raw deflate stream of ``prefix`` then ``size`` bytes of ``filler`` (repeated), built
    from one compressed block reused: a gigabyte costs about a megabyte and no gigabyte of RAM."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [compressor.compress(prefix), compressor.flush(zlib.Z_FULL_FLUSH)]
    block = (filler * (BLOCK // len(filler) + 1))[:BLOCK]
    compressed_block = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(size, BLOCK)
    parts += [compressed_block] * count
    parts += [compressor.compress(block[:rest]), compressor.flush()]
    crc = crc32_combine(zlib.crc32(prefix), repeated_crc(zlib.crc32(block), BLOCK, count), count * BLOCK)
    crc = zlib.crc32(block[:rest], crc)
    return b"".join(parts), crc, len(prefix) + size


def _gf2_times(matrix, vector):
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector, row = vector >> 1, row + 1
    return total


def crc32_combine(crc1, crc2, len2):
    """zlib's crc32_combine: the CRC-32 of A + B from those of A and B and B's length."""
    if len2 == 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = [_gf2_times(odd, odd[n]) for n in range(32)]
    odd = [_gf2_times(even, even[n]) for n in range(32)]
    while len2:  # apply len2 zero bytes to crc1, squaring the operator
        even = [_gf2_times(odd, odd[n]) for n in range(32)]
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = [_gf2_times(even, even[n]) for n in range(32)]
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
    return crc1 ^ crc2


def repeated_crc(crc, length, count):
    """The CRC-32 of ``count`` copies of a block of ``length`` bytes whose CRC-32 is ``crc``."""
    result, result_length = 0, 0  # the CRC of nothing
    while count:
        if count & 1:
            result = crc32_combine(result, crc, length) if result_length else crc
            result_length += length
        crc, length, count = crc32_combine(crc, crc, length), 2 * length, count >> 1
    return result


def write_zip(path, members):
    """A zip of deflated members ``{name: (compressed, crc, size)}``, written by hand."""
    out, directory = bytearray(), bytearray()
    for name, (data, crc, size) in members.items():
        encoded = name.encode()
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0
        )
        out += encoded + data
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            len(data),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        directory += encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(out), 0)
    path.write_bytes(bytes(out + directory + end))
    return path


def stored(prefix_and_data: bytes):
    return deflated(prefix_and_data, b"\0", 0)


def header_member(raw=None):
    raw = json_header() if raw is None else raw
    return deflated(npy_header((len(raw),), "|u1") + raw, b" ", 0)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    W = npy_header((2, 1)) + np.zeros(2).tobytes()
    files = {
        # the array's own header claims 2 GiB of float64 where the model header says (2, 1)
        "inflating-array": {
            f"{HEADER_KEY}.npy": header_member(),
            "layer0.W.npy": deflated(npy_header((2 * GIB // 8,)), b"\0", 2 * GIB),
        },
        # the right array header, then 2 GiB more than it describes
        "inflating-tail": {
            f"{HEADER_KEY}.npy": header_member(),
            "layer0.W.npy": deflated(W, b"\0", 2 * GIB),
        },
        # a member the header does not name
        "unnamed-member": {
            f"{HEADER_KEY}.npy": header_member(),
            "layer0.W.npy": stored(W),
            "junk.npy": deflated(npy_header((2 * GIB // 8,)), b"\0", 2 * GIB),
        },
        # valid JSON padded with 1 GiB of spaces
        "padded-header": {
            f"{HEADER_KEY}.npy": deflated(
                npy_header((len(json_header()) + GIB,), "|u1") + json_header(), b" ", GIB
            ),
            "layer0.W.npy": stored(W),
        },
        # a network of 8 TB described in a few bytes
        "huge-network": {
            f"{HEADER_KEY}.npy": header_member(
                json_header(
                    [
                        {
                            "type": "Dense",
                            "n_in": 10**6,
                            "n_out": 10**6,
                            "activation": "identity",
                            "bias": False,
                        }
                    ]
                )
            ),
            "layer0.W.npy": stored(W),
        },
    }
    paths = {name: write_zip(folder / f"{name}.npz", members) for name, members in files.items()}
    valid = folder / "valid.npz"
    write_zip(valid, {f"{HEADER_KEY}.npy": header_member(), "layer0.W.npy": stored(W)})
    return paths, valid


def test_the_crc_shortcut_is_exact():
    block = bytes(range(256)) * 3
    assert repeated_crc(zlib.crc32(block), len(block), 5) == zlib.crc32(block * 5)
    assert crc32_combine(zlib.crc32(b"head"), zlib.crc32(block), len(block)) == zlib.crc32(b"head" + block)


def test_a_generated_member_inflates_to_exactly_its_bytes_with_a_valid_crc(tmp_path):
    import zipfile

    size = 3 * BLOCK + 17
    path = write_zip(tmp_path / "z.zip", {"a.npy": deflated(b"prefix", b" ", size)})
    with zipfile.ZipFile(path) as archive:
        assert archive.read("a.npy") == b"prefix" + b" " * size  # zipfile checks the CRC


def test_the_hostile_files_are_small_on_disk_and_inflate_to_gigabytes(hostile):
    """What makes them hostile, checked with zipfile, so the memory test below means something."""
    import zipfile

    paths, valid = hostile
    assert cr.load(valid).predict([[1.0, 2.0]]).shape == (1, 1)  # the hand-written zip is a valid model
    for name, path in paths.items():
        assert path.stat().st_size < 8 * 2**20, name
        if name != "huge-network":
            with zipfile.ZipFile(path) as archive:
                assert sum(info.file_size for info in archive.infolist()) >= GIB, name


PROBE = textwrap.dedent(
    """
    import resource, sys, time
    import chainrule as cr

    def peak_mib():  # this process's own peak: ru_maxrss starts at the parent's after fork + exec
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def reset_peak():  # Linux >= 4.0: the peak starts again from the current resident set
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            pass

    cr.load(sys.argv[1])  # warm up: imports, a valid load
    reset_peak()
    before = peak_mib()
    for path in sys.argv[2:]:
        start = time.perf_counter()
        try:
            cr.load(path)
            print("LOADED", path)
        except cr.ModelFileError as exc:
            print("REFUSED", round(time.perf_counter() - start, 3), str(exc)[:300])
    print("GROWTH", peak_mib() - before)
    import zipfile
    reset_peak()
    before = peak_mib()
    with zipfile.ZipFile(sys.argv[2]) as archive:  # the control: really inflate 256 MiB
        kept = archive.open("layer0.W.npy").read(256 * 2**20)
    print("CONTROL", peak_mib() - before)
    """
)


def test_hostile_files_are_refused_with_little_memory(hostile):
    paths, valid = hostile
    names = list(paths)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(valid), *(str(paths[name]) for name in names)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    refused = [line for line in lines if line.startswith("REFUSED")]
    assert len(refused) == len(names), result.stdout
    reasons = dict(zip(names, refused, strict=True))
    assert "stored as float64[268435456]" in reasons["inflating-array"]
    assert "bytes, not 16 of data" in reasons["inflating-tail"]
    assert "['junk'] belong to no layer" in reasons["unnamed-member"]
    assert f"reads at most {MAX_HEADER_BYTES}" in reasons["padded-header"]
    assert f"over the {MAX_MODEL_BYTES} accepted" in reasons["huge-network"]
    for line in refused:
        assert float(line.split()[1]) < 1.0, line  # refused cheaply
    growth = float(next(line for line in lines if line.startswith("GROWTH")).split()[1])
    control = float(next(line for line in lines if line.startswith("CONTROL")).split()[1])
    assert growth < 64, f"loading the hostile files raised peak memory by {growth:.0f} MiB"
    assert control > 200, "the probe must see memory that really is used (the control read)"


def test_max_bytes_lets_a_caller_accept_less_or_more(tmp_path):
    net = cr.Network([50, 40, 1], seed=0)
    path = tmp_path / "m.npz"
    cr.save(net, path)
    with pytest.raises(cr.ModelFileError, match="over the 1000 accepted"):
        cr.load(path, max_bytes=1000)
    assert cr.load(path, max_bytes=10**6).sizes == [50, 40, 1]


def test_a_refused_load_takes_no_time_even_for_gigabytes(hostile):
    paths, _ = hostile
    start = time.perf_counter()
    for path in paths.values():
        with pytest.raises(cr.ModelFileError):
            cr.load(path)
    assert time.perf_counter() - start < 2.0


DECLARED = textwrap.dedent(
    """
    import resource, sys
    import chainrule as cr

    def peak_mib():  # this process's own peak: ru_maxrss starts at the parent's after fork + exec
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    cr.load(sys.argv[1])  # warm up: imports, a valid load
    before = peak_mib()
    net = cr.load(sys.argv[2])
    print("SIZES", net.sizes)
    print("GROWTH", peak_mib() - before)
    """
)


def test_a_declared_shape_loads_with_one_copy_of_its_arrays(tmp_path, hostile):
    """Issue 21, 2: a file of a few hundred kB declaring one 8192x8192 float64 layer (512 MiB,
    under the default max_bytes) is a valid model; loading it must cost under 1.5x its declared
    size (it cost 4x: the read buffer, a cast, the layer's copy and its zeroed gradient)."""
    _, valid = hostile
    n = 8192
    declared = n * n * 8
    layers = [{"type": "Dense", "n_in": n, "n_out": n, "activation": {"name": "identity"}, "bias": False}]
    path = write_zip(
        tmp_path / "declared.npz",
        {
            f"{HEADER_KEY}.npy": header_member(json_header(layers)),
            "layer0.W.npy": deflated(npy_header((n, n)), b"\0", declared),
        },
    )
    assert path.stat().st_size < 2**20 and declared < MAX_MODEL_BYTES
    result = subprocess.run(
        [sys.executable, "-c", DECLARED, str(valid), str(path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert f"SIZES [{n}, {n}]" in result.stdout
    growth = float(result.stdout.split("GROWTH")[1])
    assert declared / 2**20 * 0.9 < growth < 1.5 * declared / 2**20, f"peak grew {growth:.0f} MiB"
