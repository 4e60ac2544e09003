"""The core needs NumPy only; a missing extra produces a message naming the install command."""

from __future__ import annotations

import subprocess
import sys

OPTIONAL = ("pandas", "matplotlib", "tqdm", "sklearn", "onnx")
BLOCK = f"import sys; [sys.modules.__setitem__(m, None) for m in {OPTIONAL}]; "


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True, timeout=120)


def test_import_chainrule_loads_no_optional_library():
    code = f"import chainrule, sys; print(sorted(m for m in {OPTIONAL} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_library_and_demo_work_without_the_extras():
    result = python("import chainrule.cli as c; sys.exit(c.main(['demo']))")
    assert result.returncode == 0, result.stderr
    assert "0.99619533" in result.stdout


def test_missing_pandas_names_the_install_command(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    result = python(
        f"import chainrule.cli as c; sys.exit(c.main(['train', r'{tmp_path / 'd.csv'}', '--target', 'b', "
        f"'--out', r'{tmp_path / 'm.npz'}']))"
    )
    assert result.returncode == 1
    assert 'pip install "chainrule[cli]"' in result.stderr


def test_missing_matplotlib_names_the_install_command(tmp_path):
    args = ["plot", "activations", "--out", str(tmp_path / "a.png")]
    result = python(f"import chainrule.cli as c; sys.exit(c.main({args!r}))")
    assert result.returncode == 1
    assert 'pip install "chainrule[cli]"' in result.stderr


def test_missing_scikit_learn_names_the_install_command():
    result = python("from chainrule.sklearn import NeuralNetClassifier")
    assert result.returncode == 1
    assert "ModuleNotFoundError" in result.stderr
    assert "chainrule.sklearn needs scikit-learn" in result.stderr
    assert 'pip install "chainrule[sklearn]"' in result.stderr
