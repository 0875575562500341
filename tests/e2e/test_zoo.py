"""Every zoo config trains a few steps under MirroredStrategy on 2 logical CPUs, and its exports
reload with the trained model's predictions (tfds data mocked; a small housing-like CSV)."""

import csv

import numpy as np
import pytest
import tensorflow as tf

from tests.support.helpers import assert_ok, read_results, run_module

# Trains under a mocked tensorflow-datasets (nothing downloads), then runs trainer.main.
_MOCKED_TFDS_MAIN = """
import tensorflow_datasets as tfds
from trainer import main
with tfds.testing.mock_data(num_examples=48):
    main.run()
"""

_FEW_STEPS = (
    "--strategy=mirrored",
    "--num_cpu_devices=2",
    "--progress=quiet",
    "--config.train.steps=4",
    "--config.train.steps_per_loop=2",
    "--config.train.global_batch_size=16",
    "--config.eval.global_batch_size=16",
    "--config.eval.steps=2",
)

TFDS_CONFIGS = {
    "fashion_mnist_mlp": (),
    "fashion_mnist_deep": (),
    "cifar10_vgg": ("--config.model.args.dense_units=32",),
    "imdb_lstm": (
        "--config.model.args.sequence_length=16",
        "--config.model.args.lstm_units=8",
    ),
}

CSV_CONFIGS = (
    "california_mlp",
    "california_wide_deep",
    "california_wide_deep_subclassed",
    "california_wide_deep_two_inputs",
    "california_wide_deep_two_outputs",
    "california_wide_deep_recipe",
)

OTHER_CONFIGS = ("digits_mlp", "digits_siamese")


@pytest.fixture(scope="module")
def housing_csv(tmp_path_factory):
    """400 rows with the census file's columns and a price that depends on them."""
    path = tmp_path_factory.mktemp("data") / "housing.csv"
    rng = np.random.default_rng(0)
    columns = [
        "longitude",
        "latitude",
        "housing_median_age",
        "total_rooms",
        "total_bedrooms",
        "population",
        "households",
        "median_income",
        "median_house_value",
        "ocean_proximity",
    ]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for _ in range(400):
            income = rng.uniform(1, 10)
            households = rng.uniform(100, 1000)
            row = [-120 + rng.normal(), 36 + rng.normal(), rng.integers(1, 52)]
            row += [households * rng.uniform(3, 7), households * rng.uniform(0.8, 1.3)]
            row += [households * rng.uniform(2, 4), households, income]
            row += [income * 40_000 + rng.normal(0, 20_000), "INLAND"]
            writer.writerow(row)
    return str(path)


def _train(config: str, workdir: str, *flags: str, mocked_tfds: bool = False):
    args = (f"--config=configs/{config}.py", f"--workdir={workdir}", *_FEW_STEPS, *flags)
    if mocked_tfds:
        return run_module("tests.support.run_python", _MOCKED_TFDS_MAIN, *args)
    return run_module("trainer.main", *args)


def _assert_trained_and_exports_reload(workdir: str, inputs) -> dict:
    results = read_results(workdir)
    assert results["step"] == 4 and results["replicas"] == 2
    assert all(np.isfinite(v) for v in results["test"].values()), results["test"]
    # The run compared both reloaded exports with the trained model on real examples...
    # (within the run's own bound: a SavedModel may differ by float32 round-off on other CPUs).
    differences = results["export"]["max_abs_diff"]
    assert set(differences) == {"keras", "saved_model"}
    assert all(0 <= d <= results["export"]["allowed_diff"] for d in differences.values())
    # ...and here, in another process, the two exports agree on other inputs.
    from trainer.workdir.export import load_keras_model

    keras_model = load_keras_model(results["export"]["keras"])
    saved_model = tf.saved_model.load(results["export"]["saved_model"])
    inputs = inputs(keras_model)
    from_keras = tf.nest.flatten(keras_model(inputs, training=False))
    from_saved_model = tf.nest.flatten(saved_model.serve(inputs))
    for a, b in zip(from_keras, from_saved_model, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    return results


def _random_inputs(model):
    """A batch of 3 for each of the model's inputs (strings for a text input)."""
    rng = np.random.default_rng(1)

    def one(tensor):
        if tensor.dtype == "string":
            return tf.constant(["a great film", "dull and long", "unknownword"])
        return rng.uniform(0, 255, size=(3, *tensor.shape[1:])).astype(np.float32)

    if isinstance(model.input, dict):
        return {name: one(tensor) for name, tensor in model.input.items()}
    return one(model.input)


def _housing_inputs(model):
    rng = np.random.default_rng(2)
    shape = {"wide": (3, 5), "deep": (3, 6)}
    if getattr(model, "inputs", None) and isinstance(model.input, dict):
        return {name: rng.normal(size=shape[name]).astype(np.float32) for name in model.input}
    return rng.normal(size=(3, 8)).astype(np.float32)


@pytest.mark.parametrize("config", sorted(TFDS_CONFIGS))
def test_tfds_configs_train_and_export(config, tmp_path):
    workdir = str(tmp_path / config)
    assert_ok(_train(config, workdir, *TFDS_CONFIGS[config], mocked_tfds=True))
    _assert_trained_and_exports_reload(workdir, _random_inputs)


def test_housing_configs_train_and_export(housing_csv, tmp_path):
    results = {}
    for config in CSV_CONFIGS:
        workdir = str(tmp_path / config)
        assert_ok(_train(config, workdir, f"--config.data.args.path={housing_csv}"))
        results[config] = _assert_trained_and_exports_reload(workdir, _housing_inputs)
    two_outputs = results["california_wide_deep_two_outputs"]["test"]
    assert {"main_loss", "aux_loss", "main_mae", "aux_mae"} <= set(two_outputs)
    # Compiled with loss weights 1.0 and 0.2 (Keras's total also holds any regularization).
    weighted = two_outputs["main_loss"] + 0.2 * two_outputs["aux_loss"]
    assert two_outputs["loss"] == pytest.approx(weighted, rel=1e-4)
    # The subclass is the functional model written another way: same seed, same numbers.
    functional = results["california_wide_deep"]["test"]
    subclassed = results["california_wide_deep_subclassed"]["test"]
    assert subclassed == pytest.approx(functional, rel=1e-5)


@pytest.mark.parametrize("config", OTHER_CONFIGS)
def test_digits_configs_train_and_export(config, tmp_path):
    workdir = str(tmp_path / config)
    assert_ok(_train(config, workdir))
    _assert_trained_and_exports_reload(workdir, _random_inputs)
