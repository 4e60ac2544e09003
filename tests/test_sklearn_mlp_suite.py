"""scikit-learn's own MLP tests, run against chainrule's estimators (issue 21, 5).

The installed wheel's ``sklearn/neural_network/tests/test_mlp.py`` is copied at run time (never
vendored) with one import changed, so ``MLPClassifier`` and ``MLPRegressor`` there are
`NeuralNetClassifier` and `NeuralNetRegressor`, and run by pytest in a subprocess (with
scikit-learn's conftest for its fixtures). Every test must pass except those in `EXEMPT`, each
with its reason; an exempt test that starts to pass must leave `EXEMPT` (so the list stays true).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

sklearn = pytest.importorskip("sklearn")

IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
REPLACEMENT = (
    "from chainrule.sklearn import NeuralNetClassifier as MLPClassifier\n"
    "from chainrule.sklearn import NeuralNetRegressor as MLPRegressor"
)
LBFGS = "solver='lbfgs' runs (train/lbfgs.py), but this case does not pass yet (not investigated)"
#: Test functions (all their parametrizations, or the prefix given) expected to fail, and why.
EXEMPT = {
    "test_gradient": "it calls scikit-learn's private _loss_grad_lbfgs",
    "test_lbfgs_regression[X1-y1]": LBFGS,
    "test_lbfgs_regression_maxfun": LBFGS,
    "test_multilabel_classification": f"{LBFGS} (its lbfgs half; the sgd half passes)",
    "test_sparse_matrices": "chainrule's networks take dense X (sparse is refused)",
    "test_warm_start": LBFGS,
    "test_mlp_vs_poisson_glm_equivalent": "loss='poisson' is not a chainrule loss",
}


def exemption(name: str) -> str | None:
    """The reason a test (``name[params]``) may fail, or None."""
    for key, reason in EXEMPT.items():
        if name == key or name.startswith(key if key.endswith("-") else f"{key}["):
            return reason
    return None


@pytest.mark.slow
def test_scikit_learns_mlp_tests_pass_on_chainrules_estimators(tmp_path):
    source = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
    if not source.exists():
        pytest.skip(f"this scikit-learn wheel ships no {source}")
    text = source.read_text(encoding="utf-8")
    assert IMPORT in text, "scikit-learn's test_mlp.py imports its estimators another way now"
    (tmp_path / "test_mlp_chainrule.py").write_text(text.replace(IMPORT, REPLACEMENT), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    report = tmp_path / "report.xml"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "sklearn.conftest", "-p", "no:cacheprovider", "-q"),
            *("test_mlp_chainrule.py", f"--junitxml={report}"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"},
    )
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcome = {}
    for case in cases:
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        outcome[case.get("name")] = (
            "skipped" if case.find("skipped") is not None else ("failed" if bad is not None else "passed")
        )
    failed = sorted(name for name, state in outcome.items() if state == "failed")
    passed = sorted(name for name, state in outcome.items() if state == "passed")
    print(
        f"scikit-learn {sklearn.__version__} test_mlp.py on chainrule: {len(passed)} of {len(outcome)} pass"
    )
    unexpected = [name for name in failed if exemption(name) is None]
    assert not unexpected, f"failed without an exemption: {unexpected}\n{result.stdout[-6000:]}"
    stale = [name for name in passed if exemption(name) is not None]
    assert not stale, f"exempt but passing now (remove from EXEMPT): {stale}"
    assert len(outcome) > 40 and len(passed) >= len(outcome) - 20
