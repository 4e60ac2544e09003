"""Exports load in the oldest onnxruntime the ``onnx`` extra allows, not just the newest.

The fixture makes a second virtual environment with ``onnxruntime==<floor>.*`` (the floor
read from pyproject.toml), kept in pytest's cache between runs; with
``CHAINRULE_ORT_FLOOR_PYTHON`` set, that interpreter is used instead (a CI step can
prepare it). Each exported model runs there and its outputs are compared with chainrule's.
Skipped, saying why, when that runtime cannot be installed (offline, or no wheel for this
Python).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("sklearn")

import chainrule as cr
from tests.test_export import assert_outputs_match, estimator_cases, expected_outputs

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

RUNNER = """
import json, sys
import numpy as np
import onnxruntime as ort
jobs = json.load(open(sys.argv[1]))
results = {"version": ort.__version__, "models": {}}
for name, job in jobs.items():
    session = ort.InferenceSession(job["model"], providers=["CPUExecutionProvider"])
    X = np.load(job["X"]).astype(job["dtype"])
    outputs = session.run(None, {session.get_inputs()[0].name: X})
    results["models"][name] = {o.name: v.tolist() for o, v in zip(session.get_outputs(), outputs)}
print(json.dumps(results))
"""


def runtime_floor() -> str:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["onnx"]
    spec = next(d for d in dependencies if d.startswith("onnxruntime"))
    return re.fullmatch(r"onnxruntime>=([\d.]+)", spec).group(1)


@pytest.fixture(scope="session")
def floor_python(request, tmp_path_factory) -> Path:
    given = os.environ.get("CHAINRULE_ORT_FLOOR_PYTHON")
    if given:
        return Path(given)
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    name = "onnxruntime-floor-venv"
    folder = cache.mkdir(name) if cache is not None else tmp_path_factory.mktemp(name)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    check = [
        str(python),
        "-c",
        f"import onnxruntime as o; assert o.__version__.startswith('{runtime_floor()}.')",
    ]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"onnxruntime=={runtime_floor()}.*", "numpy<2"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if install.returncode != 0:
        pytest.skip(f"cannot install onnxruntime=={runtime_floor()}.* here: {install.stderr.strip()[-300:]}")
    return python


def run_in_floor_runtime(python: Path, jobs: dict, folder: Path) -> dict:
    (folder / "jobs.json").write_text(json.dumps(jobs))
    (folder / "runner.py").write_text(RUNNER)
    done = subprocess.run(
        [str(python), str(folder / "runner.py"), str(folder / "jobs.json")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.slow
def test_exports_load_and_agree_in_the_oldest_allowed_onnxruntime(floor_python, tmp_path):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    models = estimator_cases()
    net = cr.Network([4, 6, 3], activation="tanh", output_activation="softmax", seed=0)
    jobs, expected = {}, {}
    for name, (model, X) in models.items():
        cr.export_onnx(model, tmp_path / f"{name}.onnx")
        expected[name] = expected_outputs(model, X)
    models["network"] = (net, models["string-classes"][1])
    cr.export_onnx(net, tmp_path / "network.onnx")
    expected["network"] = {"output": net.predict(models["network"][1])}
    # a whole pipeline through skl2onnx, at an opset the floor reads (skl2onnx's default is newer)
    X = models["string-classes"][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(StandardScaler(), type(models["string-classes"][0])(max_iter=20, random_state=0))
        pipe.fit(X * 10 + 3, models["string-classes"][0].predict(X))
    onx = skl2onnx.to_onnx(
        pipe, (X[:1] * 10 + 3).astype(np.float32), target_opset=13, options={"zipmap": False}
    )
    (tmp_path / "pipeline.onnx").write_bytes(onx.SerializeToString())
    models["pipeline"] = (pipe, X * 10 + 3)
    expected["pipeline"] = expected_outputs(pipe, X * 10 + 3)
    for name, (_, data) in models.items():
        np.save(tmp_path / f"{name}.npy", data)
        jobs[name] = {
            "model": str(tmp_path / f"{name}.onnx"),
            "X": str(tmp_path / f"{name}.npy"),
            "dtype": "float32",
        }
    result = run_in_floor_runtime(floor_python, jobs, tmp_path)
    print(f"loaded in onnxruntime {result['version']}")
    assert result["version"].startswith(runtime_floor() + ".")
    for name, outputs in result["models"].items():
        assert_outputs_match({key: np.array(value) for key, value in outputs.items()}, expected[name])
