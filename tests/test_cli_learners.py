"""What a learner reads (issue 11 item 7): explain shows what it multiplies and where each number
came from; every seed with a step has one; demo tours all five and keeps demo 002's model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import run

pytest.importorskip("pandas")


def test_explain_a_model_prints_its_weights_optimizer_and_sample(trained):
    out = run("explain", "m.npz", "--input", "600,3.5,2", "--target", "1", "--full", cwd=trained).stdout
    model = cr.load(trained / "m.npz")
    net = model.network
    assert "the model's own optimizer, from its training summary: adam lr 0.001" in out
    assert "update: adam, lr = 0.001" in out  # the step really used it, not sgd lr 0.1
    assert "weights used" in out and "W1 = [[" in out and "b2 = [" in out
    first = np.array2string(net.layers[0].params["W"], precision=8, max_line_width=100).splitlines()[0]
    assert first in out
    prep = model.preprocessor.to_dict()
    gre = (600 - prep["scaler"]["offset"][0]) / prep["scaler"]["scale"][0]
    assert f"gre: 600 -> {gre:.8g} (standard scaling)" in out
    assert "rank: 2 -> rank=1 0, rank=2 1, rank=3 0, rank=4 0" in out
    assert "target admit: 1 -> [1.]" in out


def test_explain_says_when_the_command_line_overrides_the_optimizer(trained):
    out = run("explain", "m.npz", "--input", "600,3.5,2", "--target", "1", "--optimizer", "sgd", cwd=trained)
    assert "using sgd lr 0.001, as the command line asks" in out.stdout
    assert "update: sgd, lr = 0.001" in out.stdout


def test_explain_sizes_states_the_input_it_made_up(tmp_path):
    out = run("explain", "3-4-1", cwd=tmp_path).stdout
    assert "no --input given: made up an input of 0.5 for each of the 3 inputs" in out
    assert "no --target given: made up a target of 1" in out
    given = run("explain", "3-4-1", "--input", "1,2,3", "--target", "0", cwd=tmp_path).stdout
    assert "made up" not in given


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        ("seed000", "3-4-1 network, 4 sample(s)"),
        ("seed001", "change in W2 = [[0.00804047]"),
        ("seed002", "3-4-1 network, 4 sample(s)"),
        ("seed004", "2-3-1 network, 3 sample(s)"),
    ],
)
def test_explain_every_seed_with_a_step(tmp_path, seed, expected):
    out = run("explain", seed, cwd=tmp_path).stdout
    assert expected in out and "weights used" in out and "update: sgd" in out


def test_explain_seed000_is_the_tutorials_first_step(tmp_path):
    from chainrule.examples import seed_000_truth_table as seed

    out = run("explain", "seed000", cwd=tmp_path).stdout
    w1, _ = seed.tutorial_weights()
    assert np.array2string(w1, precision=8, max_line_width=100).splitlines()[0] in out


@pytest.mark.slow
def test_demo_002_keeps_its_model_and_prints_a_command_that_works(tmp_path):
    out = run("demo", "002", cwd=tmp_path).stdout
    assert (tmp_path / "xor_model.npz").is_file()
    command = "python -m chainrule.examples.seed_002_xor_predict xor_model.npz"
    assert command in out and "chainrule info xor_model.npz" in out
    again = subprocess.run(
        [sys.executable, *command.split()[1:]], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert "1 XOR 1" in again.stdout
    (tmp_path / "models").mkdir()
    run("demo", "seed002", "--out", "models/x.npz", cwd=tmp_path)
    assert cr.load(tmp_path / "models" / "x.npz").sizes == [3, 4, 1]


@pytest.mark.slow
def test_demo_tour_runs_all_five_seeds(tmp_path):
    tour = run("demo", cwd=tmp_path).stdout
    for line in ("000  3-4-1", "001  one worked", "002  XOR", "003  output errors", "004  test score"):
        assert line in tour
    assert "hidden errors e @ W.T = [0.178 0.31  0.25  0.314]" in tour
