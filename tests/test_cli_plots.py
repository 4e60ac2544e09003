"""Honest plots (issue 11 item 3, issue 12 item 5): the figures show the model and data given,
boundary colours agree, the library draws in matplotlib's object-oriented style, and a failing
plot never costs the trained model."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.nn.losses import class_indices
from tests.conftest import assert_image, run

pd = pytest.importorskip("pandas")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # the tests' own choice, before pyplot; the library never makes it
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from chainrule.teaching import plots  # noqa: E402


def pixels(path) -> np.ndarray:
    return matplotlib.image.imread(path)[..., :3]


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """signs.csv and two different models of it: other seeds, widths and lengths of training."""
    folder = tmp_path_factory.mktemp("plots")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(160, 2)), columns=["a", "b"])
    frame["label"] = np.where(frame["a"] * frame["b"] > 0, "same", "different")
    frame.to_csv(folder / "signs.csv", index=False)
    common = ["train", "signs.csv", "--target", "label", "--quiet", "--no-early-stopping"]
    run(*common, "--out", "one.npz", "--epochs", "40", "--layers", "8", "--seed", "1", cwd=folder)
    run(*common, "--out", "two.npz", "--epochs", "80", "--layers", "16,8", "--seed", "2", cwd=folder)
    return folder


@pytest.mark.parametrize(("kind", "extra"), [("activations", ["signs.csv"]), ("steps", [])])
def test_model_plots_differ_for_two_models(two_models, kind, extra):
    for model in ("one", "two"):
        run("plot", kind, f"{model}.npz", *extra, "--out", f"{kind}-{model}.png", cwd=two_models)
        assert_image(two_models / f"{kind}-{model}.png")
    run("plot", kind, "--out", f"{kind}-generic.png", cwd=two_models)
    one, two, generic = (pixels(two_models / f"{kind}-{n}.png") for n in ("one", "two", "generic"))
    assert one.shape != two.shape or not np.array_equal(one, two)
    assert one.shape != generic.shape or not np.array_equal(one, generic)  # not the generic figure


def test_steps_records_each_models_own_outputs(two_models):
    one = cr.load(two_models / "one.npz").metadata["training"]["trajectory"]
    two = cr.load(two_models / "two.npz").metadata["training"]["trajectory"]
    assert one["epochs"][0] == 0 and one["epochs"][-1] == 40 and two["epochs"][-1] == 80
    assert one["output"] == "probability of the true class" and len(one["rows"]) == 2
    assert one["rows"][0].startswith("line ") and set(one["truth"]) == {"same", "different"}
    assert one["outputs"] != two["outputs"]


def test_hidden_activations_show_dead_units():
    net = cr.Network([2, 6, 1], activation="relu", seed=0)
    net.layers[0].params["b"][:3] = -100.0  # three units that never fire
    X = np.random.default_rng(0).normal(size=(50, 2))
    share, meaning = plots.unit_health(net.layers[0], net.layers[0].forward(X))
    assert meaning.startswith("dead") and np.array_equal(share >= 0.999, [1, 1, 1, 0, 0, 0])
    fig = plots.hidden_activations(net, X)
    assert "3 dead on every row" in fig.axes[1].get_xlabel()
    plt.close(fig)


@pytest.mark.parametrize("n_classes", [2, 3, 12])
def test_boundary_regions_points_and_legend_share_colours(n_classes):
    rng = np.random.default_rng(n_classes)
    centres = rng.uniform(-10, 10, size=(n_classes, 2))
    labels = np.repeat([f"c{k}" for k in range(n_classes)], 15)
    X = centres.repeat(15, axis=0) + rng.normal(scale=0.3, size=(15 * n_classes, 2))
    Y = cr.one_hot(np.repeat(np.arange(n_classes), 15), n_classes) if n_classes > 2 else None
    out = "softmax" if n_classes > 2 else "sigmoid"
    net = cr.Network([2, 32, n_classes if n_classes > 2 else 1], output_activation=out, seed=0)
    y = Y if Y is not None else (labels == "c1").astype(float)[:, None]
    net.fit(X / 10, y, optimizer="adam", lr=0.02, epochs=300)
    classes = [f"c{k}" for k in range(n_classes)]
    fig = plots.decision_boundary(net, X, labels, classes=classes, transform=lambda p: p / 10)
    ax = fig.axes[0]
    image = ax.images[0]
    rgb = np.asarray(image.get_array())[..., :3]
    x0, x1, y0, y1 = image.get_extent()
    scatter = {c.get_label(): c.get_facecolor()[0][:3] for c in ax.collections if c.get_label() in classes}
    box = ax.get_legend()
    legend = {
        t.get_text(): h.get_facecolor()[0][:3]
        for t, h in zip(box.get_texts(), box.legend_handles, strict=True)
    }
    predicted = class_indices(net.predict(X / 10))
    for k, label in enumerate(classes):
        np.testing.assert_allclose(scatter[label], legend[label])
        rows = np.flatnonzero((labels == label) & (predicted == k))
        assert rows.size, f"class {label} never predicted right"
        px, py = X[rows[0]]
        col = int((px - x0) / (x1 - x0) * (rgb.shape[1] - 1) + 0.5)
        row = int((py - y0) / (y1 - y0) * (rgb.shape[0] - 1) + 0.5)
        np.testing.assert_allclose(rgb[row, col], scatter[label], atol=1e-6)  # region = point = legend
    assert len({tuple(np.round(c, 6)) for c in scatter.values()}) == n_classes
    plt.close(fig)


def test_plot_functions_are_object_oriented_and_leave_the_backend(monkeypatch, tmp_path):
    monkeypatch.setattr(matplotlib, "use", lambda *a, **k: pytest.fail("a plot function changed the backend"))
    backend = matplotlib.get_backend()
    net = cr.Network([2, 4, 1], seed=0)
    X = np.random.default_rng(0).normal(size=(20, 2))
    fig, ax = plt.subplots()
    assert plots.loss_curves({"loss": [3.0, 2.0, 1.0]}, ax=ax) is fig and ax.lines
    assert plots.output_vs_steps([1, 2, 3], [0.1, 0.5, 0.9], ax=ax, target=1.0) is fig
    assert plots.decision_boundary(net, X, (X[:, 0] > 0).astype(int), ax=ax) is fig
    plt.close(fig)
    for make in (
        lambda: plots.activation_functions(),
        lambda: plots.hidden_activations(net, X),
        lambda: plots.loss_curves({"loss": [1.0, 0.5]}),
    ):
        figure = make()
        assert isinstance(figure, matplotlib.figure.Figure)
        plt.close(figure)
    assert list(tmp_path.iterdir()) == []  # nothing written without a path
    written = plots.loss_curves({"loss": [1.0, 0.5]}, tmp_path / "l.svg")
    plt.close(written)
    assert (tmp_path / "l.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert matplotlib.get_backend() == backend


def test_a_failing_plot_never_costs_the_model(trained, monkeypatch, capsys):
    import chainrule.cli.plot

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.chdir(trained)
    monkeypatch.setattr(chainrule.cli.plot, "save_loss_plot", broken)
    args = ["train", "binary.csv", "--target", "admit", "--out", "k.npz", "--epochs", "2", "--quiet"]
    code = main([*args, "--plot", "loss.png", "--history", "h.csv"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == "chainrule: error: the model is saved in k.npz, but --plot loss.png: disk full"
    assert cr.load(trained / "k.npz").metadata["training"]["epochs_run"] == 2
    assert (trained / "h.csv").is_file() and not (trained / "loss.png").exists()
