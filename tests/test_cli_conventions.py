"""Command-line conventions (issue 11 item 6): options anywhere, defaults shown, one-line warnings,
epochs from 1, early stopping on by default, and the estimators' defaults."""

from __future__ import annotations

import argparse

import pytest

import chainrule as cr
from chainrule.cli import build_parser
from chainrule.cli.options import AUTO_BATCH, DEFAULTS
from tests.conftest import run

pd = pytest.importorskip("pandas")


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_has_a_description_and_every_option_help_and_its_default():
    for name, parser in subcommands().items():
        assert parser.description and len(parser.description) > 40, name
        text = parser.format_help()
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            assert action.help, (name, action.dest)
            shown = action.default not in (None, False, argparse.SUPPRESS) and action.option_strings
            if shown and action.dest != "help":
                assert "default" in parser._get_formatter()._get_help_string(action), (name, action.dest)
        assert "--debug" in text and "--quiet" in text, name


def test_help_shows_defaults_in_the_installed_command(tmp_path):
    text = " ".join(run("train", "--help", cwd=tmp_path).stdout.split())
    for fragment in (
        "(default: 100)",
        "(default: 0.001)",
        "(default: auto)",
        "(default: 2000)",
        "(default: 10)",
    ):
        assert fragment in text
    for command in ("predict", "evaluate", "info"):
        assert "(default" in run(command, "--help", cwd=tmp_path).stdout or command != "predict"


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_and_quiet_work_before_and_after_the_subcommand(trained, where):
    options = ["--debug"]
    args = ["predict", "missing.npz", "binary.csv"]
    line = [*options, *args] if where == "before" else [*args, *options]
    assert "Traceback" in run(*line, cwd=trained, ok=False).stderr
    train = ["train", "binary.csv", "--target", "admit", "--out", "q.npz", "--epochs", "2"]
    line = ["--quiet", *train] if where == "before" else [*train, "--quiet"]
    assert run(*line, cwd=trained).stderr == ""


def test_training_warnings_print_once_as_one_line(trained):
    result = run(
        "train", "binary.csv", "--target", "admit", "--out", "w.npz", "--activation", "sigmoid",
        "--scale", "none", "--epochs", "3", "--quiet", cwd=trained,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: warning: layer 1 (sigmoid) is saturated")
    assert ".py:" not in result.stderr and "warnings.warn" not in result.stderr


def test_divergence_counts_epochs_from_1_like_the_progress(trained):
    args = ["train", "binary.csv", "--target", "admit", "--out", "d.npz", "--optimizer", "sgd", "--lr", "1e6"]
    result = run(*args, "--task", "regression", "--epochs", "3", cwd=trained, ok=False)
    progress = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    completed = int(progress[-1].split()[1].split("/")[0]) if progress else 0
    assert f"training diverged in epoch {completed + 1}:" in result.stderr  # the next one, counted from 1
    assert "try --lr 100000" in result.stderr


def test_epochs_zero_is_refused_not_an_untrained_model(trained):
    result = run(
        "train", "binary.csv", "--target", "admit", "--out", "z.npz", "--epochs", "0", cwd=trained, ok=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "chainrule train: error: argument --epochs: must be at least 1, got 0 (see: chainrule train --help)"
    )
    assert not (trained / "z.npz").exists()


@pytest.mark.slow
def test_early_stopping_follows_the_table_size_and_can_be_chosen(trained):
    train = ["train", "binary.csv", "--target", "admit", "--categorical", "rank", "--epochs", "400"]
    result = run(*train, "--out", "e.npz", "--lr", "0.05", cwd=trained)  # 400 rows: too few to hold out
    assert (
        "early stopping: on the training loss (too few rows for a validation split of 500)" in result.stderr
    )
    assert "--early-stopping off to run every epoch" in result.stderr
    stopped = cr.load(trained / "e.npz").metadata["training"]
    assert stopped["epochs_run"] < 400 and stopped["stopping"] == "training" and stopped["train_rows"] == 400
    assert "early stopping: no fall of the training loss by 0.0001 for 10 epochs" in result.stdout
    full = run(*train, "--out", "f.npz", "--lr", "0.05", "--no-early-stopping", "--quiet", cwd=trained)
    assert "trained 400 epochs" in full.stdout
    held = ["--validation-split", "0.2", "--early-stopping", "validation"]
    val = run(*train, *held, "--out", "g.npz", "--lr", "0.05", cwd=trained)
    assert "early stopping: on the validation loss (80 rows), patience 10" in val.stderr
    assert cr.load(trained / "g.npz").metadata["training"]["train_rows"] == 320


def test_cli_defaults_are_the_estimators_defaults():
    pytest.importorskip("sklearn")
    from chainrule.sklearn import NeuralNetClassifier, NeuralNetRegressor
    from chainrule.table.stopping import AUTO_VALIDATION

    for estimator in (NeuralNetClassifier(), NeuralNetRegressor()):
        params = estimator.get_params()
        assert list(DEFAULTS["layers"]) == list(params["hidden_layer_sizes"])
        assert DEFAULTS["activation"] == params["activation"]
        assert DEFAULTS["optimizer"] == params["solver"]
        assert DEFAULTS["lr"] == params["learning_rate_init"]
        assert DEFAULTS["alpha"] == "auto" and params["alpha"] == 1e-4  # 10 / rows, and scikit-learn's
        assert DEFAULTS["batch_size"] == params["batch_size"] == "auto" and AUTO_BATCH == 200
        assert DEFAULTS["epochs"] == 2000 and params["max_iter"] == 200  # train decays weights instead
        assert DEFAULTS["validation_split"] == "auto" and AUTO_VALIDATION == params["validation_fraction"]
        assert DEFAULTS["patience"] == params["n_iter_no_change"]
        assert DEFAULTS["min_delta"] == params["tol"]


def test_the_defaults_table_in_the_readme_matches(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Defaults")[1]
    table = section[section.index("| setting") :].split("\n\n")[0]
    for value in ("`100`", "`relu`", "`adam`", "`0.001`", "`auto`", "`2000`", "`0.1`", "`10`"):
        assert value in table
