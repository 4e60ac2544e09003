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
