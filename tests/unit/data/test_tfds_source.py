"""tensorflow-datasets sources on tfds.testing.mock_data (nothing is downloaded here)."""

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from configs import base
from strategies.factory import StrategyChoice
from trainer.data.tfds_source import TfdsSource
from trainer.errors import HarnessError


def _source(name, **overrides):
    fields = dict(
        name=name,
        data_dir="",
        train_split="train[:90%]",
        validation_split="train[90%:]",
        test_split="test",
        feature_key="image",
        label_key="label",
    )
    fields.update(overrides)
    return TfdsSource(**fields)


@pytest.mark.parametrize(
    "name, feature_key, shape, dtype",
    [
        ("fashion_mnist", "image", (28, 28, 1), tf.float32),
        ("cifar10", "image", (32, 32, 3), tf.float32),
        ("imdb_reviews", "text", (), tf.string),
    ],
)
def test_each_dataset_yields_features_and_integer_labels(name, feature_key, shape, dtype):
    with tfds.testing.mock_data(num_examples=20):
        source = _source(name, feature_key=feature_key)
        for split in ("train", "validation", "test"):
            x, y = next(iter(source.examples(split, tf.distribute.InputContext())))
            assert x.shape == shape and x.dtype == dtype and y.dtype == tf.int32
    assert source.num_classes == (2 if name == "imdb_reviews" else 10)


def test_a_fashion_mnist_run_trains_on_mock_data(tmp_path):
    from trainer.run import run_experiment

    config = base.get_config(data="tfds")
    config.data.args.name = "fashion_mnist"
    config.model.args.hidden_units = (32,)
    config.train.steps, config.train.global_batch_size = 20, 16
    config.eval.every_steps, config.eval.global_batch_size = 0, 16
    config.export.saved_model = False
    choice = StrategyChoice(tf.distribute.get_strategy(), "default", "test")
    with tfds.testing.mock_data(num_examples=64):
        results = run_experiment(
            config,
            strategy_choice=choice,
            workdir=str(tmp_path / "run"),
            config_name="fashion_mnist_mock",
            progress="quiet",
        )
    assert results["step"] == 20 and 0.0 <= results["test"]["accuracy"] <= 1.0


def test_unprepared_data_names_the_prepare_command(tmp_path):
    source = _source("fashion_mnist", data_dir=str(tmp_path))
    with pytest.raises(HarnessError, match="python -m trainer.prepare --config=CONFIG"):
        source.examples("train", tf.distribute.InputContext())


def test_unknown_dataset_and_feature_are_named():
    with pytest.raises(HarnessError, match="'fashion_mnistx' is not a tensorflow-datasets"):
        _source("fashion_mnistx")
    with pytest.raises(HarnessError, match="has no feature 'pixels'"):
        _source("fashion_mnist", feature_key="pixels")
