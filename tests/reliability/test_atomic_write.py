"""Guarantee 4 (writing): atomic writes keep permissions, follow links, leave the umask alone,
and leave no temporary file after an exception or SIGTERM."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading

import pytest

import chainrule as cr
from chainrule.io.atomic import atomic_write

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions, links and signals")


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_existing_files_permissions_are_kept(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with atomic_write(path) as stream:
        stream.write(b"new")
    assert path.read_bytes() == b"new" and mode_of(path) == 0o640


def test_a_read_only_file_stays_read_only(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o444)
    cr.save(cr.Network([2, 1], seed=0), path)
    assert mode_of(path) == 0o444 and cr.load(path).sizes == [2, 1]


def test_a_new_file_gets_0666_less_the_umask_and_the_umask_is_never_touched(tmp_path, monkeypatch):
    calls = []
    real_umask = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real_umask(mask))
    previous = real_umask(0o027)
    try:
        with atomic_write(tmp_path / "new.bin") as stream:
            stream.write(b"x")
    finally:
        real_umask(previous)
    assert calls == []  # not read, not changed: the kernel applies it when the file is created
    assert mode_of(tmp_path / "new.bin") == 0o666 & ~0o027


def test_a_symlinked_target_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "models" / "real.npz"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "current.npz"
    link.symlink_to(real)
    net = cr.Network([3, 2], seed=0)
    cr.save(net, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert cr.load(real).sizes == [3, 2]
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.npz"]  # the temp file was beside it


def test_an_exception_removes_the_temporary_file(tmp_path):
    path = tmp_path / "m.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(path) as stream:
        stream.write(b"half")
        raise RuntimeError("disk on fire")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["m.bin"]


def test_the_sigterm_handler_is_put_back(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with atomic_write(tmp_path / "a") as stream:
        assert signal.getsignal(signal.SIGTERM) is not before  # ours, while writing
        stream.write(b"x")
    assert signal.getsignal(signal.SIGTERM) is before


def test_writes_from_other_threads_work_without_signal_handling(tmp_path):
    errors = []

    def write():
        try:
            with atomic_write(tmp_path / "t") as stream:
                stream.write(b"x")
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    assert not errors and (tmp_path / "t").read_bytes() == b"x"


WRITER = textwrap.dedent(
    """
    import sys, time
    from chainrule.io.atomic import atomic_write

    with atomic_write(sys.argv[1]) as stream:
        stream.write(b"partial")
        stream.flush()
        print("writing", flush=True)
        time.sleep(30)  # SIGTERM arrives here
    print("finished", flush=True)
    """
)


def test_sigterm_mid_write_removes_the_temporary_file_and_still_terminates(tmp_path):
    path = tmp_path / "m.bin"
    path.write_bytes(b"old")
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "writing"
    assert len(list(tmp_path.iterdir())) == 2  # the temporary file exists while writing
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGTERM, (stdout, stderr)  # died by SIGTERM, as by default
    assert "finished" not in stdout
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.bin"]
