"""Breaks loudly if a Keras upgrade changes the private API that keras_api.py uses:
`create_all_variables`, `exclude_from_weight_decay` and `moving_averages`."""

import numpy as np
import pytest
import tensorflow as tf

from trainer.modeling.keras_api import (
    create_all_variables,
    exclude_from_weight_decay,
    keras,
    moving_averages,
)


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


def _dense_model(optimizer):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile(optimizer=optimizer, loss="mse")
    create_all_variables(model, (np.ones((2, 3), np.float32), np.zeros((2, 2), np.float32)))
    return model


@pytest.mark.parametrize("traced", [False, True])
def test_an_excluded_variable_does_not_decay_while_the_others_do(traced):
    """Excluded after the optimizer is built (as the harness does), then stepped eagerly or in a
    tf.function: with zero gradients, SGD's decoupled decay alone moves the weights."""
    model = _dense_model(keras.optimizers.SGD(learning_rate=0.5, weight_decay=0.2))
    kernel, bias = model.trainable_variables
    kernel.assign(np.ones((3, 2), np.float32))
    bias.assign(np.ones((2,), np.float32))
    exclude_from_weight_decay(model.optimizer, [bias])

    def step():
        model.optimizer.apply([tf.zeros_like(kernel), tf.zeros_like(bias)], [kernel, bias])

    (tf.function(step) if traced else step)()
    np.testing.assert_allclose(kernel.numpy(), 1 - 0.5 * 0.2, rtol=1e-6)  # Decayed.
    np.testing.assert_allclose(bias.numpy(), 1.0, rtol=0, atol=0)  # Excluded: untouched.


def test_moving_averages_are_the_optimizers_averages_in_variable_order():
    model = _dense_model(keras.optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.5))
    averages = moving_averages(model)
    assert [tuple(a.shape) for a in averages] == [(3, 2), (2,)]
    first = [v.numpy().copy() for v in model.trainable_variables]
    model.optimizer.apply([tf.ones((3, 2)), tf.ones((2,))], model.trainable_variables)
    for average, weight in zip(averages, model.trainable_variables, strict=True):
        np.testing.assert_allclose(average.numpy(), weight.numpy(), rtol=1e-6)  # First step.
    model.optimizer.apply([tf.ones((3, 2)), tf.ones((2,))], model.trainable_variables)
    for average, weight, start in zip(averages, model.trainable_variables, first, strict=True):
        # Step 2: 0.5 x (start - 0.1) + 0.5 x (start - 0.2).
        np.testing.assert_allclose(average.numpy(), start - 0.15, rtol=1e-5)
        np.testing.assert_allclose(weight.numpy(), start - 0.2, rtol=1e-5)


def test_moving_averages_under_a_loss_scale_and_none_without_ema():
    assert moving_averages(_dense_model(keras.optimizers.SGD())) is None
    scaled = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(use_ema=True))
    assert len(moving_averages(_dense_model(scaled))) == 2
