"""Compile by name, several outputs, and errors that say which input, output or shape is off."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import base
from trainer.data.sources import InMemorySource, LabelForEachOutput
from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.run.model import build_compiled_model, check_inputs


def _two_input_source(label_outputs=()):
    rng = np.random.default_rng(0)
    split = (
        {
            "wide": rng.normal(size=(32, 5)).astype(np.float32),
            "deep": rng.normal(size=(32, 6)).astype(np.float32),
        },
        rng.normal(size=(32, 1)).astype(np.float32),
    )
    source = InMemorySource({"train": split, "validation": split, "test": split}, None)
    return LabelForEachOutput(source, label_outputs) if label_outputs else source


def _wide_deep_config(auxiliary_output=True):
    config = base.get_config(model="wide_deep")
    config.model.args.auxiliary_output = auxiliary_output
    config.train.loss, config.train.metrics = "mse", ("mae",)
    return config


def _build(config, source):
    return build_compiled_model(config, tf.distribute.get_strategy(), source)


def test_two_outputs_get_the_loss_metrics_and_weights_per_output():
    config = _wide_deep_config()
    config.train.loss_weights = ml_collections.ConfigDict({"aux": 0.2})
    model = _build(config, _two_input_source(("main", "aux")))
    x, y = _two_input_source(("main", "aux")).sample_batch(batch_size=8)
    results = model.test_on_batch(x, y, return_dict=True)
    assert {"main_loss", "aux_loss", "main_mae", "aux_mae"} <= set(results)
    assert results["loss"] == pytest.approx(results["main_loss"] + 0.2 * results["aux_loss"])


def test_two_outputs_without_label_outputs_say_how_to_fix_it():
    with pytest.raises(HarnessError, match=r"data.label_outputs=\('aux', 'main'\)"):
        _build(_wide_deep_config(), _two_input_source())


def test_loss_weights_must_name_outputs_of_a_multi_output_model():
    config = _wide_deep_config()
    config.train.loss_weights = ml_collections.ConfigDict({"auxiliary": 0.2})
    with pytest.raises(HarnessError, match=r"output\(s\) \['auxiliary'\].*\['aux', 'main'\]"):
        _build(config, _two_input_source(("main", "aux")))
    config = _wide_deep_config(auxiliary_output=False)
    config.train.loss_weights = ml_collections.ConfigDict({"main": 1.0})
    with pytest.raises(HarnessError, match="has one. Remove it"):
        _build(config, _two_input_source())


def test_an_input_shape_mismatch_names_the_input_and_both_shapes():
    inputs = keras.Input((10,), name="features")
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(HarnessError, match=r"input 'features' expects shape \(10,\).* \(64,\)"):
        check_inputs(model, np.zeros((2, 64), np.float32), name="custom")
    with pytest.raises(HarnessError, match=r"takes inputs one input of shape \(10,\) but the data"):
        check_inputs(model, {"left": np.zeros((2, 10))}, name="custom")


def test_a_model_on_data_it_cannot_take_says_what_it_needs():
    config = base.get_config(model="siamese")
    with pytest.raises(HarnessError, match=r"inputs named 'left' and 'right'.*gives \(64,\)"):
        _build(config, _digits())
    config = _wide_deep_config()
    with pytest.raises(HarnessError, match=r"takes one input but the data gives named inputs"):
        base.use_model(config, "mlp")
        _build(config, _two_input_source())


def _digits():
    from trainer.data.sources import DigitsSource

    return DigitsSource(validation_examples=180, test_examples=360, split_seed=0)
