"""A read-only install: the package folder and HOME not writable, the CLI run by another user.

CI runs as root on a fresh machine, where root could write anywhere; so the CLI runs here as the
unprivileged user ``nobody`` (``setpriv``), with HOME a folder it cannot write and the package
folder (root's) not writable either. Numba's cache then has nowhere to go: the run must still
work, uncached, with one warning naming the fix (it used to fail with "cannot cache function
'activate': no locator available"). Skipped, with the reason, where that cannot be arranged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import chainrule
from chainrule.nn import kernels
from chainrule.nn.kernels import numba_cache
from tests.conftest import COMMAND

PACKAGE = Path(chainrule.__file__).resolve().parent


def as_nobody(request) -> tuple[list[str], dict[str, str], Path]:
    """The command prefix, environment and working folder for a run as ``nobody``, or skip."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("needs root to run the CLI as another user (CI runs as root)")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    prefix = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    root = Path(tempfile.mkdtemp(prefix="chainrule-readonly-"))  # pytest's folders are root's alone
    request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    root.chmod(0o755)
    for parent in root.parents:
        if parent.stat().st_mode & 0o001 == 0:
            pytest.skip(f"{parent} cannot be entered by other users")
    home, work = root / "home", root / "work"
    home.mkdir(mode=0o755)  # owned by root: nobody reads it but cannot write it
    work.mkdir()
    work.chmod(0o777)  # where the CLI may write its outputs
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("NUMBA_", "XDG_", "MPL"))
    }
    environment.update(HOME=str(home), PYTHONPATH=str(PACKAGE.parent), CHAINRULE_BACKEND="")
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import chainrule"],
        env=environment,
        cwd=work,
        capture_output=True,
        text=True,
    )
    if probe.returncode:
        pytest.skip(f"nobody cannot import chainrule here: {probe.stderr.strip()[-300:]}")
    assert subprocess.run([*prefix, "test", "-w", str(PACKAGE)]).returncode != 0
    assert subprocess.run([*prefix, "test", "-w", str(home)]).returncode != 0
    return prefix, environment, work


def test_the_cli_runs_from_a_read_only_install(request):
    prefix, environment, work = as_nobody(request)
    for args in (["--version"], ["demo"]):
        result = subprocess.run(
            [*prefix, str(COMMAND), *args],
            env=environment,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        assert "no locator" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not kernels.numba_installed(), reason="numba absent")
def test_numba_runs_uncached_with_one_warning_from_a_read_only_install(request):
    prefix, environment, work = as_nobody(request)
    environment["CHAINRULE_BACKEND"] = "numba"  # the kernels must compile (and cannot be cached)
    result = subprocess.run(
        [*prefix, str(COMMAND), "demo", "000"], env=environment, cwd=work, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Numba cannot cache") == 1, result.stderr
    assert "NUMBA_CACHE_DIR" in result.stderr and "no locator" not in result.stderr


def test_the_cache_folder_is_the_first_writable_one_in_numbas_order(tmp_path, monkeypatch):
    writable, locked = tmp_path / "mine", tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(
        numba_cache, "_writable", lambda folder: folder != locked and "__pycache__" not in str(folder)
    )
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(writable))
    numba_cache.folder.cache_clear()
    assert numba_cache.folder() == writable
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(locked))  # not writable: the next in Numba's order
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    numba_cache.folder.cache_clear()
    if sys.platform.startswith("linux"):
        assert numba_cache.folder() == tmp_path / "xdg" / "numba"
    monkeypatch.setattr(numba_cache, "_writable", lambda folder: False)
    numba_cache.folder.cache_clear()
    numba_cache.caching.cache_clear()
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
        assert numba_cache.caching() is False
    numba_cache.folder.cache_clear()
    numba_cache.caching.cache_clear()


def test_a_compiled_key_is_remembered_next_to_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    numba_cache.folder.cache_clear()
    try:
        assert not numba_cache.is_compiled("float64:chunk:2")
        numba_cache.compile_notice("float64:chunk:2")(False)  # a failed first epoch: not recorded
        assert not numba_cache.is_compiled("float64:chunk:2")
        numba_cache.compile_notice("float64:chunk:2")(True)
        assert numba_cache.is_compiled("float64:chunk:2") and not numba_cache.is_compiled("float32:chunk:2")
    finally:
        numba_cache.folder.cache_clear()
