"""AveragedWeights: evaluation sees the EMA weights, and the raw weights come back exactly, on
one device and on every replica of 2 mirrored ones."""

import numpy as np
import pytest
import tensorflow as tf

from configs import digits_mlp
from trainer.modeling.ema import AveragedWeights
from trainer.modeling.keras_api import create_all_variables, keras, moving_averages
from trainer.run.experiment import build_experiment
from trainer.workdir.directory import Workdir

X = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)

Y = (X[:, 0] > 0).astype(np.int32)


def _trained(*, ema_momentum=0.8, steps=5):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    optimizer = keras.optimizers.SGD(
        0.5, use_ema=ema_momentum > 0, ema_momentum=ema_momentum or 0.99
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    create_all_variables(model, (X[:4], Y[:4]))
    for step in range(steps):
        batch = slice(4 * step % 32, 4 * step % 32 + 4)
        model.train_step((tf.constant(X[batch]), tf.constant(Y[batch])))
    return model


def _values(variables):
    return [v.numpy().copy() for v in variables]


def _assert_equal(got, want):
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_without_ema_nothing_is_swapped():
    model = _trained(ema_momentum=0.0)
    averaged = AveragedWeights(model, tf.distribute.get_strategy())
    assert not averaged.enabled
    raw = _values(model.trainable_variables)
    with averaged.swapped_in():
        _assert_equal(_values(model.trainable_variables), raw)
    _assert_equal(_values(model.trainable_variables), raw)


def test_the_averages_are_swapped_in_and_the_raw_weights_come_back_exactly():
    model = _trained()
    averages = moving_averages(model)
    raw, averaged_values = _values(model.trainable_variables), _values(averages)
    assert not np.allclose(raw[0], averaged_values[0])  # Training moved them apart.
    averaged = AveragedWeights(model, tf.distribute.get_strategy())
    assert averaged.enabled
    for _ in range(2):  # The swap is a traced function: the second use reuses it.
        with averaged.swapped_in():
            _assert_equal(_values(model.trainable_variables), averaged_values)
            outputs = model(X, training=False).numpy()
        _assert_equal(_values(model.trainable_variables), raw)
        _assert_equal(_values(averages), averaged_values)
    reference = _trained()  # Another model holding the averages predicts the same.
    for weight, value in zip(reference.trainable_variables, averaged_values, strict=True):
        weight.assign(value)
    # Another model instance: the same ops, but compare as floats (kernels may differ by CPU).
    np.testing.assert_allclose(reference(X, training=False).numpy(), outputs, rtol=1e-6, atol=1e-7)


def test_an_error_inside_still_swaps_back():
    model = _trained()
    raw = _values(model.trainable_variables)
    with pytest.raises(RuntimeError, match="inside"):
        with AveragedWeights(model, tf.distribute.get_strategy()).swapped_in():
            raise RuntimeError("inside")
    _assert_equal(_values(model.trainable_variables), raw)


def test_training_after_a_swap_is_training_without_one():
    swapped, plain = _trained(), _trained()
    with AveragedWeights(swapped, tf.distribute.get_strategy()).swapped_in():
        pass
    for model in (swapped, plain):
        model.train_step((tf.constant(X[:8]), tf.constant(Y[:8])))
    _assert_equal(_values(swapped.trainable_variables), _values(plain.trainable_variables))
    _assert_equal(_values(moving_averages(swapped)), _values(moving_averages(plain)))


def _experiment(tmp_path, name, ema_momentum):
    config = digits_mlp.get_config()
    config.train.steps, config.train.ema_momentum = 40, ema_momentum
    config.train.learning_rate = 0.01
    return build_experiment(
        config,
        strategy=tf.distribute.get_strategy(),
        workdir=Workdir(str(tmp_path / name), is_chief=True),
    )


def test_evaluation_under_ema_equals_a_model_holding_the_averaged_weights(tmp_path):
    experiment = _experiment(tmp_path, "ema", 0.9)
    experiment.host_loop.train(experiment.train_iterator(0), 40)
    raw = _values(experiment.model.trainable_variables)
    averages = _values(moving_averages(experiment.model))
    results = experiment.evaluate("validation")
    _assert_equal(_values(experiment.model.trainable_variables), raw)

    holder = _experiment(tmp_path, "holder", 0.0)
    assert not holder.averaged_weights.enabled
    for weight, value in zip(holder.model.trainable_variables, averages, strict=True):
        weight.assign(value)
    want = holder.evaluate("validation")
    assert results.keys() == want.keys() == {"loss", "accuracy"}
    for metric in want:
        assert results[metric] == pytest.approx(want[metric], rel=1e-6, abs=1e-7), metric
    for weight, value in zip(holder.model.trainable_variables, raw, strict=True):
        weight.assign(value)
    assert holder.evaluate("validation")["loss"] != pytest.approx(want["loss"], rel=1e-4)
