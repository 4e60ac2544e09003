"""`chainrule.io.preprocessing`: Scaler against scikit-learn's scalers, TablePreprocessor's
encodings, its JSON round trip, and task inference."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import InputError
from chainrule.io.preprocessing import Scaler, TablePreprocessor, infer_task

pd = pytest.importorskip("pandas")
preprocessing = pytest.importorskip("sklearn.preprocessing")

SKLEARN = {
    "standard": lambda: preprocessing.StandardScaler(),
    "minmax": lambda: preprocessing.MinMaxScaler(),
    "maxabs": lambda: preprocessing.MaxAbsScaler(),
}


def training_values(rng):
    values = rng.normal(3.0, 2.0, size=(40, 4)) * [1.0, 10.0, 0.1, 1.0]
    values[:, 3] = 7.5  # a constant column: left unscaled, as scikit-learn does
    return values


# -------------------------------------------------------------------------------- Scaler
@pytest.mark.parametrize("method", list(SKLEARN))
def test_scaler_matches_scikit_learn_on_training_and_new_data(method, rng):
    train, new = training_values(rng), rng.normal(size=(10, 4)) * 5
    ours = Scaler.fit(train, method)
    theirs = SKLEARN[method]().fit(train)
    np.testing.assert_allclose(ours.transform(train), theirs.transform(train), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.transform(new), theirs.transform(new), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", [*SKLEARN, "none"])
def test_scaler_inverse_undoes_transform(method, rng):
    train = training_values(rng)
    scaler = Scaler.fit(train, method)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(train)), train, rtol=1e-13)


def test_scaler_none_is_the_identity(rng):
    values = rng.normal(size=(5, 3))
    scaler = Scaler.fit(values, "none")
    np.testing.assert_array_equal(scaler.transform(values), values)
    assert scaler.offset == [0.0, 0.0, 0.0] and scaler.scale == [1.0, 1.0, 1.0]


def test_scaler_statistics_are_json_ready_and_round_trip(rng):
    scaler = Scaler.fit(training_values(rng), "standard")
    data = json.loads(json.dumps(vars(scaler)))
    again = Scaler(**data)
    assert again == scaler
    values = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(again.transform(values), scaler.transform(values))


def test_scaler_rejects_an_unknown_method(rng):
    with pytest.raises(ValueError, match="standard, minmax, maxabs, none"):
        Scaler.fit(rng.normal(size=(3, 2)), "robust")


def test_scaler_of_no_columns(rng):
    scaler = Scaler.fit(np.empty((4, 0)), "standard")
    assert scaler.transform(np.empty((2, 0))).shape == (2, 0)


# --------------------------------------------------------------------- TablePreprocessor
@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "gre": [380.0, 660.0, 800.0, 640.0, 520.0, 760.0],
            "gpa": [3.61, 3.67, 4.00, 3.19, 2.93, 3.00],
            "rank": [3, 3, 1, 4, 4, 2],
            "city": ["b", "a", "b", "c", "a", "a"],
            "admit": [0, 1, 1, 1, 0, 1],
        }
    )


def test_fit_finds_numeric_and_categorical_columns(table):
    prep = TablePreprocessor.fit(table, "admit", categorical=["rank"])
    assert prep.numeric == ["gre", "gpa"]
    assert prep.categorical == {"rank": ["1", "2", "3", "4"], "city": ["a", "b", "c"]}
    assert prep.feature_names == [
        "gre",
        "gpa",
        "rank=1",
        "rank=2",
        "rank=3",
        "rank=4",
        "city=a",
        "city=b",
        "city=c",
    ]
    assert prep.task == "classification" and prep.classes == ["0", "1"] and prep.n_outputs == 1


def test_transform_scales_numbers_and_one_hot_encodes_categories(table):
    prep = TablePreprocessor.fit(table, "admit", categorical=["rank"], scale="minmax")
    X = prep.transform(table)
    expected_numeric = preprocessing.MinMaxScaler().fit_transform(table[["gre", "gpa"]])
    np.testing.assert_allclose(X[:, :2], expected_numeric, rtol=1e-12, atol=1e-15)
    expected_rank = pd.get_dummies(table["rank"].astype(str)).to_numpy(dtype=float)
    expected_city = pd.get_dummies(table["city"]).to_numpy(dtype=float)
    np.testing.assert_array_equal(X[:, 2:6], expected_rank)
    np.testing.assert_array_equal(X[:, 6:], expected_city)


def test_transform_of_new_rows_uses_the_training_statistics(table):
    prep = TablePreprocessor.fit(table, "admit", features=["gre", "gpa"])
    new = pd.DataFrame({"gpa": [3.5], "gre": [700.0]})  # another column order, no target
    theirs = preprocessing.StandardScaler().fit(table[["gre", "gpa"]].to_numpy())
    np.testing.assert_allclose(prep.transform(new), theirs.transform(np.array([[700.0, 3.5]])), rtol=1e-12)


def test_an_unseen_category_is_an_all_zero_one_hot_row_with_a_warning_or_an_error(table):
    prep = TablePreprocessor.fit(table, "admit")
    new = table.drop(columns="admit").iloc[:3].copy()
    known = prep.transform(new)
    new.loc[new.index[1], "city"] = "z"
    with pytest.warns(
        cr.DataWarning, match=r"column 'city': 1 row \(row 2\) has a category not seen in training"
    ):
        X = prep.transform(new)
    city = [i for i, name in enumerate(prep.feature_names) if name.startswith("city=")]
    assert X[1, city].tolist() == [0.0] * len(city)  # all zero, the other columns as before
    others = [i for i in range(X.shape[1]) if i not in city]
    np.testing.assert_array_equal(X[:, others], known[:, others])
    np.testing.assert_array_equal(X[[0, 2]], known[[0, 2]])
    prep.unknown = "error"
    with pytest.raises(
        InputError,
        match=r"column 'city': 1 row \(row 2\) has a category not seen in training \('z'; 3 known\)",
    ):
        prep.transform(new)


def test_missing_values_and_columns_are_named(table):
    prep = TablePreprocessor.fit(table, "admit")
    gap = table.copy()
    gap.loc[2, "gpa"] = np.nan
    with pytest.raises(InputError, match=r"1 cell is missing: 'gpa' 1 \(row 3\)"):
        prep.transform(gap)
    gap = table.copy().astype({"city": object})
    gap.loc[0, "city"] = None
    with pytest.raises(InputError, match=r"1 cell is missing: 'city' 1 \(row 1\)"):
        prep.transform(gap)
    text = table.copy().astype({"gre": object})
    text.loc[4, "gre"] = "lots"
    with pytest.raises(InputError, match=r"column 'gre': 1 cell is not a finite number \(row 5 'lots'\)"):
        prep.transform(text)
    with pytest.raises(InputError, match="'city' is missing"):
        prep.transform(table.drop(columns="city"))


def test_fit_errors_name_the_columns(table):
    with pytest.raises(InputError, match="no target column 'admitted'"):
        TablePreprocessor.fit(table, "admitted")
    with pytest.raises(InputError, match=r"\['height'\] are not in the data"):
        TablePreprocessor.fit(table, "admit", features=["gre", "height"])
    with pytest.raises(InputError, match="cannot also be a feature"):
        TablePreprocessor.fit(table, "admit", features=["gre", "admit"])
    with pytest.raises(InputError, match="single class"):
        TablePreprocessor.fit(table.assign(admit=1), "admit")


# ------------------------------------------------------------------------ target, task
def test_binary_target_is_a_0_1_column_and_decodes_to_labels(table):
    prep = TablePreprocessor.fit(table.assign(admit=np.where(table["admit"] == 1, "yes", "no")), "admit")
    assert prep.classes == ["no", "yes"]
    y = prep.encode_target(["yes", "no", "yes"])
    np.testing.assert_array_equal(y, [[1.0], [0.0], [1.0]])
    outputs = np.array([[0.9], [0.2], [0.5]])
    assert list(prep.decode(outputs)) == ["yes", "no", "no"]
    np.testing.assert_allclose(prep.probabilities(outputs), [[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]])


def test_multiclass_target_is_one_hot_in_class_order(table):
    prep = TablePreprocessor.fit(table, "rank", task="classification")
    assert prep.task == "classification" and prep.classes == ["1", "2", "3", "4"] and prep.n_outputs == 4
    np.testing.assert_array_equal(prep.encode_target([4, 1, 3]), np.eye(4)[[3, 0, 2]])
    outputs = np.array([[0.1, 0.2, 0.6, 0.1], [0.7, 0.1, 0.1, 0.1]])
    assert list(prep.decode(outputs)) == ["3", "1"]
    np.testing.assert_array_equal(prep.probabilities(outputs), outputs)
    with pytest.raises(InputError, match="class '7' was not seen"):
        prep.encode_target([1, 7])


def test_classes_sort_naturally():
    frame = pd.DataFrame({"x": range(6), "y": ["10", "2", "1", "2", "10", "b"]})
    assert TablePreprocessor.fit(frame, "y").classes == ["1", "2", "10", "b"]


def test_regression_target_is_scaled_and_decoded_back(table):
    prep = TablePreprocessor.fit(table, "gpa", task="regression")
    assert prep.n_outputs == 1
    y = prep.encode_target(table["gpa"])
    expected = preprocessing.StandardScaler().fit_transform(table[["gpa"]])
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    np.testing.assert_allclose(prep.decode(y), table["gpa"], rtol=1e-13)


def test_regression_needs_a_numeric_target(table):
    with pytest.raises(InputError, match="numeric target"):
        TablePreprocessor.fit(table, "city", task="regression")


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["a", "b", "a"], "classification"),
        ([True, False, True], "classification"),
        ([0, 1, 1, 0], "classification"),
        ([1.0, 2.0, 3.0, 2.0] * 5, "classification"),  # integral floats, few values for the rows
        (list(range(10)) * 5, "classification"),
        (list(range(10)), "regression"),  # as many distinct values as rows: not classes
        (list(range(11)) * 10, "regression"),  # more than 10 distinct integers
        ([0.5, 1.0, 1.5], "regression"),
    ],
)
def test_infer_task(values, task):
    assert infer_task(pd.Series(values)) == task


def test_fit_infers_the_task_unless_told(table):
    assert TablePreprocessor.fit(table, "gpa").task == "regression"
    assert TablePreprocessor.fit(table, "admit").task == "classification"
    assert TablePreprocessor.fit(pd.concat([table] * 4), "rank").task == "classification"
    assert TablePreprocessor.fit(table, "rank").task == "regression"  # 4 values in 6 rows
    assert TablePreprocessor.fit(table, "rank", task="regression").task == "regression"
    with pytest.raises(ValueError, match="task"):
        TablePreprocessor.fit(table, "rank", task="ranking")


# ----------------------------------------------------------------------------- storage
@pytest.mark.parametrize(
    ("target", "task"),
    [("admit", None), ("rank", None), ("gpa", "regression")],
    ids=["binary", "multi", "reg"],
)
def test_to_dict_from_dict_round_trip_through_json(table, target, task):
    prep = TablePreprocessor.fit(table, target, task=task, scale="maxabs")
    data = json.loads(json.dumps(prep.to_dict()))
    again = TablePreprocessor.from_dict(data)
    assert again == prep
    np.testing.assert_array_equal(again.transform(table), prep.transform(table))
    np.testing.assert_array_equal(again.encode_target(table[target]), prep.encode_target(table[target]))
