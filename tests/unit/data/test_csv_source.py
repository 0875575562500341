"""The CSV source on the real California housing file and on small files with mistakes in them."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tests.support.helpers import HOUSING_CSV
from trainer.data.csv_source import CsvSource
from trainer.errors import HarnessError

needs_housing = pytest.mark.skipif(
    not os.path.isfile(HOUSING_CSV), reason="the housing table is not here: set TRAINER_HOUSING_CSV"
)


def _source(path, **overrides):
    fields = dict(
        path=str(path),
        label="y",
        label_scale=1.0,
        features=(),
        categorical=(),
        inputs={},
        missing="impute_median",
        recipe="",
        validation_fraction=0.25,
        test_fraction=0.25,
        split_seed=0,
    )
    fields.update(overrides)
    return CsvSource(**fields)


def _split(source, split):
    return source._splits[split]


@needs_housing
def test_housing_loads_as_the_8_derived_features_with_missing_values_imputed():
    source = _source(
        HOUSING_CSV, label="median_house_value", label_scale=1e-5, recipe="california_housing_8"
    )
    assert source.feature_names == [
        "MedInc",
        "HouseAge",
        "AveRooms",
        "AveBedrms",
        "Population",
        "AveOccup",
        "Latitude",
        "Longitude",
    ]
    sizes = {s: len(_split(source, s)[0]) for s in ("train", "validation", "test")}
    assert sizes == {"train": 11610, "validation": 3870, "test": 5160}  # 20,640 rows in all.
    assert source.rows_with_missing == 207
    x, y = _split(source, "train")
    assert x.shape == (11610, 8) and x.dtype == np.float32 and not np.isnan(x).any()
    assert y.shape == (11610, 1) and 0.1 < y.mean() < 5.0  # 100,000s of dollars.
    first = tf.data.Dataset.from_tensor_slices(_split(source, "test")).take(1)
    assert next(iter(first))[0].shape == (8,)


@needs_housing
def test_housing_can_keep_the_categorical_column_as_strings():
    source = _source(
        HOUSING_CSV, label="median_house_value", categorical=("ocean_proximity",), missing="flag"
    )
    x, _ = _split(source, "train")
    assert set(x) == {"numeric", "ocean_proximity"}
    assert set(x["ocean_proximity"]) <= {"<1H OCEAN", "INLAND", "NEAR OCEAN", "NEAR BAY", "ISLAND"}
    assert source.feature_names[-1] == "total_bedrooms_missing"
    assert x["numeric"][:, -1].sum() > 0  # Some train rows are flagged.


def test_imputation_uses_the_train_split_only(tmp_path):
    path = tmp_path / "small.csv"
    rows = ["a,y"] + [f"{i * i},{i}" for i in range(1, 40)] + [",0"]  # Row y=0 misses `a`.
    path.write_text("\n".join(rows) + "\n")
    source = _source(path)
    filled = {
        float(y[0]): float(x[0])
        for s in ("train", "validation", "test")
        for x, y in zip(*_split(source, s), strict=True)
    }
    train_a = [float(x[0]) for x, y in zip(*_split(source, "train"), strict=True) if y[0] != 0]
    assert filled[0.0] == pytest.approx(np.median(train_a))
    assert np.median(train_a) != pytest.approx(np.median([i * i for i in range(1, 40)]))
    dropped = _source(path, missing="drop")
    assert sum(len(_split(dropped, s)[0]) for s in ("train", "validation", "test")) == 39


@pytest.mark.parametrize(
    "text, overrides, fragment",
    [
        ("a,y\n1,2\n", {"label": "price"}, "has no column(s) ['price']"),
        ("a,y\n1,2\nx,3\n", {}, "column 'a' must be numeric but line 3 has 'x'"),
        ("a,y\n1,2\n3\n", {}, "line 3 has 1 fields; the header has 2"),
        ("a,y\n", {}, "no header or no rows"),
        ("a,y\n1,2\n", {"missing": "ignore"}, "config.data.args.missing='ignore'"),
        ("a,y\n1,2\n", {"recipe": "boston"}, "config.data.args.recipe='boston'"),
    ],
)
def test_bad_csv_input_is_named(tmp_path, text, overrides, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(HarnessError) as error:
        _source(path, **overrides)
    assert fragment in str(error.value)


def test_a_missing_file_and_an_empty_path_say_what_to_set(tmp_path):
    with pytest.raises(HarnessError, match="Cannot read CSV file"):
        _source(tmp_path / "nope.csv")
    with pytest.raises(HarnessError, match="config.data.args.path is empty"):
        _source("")


def test_named_inputs_split_the_features_and_unknown_names_are_listed(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{i},{2 * i},{3 * i},{i % 2}\n" for i in range(20)))
    source = _source(path, inputs={"wide": ("a", "b"), "deep": ("b", "c")})
    x, _ = _split(source, "train")
    assert set(x) == {"wide", "deep"} and x["wide"].shape[1] == 2
    np.testing.assert_array_equal(x["wide"][:, 1], x["deep"][:, 0])  # Both hold column b.
    with pytest.raises(
        HarnessError, match=r"inputs.deep names feature\(s\) \['d'\].*\['a', 'b', 'c'\]"
    ):
        _source(path, inputs={"deep": ("c", "d")})


def _breast_cancer_csv(path, *, labels: str = "names") -> str:
    """scikit-learn's breast-cancer table (569 rows, 30 numeric columns): the label column
    `diagnosis` as text (benign/malignant) or as 0/1 (`target`)."""
    import csv

    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    label = "diagnosis" if labels == "names" else "target"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([name.replace(" ", "_") for name in data.feature_names] + [label])
        for row, target in zip(data.data, data.target, strict=True):
            value = data.target_names[target] if labels == "names" else int(target)
            writer.writerow([*row, value])
    return str(path)


def test_text_labels_are_classes_in_sorted_order_kept_as_names(tmp_path):
    source = _source(_breast_cancer_csv(tmp_path / "bc.csv"), label="diagnosis")
    assert source.class_names == ("benign", "malignant") and source.num_classes == 2
    sizes = [len(_split(source, split)[1]) for split in ("train", "validation", "test")]
    assert sum(sizes) == 569
    x, y = _split(source, "train")
    assert y.dtype == np.int32 and y.shape == (sizes[0],) and set(np.unique(y)) == {0, 1}
    assert x.shape == (sizes[0], 30)


def test_integer_labels_are_classes_under_a_classification_loss_and_targets_under_mse(tmp_path):
    path = _breast_cancer_csv(tmp_path / "bc01.csv", labels="integers")
    classes = _source(path, label="target", loss="sparse_categorical_crossentropy")
    assert classes.num_classes == 2 and classes.class_names == ("0", "1")
    target = _source(path, label="target", loss="mse")
    assert target.num_classes is None and _split(target, "train")[1].shape[1:] == (1,)


def test_numeric_classes_sort_as_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,y\n" + "".join(f"{i},{[2, 10, 1][i % 3]}\n" for i in range(30)))
    source = _source(path, task="classification")
    assert source.class_names == ("1", "2", "10")


def test_label_mistakes_are_one_line_each(tmp_path):
    from tests.support.helpers import raises_one_line

    path = tmp_path / "t.csv"
    rows = [f"{i},{'cat' if i % 2 else 'dog'}" for i in range(40)] + ["99,bird"]
    path.write_text("a,y\n" + "\n".join(rows) + "\n")
    # "bird" is in one row only: a split seed that puts it outside train.
    seed = next(s for s in range(50) if 40 not in _split_rows(41, s)[0])
    raises_one_line(lambda: _source(path, split_seed=seed), "class(es) ['bird']", "train split")
    raises_one_line(lambda: _source(path, task="regression"), "line 2 has 'dog'", "task=regression")
    raises_one_line(lambda: _source(path, label_scale=0.5), "label_scale=0.5", "holds classes")
    raises_one_line(lambda: _source(path, task="guess"), "task='guess'")
    one_class = tmp_path / "one.csv"
    one_class.write_text("a,y\n" + "".join(f"{i},same\n" for i in range(20)))
    raises_one_line(lambda: _source(one_class), "1 class(es) ['same']", "at least 2")


def _split_rows(count, seed):
    from trainer.data.csv_source import _split as split_rows

    return split_rows(count, 0.25, 0.25, seed)


def test_one_stray_text_value_in_a_numeric_target_is_named_by_its_line(tmp_path):
    from tests.support.helpers import raises_one_line

    path = tmp_path / "t.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i * 0.37:.3f}\n" for i in range(40)) + "41,NA\n")
    raises_one_line(lambda: _source(path, loss="mse"), "line 42 has 'NA'", "loss='mse'")
    raises_one_line(lambda: _source(path, task="regression"), "line 42 has 'NA'", "task=regression")
