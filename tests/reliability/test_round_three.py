"""Issue 21 (hostile input, round three), 4: no silent wrong data. Quoted numbers with a comma in a
comma-separated file are refused naming their cells (the upload cut short is in
tests/playground/test_server.py)."""

from __future__ import annotations

import pytest

import chainrule as cr
from chainrule.io.tables import read_table
from tests.conftest import run

pytest.importorskip("pandas")


@pytest.mark.parametrize(
    ("cells", "shown"),
    [
        (['"1,5"', '"2,25"', "4", '"3,5"'], "line 2 '1,5', line 3 '2,25', line 5 '3,5'"),
        (['"1,234"', '"2,500.5"', '"13,500"', "7"], "line 2 '1,234', line 3 '2,500.5', line 4 '13,500'"),
    ],
    ids=["decimal-comma", "thousands"],
)
def test_quoted_comma_numbers_are_refused_naming_each_cell(tmp_path, cells, shown):
    lines = ["size,weight,label", *(f"{cell},{i},{'ab'[i % 2]}" for i, cell in enumerate(cells))]
    path = tmp_path / "commas.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(cr.InputError, match="column 'size' holds numbers written with a comma") as caught:
        read_table(str(path))
    assert shown in str(caught.value) and "decimal point" in str(caught.value)
    result = run("train", "commas.csv", "--target", "label", "--out", "m.npz", cwd=tmp_path, ok=False)
    assert result.returncode == 1 and shown in result.stderr and not (tmp_path / "m.npz").exists()


def test_text_with_commas_and_semicolon_decimal_commas_still_read(tmp_path):
    (tmp_path / "text.csv").write_text('colour,x,y\n"blue, dark",1,a\nred,2,b\n"1,5 kg",3,a\n')
    assert read_table(str(tmp_path / "text.csv"))["colour"].tolist() == ["blue, dark", "red", "1,5 kg"]
    (tmp_path / "semi.csv").write_text("x;y\n1,5;a\n2,25;b\n")
    frame = read_table(str(tmp_path / "semi.csv"))
    assert frame["x"].tolist() == [1.5, 2.25] and "decimal comma" in frame.attrs["format"]


# ------------------------------------------------------------------- 7: output files
@pytest.fixture
def injected(tmp_path):
    pd = pytest.importorskip("pandas")
    notes = ['=HYPERLINK("http://evil.example","x")', "+ask", "@SUM(A1)", "-dash", "\tx", "plain"]
    frame = pd.DataFrame(
        {
            "a": [i % 7 for i in range(40)],
            "note": [notes[i % 6] for i in range(40)],
            "predicted_label": list(range(40)),
            "label": ["=cmd" if i % 2 else "+ok" for i in range(40)],
        }
    )
    frame.to_csv(tmp_path / "injected.csv", index=False)
    run(
        "train",
        "injected.csv",
        "--target",
        "label",
        "--epochs",
        "2",
        "--out",
        "m.npz",
        "--quiet",
        cwd=tmp_path,
    )
    return tmp_path


def test_predictions_csv_escapes_formula_cells_as_owasp_recommends(injected):
    pd = pytest.importorskip("pandas")
    run("predict", "m.npz", "injected.csv", "--out", "p.csv", "--proba", cwd=injected)
    written = pd.read_csv(injected / "p.csv", keep_default_na=False)
    texts = [str(v) for column in written.columns for v in written[column] if isinstance(v, str)]
    assert texts and not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in texts)
    assert '\'=HYPERLINK("http://evil.example","x")' in written["note"].tolist()
    assert set(written["predicted_label_2"]) <= {"'=cmd", "'+ok"}  # labels escaped too
    assert written["a"].dtype.kind == "i"  # numbers stay numbers


def test_a_column_named_like_the_prediction_is_kept_and_the_prediction_renamed(injected):
    pd = pytest.importorskip("pandas")
    result = run("predict", "m.npz", "injected.csv", "--out", "p.csv", cwd=injected)
    assert "the predictions are in 'predicted_label_2'" in result.stderr
    written = pd.read_csv(injected / "p.csv")
    assert written["predicted_label"].tolist() == list(range(40))  # the user's column, untouched


def test_a_column_named_twice_in_features_is_refused(injected):
    result = run(
        "train",
        "injected.csv",
        "--target",
        "label",
        "--features",
        "a,a",
        "--out",
        "x.npz",
        cwd=injected,
        ok=False,
    )
    assert result.returncode == 1 and "--features names 'a' more than once" in result.stderr


# ------------------------------------------------------------------- 8: messages (the first few)
def test_one_hot_of_nothing_or_of_text_says_so():
    with pytest.raises(cr.InputError, match="at least one label"):
        cr.one_hot([])
    with pytest.raises(cr.InputError, match=r"integer class labels .* such as 'cat': number them first"):
        cr.one_hot(["cat", "dog"])


def test_text_is_refused_as_x_and_as_sample_weight():
    import numpy as np

    net = cr.Network([2, 1], output_activation="identity", seed=0)
    with pytest.raises(cr.InputError, match="X must be numeric"):
        net.predict(np.array([["1", "2"]], dtype=object))  # numeric strings were read as numbers
    with pytest.raises(cr.InputError, match="sample_weight must be numbers, got text"):
        net.fit(np.zeros((3, 2)), np.zeros((3, 1)), loss="mse", epochs=1, sample_weight=["1", "2", "3"])


def test_metadata_with_tuple_keys_or_a_cycle_is_refused_by_name(tmp_path):
    net = cr.Network([2, 1], seed=0)
    with pytest.raises(TypeError, match=r"metadata key \(1, 2\) is not a string"):
        net.save(tmp_path / "m.npz", metadata={(1, 2): 3})  # it became the key "(1, 2)"
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(TypeError, match="circular reference"):  # a RecursionError before
        net.save(tmp_path / "m.npz", metadata={"run": loop})
    assert not (tmp_path / "m.npz").exists()


def test_a_checkpoint_template_is_checked_at_once_and_leaves_no_metadata(tmp_path):
    import numpy as np

    with pytest.raises(ValueError, match=r"may name only the field \{epoch\}"):
        cr.ModelCheckpoint(str(tmp_path / "m_{step}.npz"))  # it failed only at the first save
    net = cr.Network([2, 3, 1], seed=0)
    rng = np.random.default_rng(0)
    keep = cr.ModelCheckpoint(str(tmp_path / "m_{epoch}.npz"))
    net.fit(rng.normal(size=(20, 2)), rng.normal(size=(20, 1)), loss="mse", epochs=2, callbacks=[keep])
    assert "epoch" not in net.metadata and "logs" not in net.metadata  # they leaked into the network
    assert cr.load(tmp_path / "m_1.npz").metadata["epoch"] == 1  # the files still record them


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_csv_is_named_for_what_it_is(tmp_path, encoding):
    from chainrule.io.tables import sniff

    path = tmp_path / "wide.csv"
    path.write_bytes("a,b,y\n1,2,x\n3,4,z\n".encode(encoding))
    assert sniff(path).description.startswith("UTF-16 text")  # it was "a binary file, not text"
    result = run("train", "wide.csv", "--target", "y", "--out", "m.npz", cwd=tmp_path, ok=False)
    assert "UTF-16" in result.stderr and "CSV UTF-8" in result.stderr and "binary" not in result.stderr
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 4)
    assert "binary" in sniff(tmp_path / "blob.bin").description
