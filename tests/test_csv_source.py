"""The CSV source on the real California housing file and on small files with mistakes in them."""

import os

import numpy as np
import pytest
import tensorflow as tf

from trainer.data.csv_source import CsvSource
from trainer.errors import HarnessError

HOUSING = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "..",
    "shared",
    "datasets",
    "california_housing",
    "housing.csv",
)
needs_housing = pytest.mark.skipif(
    not os.path.isfile(HOUSING), reason="../shared/datasets/ is not beside this checkout"
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
        HOUSING, label="median_house_value", label_scale=1e-5, recipe="california_housing_8"
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
        HOUSING, label="median_house_value", categorical=("ocean_proximity",), missing="flag"
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


@needs_housing
def test_housing_trains_end_to_end_under_two_replicas(tmp_path):
    from tests.helpers import assert_ok, read_results, train

    workdir = str(tmp_path / "housing")
    assert_ok(
        train(
            "--config=configs/california_mlp.py",
            "--strategy=mirrored",
            "--num_cpu_devices=2",
            f"--config.data.args.path={HOUSING}",
            "--config.train.steps=600",
            f"--workdir={workdir}",
        )
    )
    results = read_results(workdir)
    assert results["replicas"] == 2 and set(results["test"]) == {"loss", "mae"}
    assert results["test"]["loss"] < 0.6  # Predicting the mean scores about 1.3.


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
