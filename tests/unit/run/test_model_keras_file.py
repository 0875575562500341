"""The .keras warning comes right after the model is built, before any training: one line that
names the user's class and the decorator, and nothing when the .keras file is not exported."""

import logging

import pytest
import tensorflow as tf

from configs import base
from trainer.data.sources import DigitsSource
from trainer.run.model import build_compiled_model

MODELS = "tests.support.subclass_models"


def _warnings(caplog, name: str, **export) -> list[str]:
    config = base.get_config(model=f"{MODELS}:{name}", data="digits")
    config.export.update(export)
    source = DigitsSource(validation_examples=180, test_examples=360, split_seed=0)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build_compiled_model(config, tf.distribute.get_strategy(), source)
    return [
        r.getMessage() for r in caplog.records if "register_keras_serializable" in r.getMessage()
    ]


@pytest.mark.parametrize(
    "name, starts",
    [
        ("NoConfig", f"Model class NoConfig ({MODELS}) cannot be saved as .keras:"),
        ("ConfigOnly", f"Model class ConfigOnly ({MODELS}) is not registered with Keras:"),
    ],
    ids=["NoConfig", "ConfigOnly"],
)
def test_a_users_class_is_named_once_when_the_model_is_built(caplog, name, starts):
    (line,) = _warnings(caplog, name)
    assert line.startswith(starts) and "\n" not in line


def test_nothing_is_said_of_a_registered_class_or_when_no_keras_file_is_exported(caplog):
    assert _warnings(caplog, "Registered") == []
    assert _warnings(caplog, "NoConfig", keras=False) == []
