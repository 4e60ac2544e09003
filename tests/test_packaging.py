"""The distributions: an sdist whose tests run, a wheel that says it is typed, SPDX licence metadata."""

from __future__ import annotations

import email
import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What the sdist must carry for ``python -m pytest`` to run in the unpacked folder.
CARRIED = {"tests": "*.py", "docs": "*.md", "benchmarks": "*.py"}


@pytest.fixture(scope="module")
def distributions(tmp_path_factory) -> tuple[Path, Path]:
    if importlib.util.find_spec("build") is None:
        pytest.skip("needs the build package (in the test extra)")
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with this environment's setuptools, so no index is needed
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return next(out.glob("*.tar.gz")), next(out.glob("*.whl"))


@pytest.mark.slow
def test_sdist_carries_the_tests_docs_and_benchmarks(distributions, tmp_path):
    sdist, _ = distributions
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    unpacked = next(tmp_path.iterdir())
    expected = {
        path.relative_to(ROOT).as_posix()
        for folder, pattern in CARRIED.items()
        for path in (ROOT / folder).rglob(pattern)
        if "__pycache__" not in path.parts
    }
    assert {"tests/conftest.py", "tests/reliability/__init__.py", "docs/performance.md"} <= expected
    missing = sorted(name for name in expected if not (unpacked / name).is_file())
    assert missing == []
    for name in ("LICENSE", "README.md", "pyproject.toml", "src/chainrule/py.typed"):
        assert (unpacked / name).is_file(), name
    # the unpacked tests collect: conftest, the reliability package and the helpers all resolve
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=unpacked,
        capture_output=True,
        text=True,
    )
    assert collected.returncode == 0, collected.stdout[-2000:]
    assert "tests/reliability/test_files.py" in collected.stdout


@pytest.mark.slow
def test_metadata_has_an_spdx_licence_and_the_wheel_is_typed(distributions):
    _, wheel = distributions
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = email.message_from_bytes(archive.read(next(n for n in names if n.endswith("/METADATA"))))
    assert "chainrule/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata["License-Expression"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and not any(c.startswith("License ::") for c in classifiers)
    assert (
        f"Programming Language :: Python :: {sys.version_info.major}.{sys.version_info.minor}" in classifiers
    )
