"""Breaks loudly if a Keras upgrade changes the private API that `create_all_variables` uses."""

import numpy as np
import pytest
import tensorflow as tf

from trainer.keras_api import create_all_variables, keras


def _model():
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _state(model):
    return sorted(
        v.path
        for v in model.variables
        + model.optimizer.variables
        + [v for m in model.metrics for v in m.variables]
    )


def test_every_variable_exists_before_the_first_step():
    model = _model()
    batch = (np.zeros((2, 4), np.float32), np.zeros((2,), np.int32))
    create_all_variables(model, batch)
    before = _state(model)
    assert any("adam" in path for path in before), before  # Optimizer slots.
    assert any("accuracy" in path for path in before), before  # Compiled metric state.
    model.train_step(tuple(tf.constant(a) for a in batch))
    assert _state(model) == before  # The first step created nothing new.


def test_a_subclassed_model_is_built_too():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2, activation="softmax")

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    create_all_variables(model, (np.ones((2, 5), np.float32), np.zeros((2,), np.int32)))
    assert model.built and model.optimizer.built and len(model.trainable_variables) == 2


def test_an_uncompiled_model_is_refused():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Compile the model"):
        create_all_variables(model, (np.ones((2, 3), np.float32), np.ones((2, 1), np.float32)))
