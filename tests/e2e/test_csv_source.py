"""The CSV source on the real California housing file and on small files with mistakes in them."""

import hashlib
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.support.helpers import HOUSING_CSV
from trainer.data.csv_source import CsvSource

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
def test_housing_trains_end_to_end_under_two_replicas(tmp_path):
    from tests.support.helpers import assert_ok, read_results, train

    workdir = str(tmp_path / "housing")
    assert_ok(
        train(
            "--config=configs/california_mlp.py",
            "--strategy=mirrored",
            "--num_cpu_devices=2",
            f"--config.data.args.path={HOUSING_CSV}",
            "--config.train.steps=600",
            f"--workdir={workdir}",
        )
    )
    results = read_results(workdir)
    assert results["replicas"] == 2 and set(results["test"]) == {"loss", "mae"}
    assert results["test"]["loss"] < 0.6  # Predicting the mean scores about 1.3.


@needs_housing
def test_a_housing_config_downloads_its_table_once_and_trains(tmp_path):
    """A housing config as a fresh clone runs it, path empty: the table is downloaded (from a
    loopback server standing in for the public URL), checked by the config's sha256, cached
    under $KERAS_HOME, and trained on."""
    from configs.california_mlp import HOUSING_SHA256
    from tests.support.helpers import assert_ok, read_results, train
    from tests.support.http_files import FileServer

    keras_home = tmp_path / "keras_home"
    env = {"KERAS_HOME": str(keras_home), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    workdir = str(tmp_path / "housing")
    with FileServer({"housing.csv": HOUSING_CSV}) as server:
        assert_ok(
            train(
                "--config=configs/california_wide_deep_two_outputs.py",
                f"--config.data.args.url={server.url('housing.csv')}",
                "--progress=quiet",
                "--config.train.steps=6",
                "--config.train.steps_per_loop=3",
                "--config.eval.steps=2",
                "--config.export.keras=False",
                "--config.export.saved_model=False",
                f"--workdir={workdir}",
                env=env,
            )
        )
        assert server.requests == ["/housing.csv"]
    assert os.listdir(keras_home / "datasets") == ["housing.csv"]
    with open(keras_home / "datasets" / "housing.csv", "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == HOUSING_SHA256
    results = read_results(workdir)
    assert results["step"] == 6 and all(np.isfinite(v) for v in results["test"].values())


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


@pytest.mark.slow
def test_a_table_with_text_labels_trains_under_one_replica_two_replicas_and_two_workers(
    tmp_path,
):
    """The breast-cancer CSV with benign/malignant labels, on the command line as a user runs
    it; the SavedModel serves the class names."""
    from tests.support.helpers import Cluster, assert_ok, read_results, train

    path = _breast_cancer_csv(tmp_path / "bc.csv")
    args = [
        "--config=configs/csv_classifier.py",
        f"--config.data.args.path={path}",
        "--config.data.args.label=diagnosis",
        "--config.train.steps=300",
        "--config.export.keras=False",
    ]
    one, two = str(tmp_path / "one"), str(tmp_path / "two")
    cluster = Cluster([tmp_path / "chief", tmp_path / "worker1"], *args)  # Runs meanwhile.
    assert_ok(train(*args, f"--workdir={one}"))
    assert_ok(train(*args, "--strategy=mirrored", "--num_cpu_devices=2", f"--workdir={two}"))
    assert cluster.wait() == [0, 0], "".join(cluster.lines[0][-20:] + cluster.lines[1][-20:])
    for workdir, replicas in ((one, 1), (two, 2), (str(tmp_path / "chief"), 2)):
        results = read_results(workdir)
        assert results["replicas"] == replicas and results["class_names"] == ["benign", "malignant"]
        assert results["test"]["accuracy"] > 0.9  # The majority class alone scores about 0.63.
    exported = tf.saved_model.load(f"{two}/export/saved_model")  # Alive while it serves.
    served = exported.serve(
        tf.constant(_split(_source(path, label="diagnosis", split_seed=42), "test")[0][:5])
    )
    names = [name.decode() for name in served["classes"].numpy()]
    assert set(names) <= {"benign", "malignant"} and served["probabilities"].shape == (5, 2)
    expected = np.array(["benign", "malignant"])[np.argmax(served["probabilities"], axis=-1)]
    assert names == list(expected)
