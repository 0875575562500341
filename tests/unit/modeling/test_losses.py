"""build_loss: loss arguments checked against the Keras class, label smoothing on integer labels
equal to Keras's on one-hot labels, class weights reaching the training batches."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import base
from tests.support.helpers import raises_one_line
from trainer.data import make_dataset_fn
from trainer.data.sources import InMemorySource
from trainer.modeling.keras_api import keras
from trainer.modeling.losses import (
    SparseCategoricalCrossentropyWithSmoothing,
    build_loss,
    loss_class,
)
from trainer.run.model import build_compiled_model

RNG = np.random.default_rng(0)

LOGITS = RNG.normal(size=(16, 5)).astype(np.float32) * 3

LABELS = RNG.integers(0, 5, size=16).astype(np.int32)

ONE_HOT = np.eye(5, dtype=np.float32)[LABELS]

WEIGHTS = RNG.uniform(0.1, 2.0, size=16).astype(np.float32)


def _train(loss="sparse_categorical_crossentropy", smoothing=0.0, **args):
    config = base.get_config()
    config.train.loss, config.train.loss_args = loss, ml_collections.ConfigDict(args)
    config.train.label_smoothing = smoothing
    return config.train


def _raises(train, *fragments):
    raises_one_line(lambda: build_loss(train), *fragments)


def test_use_loss_sets_the_name_and_arguments():
    config = base.get_config()
    base.use_loss(config, "categorical_crossentropy", from_logits=True)
    loss = build_loss(config.train)
    assert type(loss) is keras.losses.CategoricalCrossentropy
    assert loss.get_config()["from_logits"] is True


def test_a_loss_without_arguments_stays_a_name_for_compile():
    assert build_loss(_train()) == "sparse_categorical_crossentropy"
    assert build_loss(_train("mse")) == "mse"


def test_loss_arguments_build_the_keras_class():
    loss = build_loss(_train(from_logits=True))
    assert type(loss) is keras.losses.SparseCategoricalCrossentropy
    assert loss.get_config()["from_logits"] is True
    huber = build_loss(_train("huber", delta=0.5))
    assert isinstance(huber, keras.losses.Huber)
    y, prediction = np.zeros((4, 1), np.float32), np.full((4, 1), 2.0, np.float32)
    assert float(huber(y, prediction)) == pytest.approx(0.5 * (2.0 - 0.25))  # delta 0.5, not 1.


@pytest.mark.parametrize(
    "name, cls",
    [
        ("SparseCategoricalCrossentropy", keras.losses.SparseCategoricalCrossentropy),
        ("sparse_categorical_crossentropy", keras.losses.SparseCategoricalCrossentropy),
        ("binary_crossentropy", keras.losses.BinaryCrossentropy),
        ("mean_squared_error", keras.losses.MeanSquaredError),
        ("mse", keras.losses.MeanSquaredError),  # Keras's alias.
        ("kl_divergence", keras.losses.KLDivergence),
        ("kld", keras.losses.KLDivergence),
        ("CTC", keras.losses.CTC),
    ],
)
def test_the_loss_class_is_found_by_any_name_keras_knows(name, cls):
    assert loss_class(name) is cls


def test_a_loss_without_a_class_is_named():
    _raises(_train("nope", from_logits=True), "config.train.loss='nope' has no Keras loss class")


def test_unknown_loss_arguments_are_named_with_the_accepted_ones():
    _raises(
        _train(from_logit=True),
        "config.train.loss_args ['from_logit'] are not arguments of SparseCategoricalCrossentropy",
        "'from_logits'",
        "'ignore_class'",
    )


@pytest.mark.parametrize(
    "argument, fragment",
    [
        ("label_smoothing", "set config.train.label_smoothing instead"),
        ("reduction", "sum_over_batch_size"),
        ("name", "Keras name"),
        ("dtype", "config.precision"),
    ],
)
def test_arguments_the_harness_decides_say_why(argument, fragment):
    _raises(
        _train("categorical_crossentropy", **{argument: 0.1}),
        f"config.train.loss_args sets ['{argument}']",
        fragment,
    )


@pytest.mark.parametrize("smoothing", [-0.1, 1.0, 1.5])
def test_label_smoothing_out_of_range(smoothing):
    _raises(_train(smoothing=smoothing), f"config.train.label_smoothing={smoothing}", "[0, 1)")


def test_label_smoothing_needs_a_loss_that_takes_it():
    _raises(_train("mse", smoothing=0.1), "label_smoothing is for classification losses")
    loss = build_loss(_train("binary_crossentropy", smoothing=0.2))
    assert isinstance(loss, keras.losses.BinaryCrossentropy)
    assert loss.get_config()["label_smoothing"] == pytest.approx(0.2)


@pytest.mark.parametrize("ignored", [0, 3])
def test_label_smoothing_with_ignore_class_is_refused_for_class_zero_too(ignored):
    _raises(_train(smoothing=0.1, ignore_class=ignored), "cannot be combined", "ignore_class")


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_shape", [(16,), (16, 1)])
def test_smoothing_integer_labels_equals_keras_on_one_hot_labels(from_logits, label_shape):
    loss = build_loss(_train(smoothing=0.1, from_logits=from_logits))
    assert isinstance(loss, SparseCategoricalCrossentropyWithSmoothing)
    predictions = LOGITS if from_logits else keras.ops.softmax(LOGITS).numpy()
    keras_loss = keras.losses.CategoricalCrossentropy(label_smoothing=0.1, from_logits=from_logits)
    labels = LABELS.reshape(label_shape)
    for weights in (None, WEIGHTS):
        got = float(loss(labels, predictions, sample_weight=weights))
        want = float(keras_loss(ONE_HOT, predictions, sample_weight=weights))
        assert got == pytest.approx(want, rel=1e-6)
    unsmoothed = float(
        keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)(LABELS, predictions)
    )
    assert float(loss(labels, predictions)) != pytest.approx(unsmoothed, rel=1e-3)


def test_the_smoothing_loss_takes_the_class_axis_and_round_trips():
    loss = build_loss(_train(smoothing=0.2, from_logits=True, axis=-1))
    reloaded = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(reloaded, SparseCategoricalCrossentropyWithSmoothing)
    assert (reloaded.label_smoothing, reloaded.from_logits) == (0.2, True)
    assert float(reloaded(LABELS, LOGITS)) == pytest.approx(float(loss(LABELS, LOGITS)), rel=1e-6)
    # Classes on axis 1 of a (batch, classes, positions) output.
    per_position = np.stack([LOGITS, LOGITS[::-1]], axis=-1)
    labels = np.stack([LABELS, LABELS[::-1]], axis=-1)
    by_axis = build_loss(_train(smoothing=0.2, from_logits=True, axis=1))
    want = keras.losses.CategoricalCrossentropy(label_smoothing=0.2, from_logits=True, axis=1)(
        np.eye(5, dtype=np.float32)[labels].transpose(0, 2, 1), per_position
    )
    assert float(by_axis(labels, per_position)) == pytest.approx(float(want), rel=1e-6)


def test_a_compiled_model_trains_with_smoothing_and_still_reports_accuracy():
    config = base.get_config(model="mlp", data="digits")
    config.model.args.hidden_units = (16,)
    config.train.label_smoothing = 0.1
    source = InMemorySource(
        {"train": (RNG.normal(size=(8, 6)).astype(np.float32), LABELS[:8])}, num_classes=5
    )
    model = build_compiled_model(config, tf.distribute.get_strategy(), source)
    assert isinstance(model.loss, SparseCategoricalCrossentropyWithSmoothing)
    x, y = source.sample_batch(batch_size=8)
    results = model.train_on_batch(x, y, return_dict=True)
    assert set(results) == {"loss", "accuracy"} and np.isfinite(results["loss"])


def _training_batches(labels, class_weights, *, batch=4):
    features = np.arange(len(labels), dtype=np.float32)[:, None]
    source = InMemorySource({"train": (features, labels)}, num_classes=3)
    dataset_fn = make_dataset_fn(
        source,
        "train",
        global_batch_size=batch,
        training=True,
        seed=0,
        class_weights=class_weights,
    )
    return list(dataset_fn(tf.distribute.InputContext()).take(3).as_numpy_iterator())


@pytest.mark.parametrize("label_shape", [(-1,), (-1, 1)])
def test_class_weights_reach_the_training_batches_as_sample_weights(label_shape):
    labels = np.array([0, 1, 2, 1, 0, 2, 2, 1], np.int32).reshape(label_shape)
    weights = (0.5, 2.0, 3.0)
    batches = _training_batches(labels, weights)
    for features, batch_labels, sample_weights in batches:
        assert sample_weights.shape == (4,) and sample_weights.dtype == np.float32
        # Each example keeps its own label (features are row numbers) and its class's weight.
        rows = features[:, 0].astype(int)
        np.testing.assert_array_equal(batch_labels, labels[rows])
        np.testing.assert_allclose(sample_weights, np.take(weights, labels[rows].reshape(-1)))
    assert all(len(b) == 2 for b in _training_batches(labels, ()))  # No weights: pairs.


def test_class_weights_of_one_hot_labels():
    classes = np.array([0, 1, 2, 1, 0, 2, 2, 1])
    one_hot = np.eye(3, dtype=np.float32)[classes]
    for features, _, sample_weights in _training_batches(one_hot, (0.5, 2.0, 3.0)):
        rows = features[:, 0].astype(int)
        np.testing.assert_allclose(sample_weights, np.take((0.5, 2.0, 3.0), classes[rows]))


def test_a_train_step_weighs_each_example_by_its_class():
    """The third element of a batch is Keras's sample_weight: the loss is the weighted one."""
    labels = np.array([0, 1, 2, 1], np.int32)
    (batch,) = _training_batches(labels, (0.5, 2.0, 3.0))[:1]
    features, batch_labels, sample_weights = batch
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    results = model.train_on_batch(features, batch_labels, sample_weight=sample_weights)
    per_example = keras.losses.sparse_categorical_crossentropy(batch_labels, model(features))
    want = float(np.sum(per_example.numpy() * sample_weights) / len(sample_weights))
    assert float(results) == pytest.approx(want, rel=1e-5)
    step = model.train_step(tuple(tf.constant(t) for t in batch))
    assert float(step["loss"]) == pytest.approx(want, rel=1e-5)
