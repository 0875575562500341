"""trainer.modeling.fused_adam: the same training as Keras's Adam and AdamW, with the fused
kernel where it should run, under one device, two mirrored replicas, loss scaling and XLA;
checkpoints interchangeable with Keras's Adam; `.keras` exports that name Keras's own optimizer."""

import numpy as np
import pytest
import tensorflow as tf

from configs import base
from trainer.modeling.fused_adam import FUSED_MIN_ELEMENTS, FusedAdam, FusedAdamW
from trainer.modeling.keras_api import keras
from trainer.modeling.optimizers import build_optimizer

WIDTH = 256  # A WIDTH x WIDTH kernel has FUSED_MIN_ELEMENTS elements: it takes the kernel.

# One step of Adam at learning rate 1e-2 moves each weight by about 0.01; the fused kernel rounds
# differently from Keras's ops, by float32 round-off of that update (7.5e-8 seen), no more.
# Weights are compared after one step: from the second on, Adam's m / sqrt(v) magnifies
# round-off wherever a gradient nearly cancels the one before (1.9e-6 after two steps).
ATOL = 1e-6

VOCABULARY = 1000


def _model(seed=0, embedding=False):
    keras.utils.set_random_seed(seed)
    if embedding:  # Gathers: its gradient is an IndexedSlices, which Keras's ops take.
        inputs = keras.Input((4,), dtype="int32")
        x = keras.layers.Flatten()(keras.layers.Embedding(VOCABULARY, WIDTH // 4)(inputs))
    else:
        inputs = keras.Input((WIDTH,))
        x = inputs
    x = keras.layers.Dense(WIDTH, activation="relu")(x)  # Kernel fused, bias not.
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def _data(embedding=False, n=64):
    rng = np.random.default_rng(1)
    if embedding:
        features = rng.integers(0, VOCABULARY, (n, 4)).astype("int32")
    else:
        features = rng.normal(size=(n, WIDTH)).astype("float32")
    return features, rng.integers(0, 3, n).astype("int32")


def _train(optimizer, steps=1, jit_compile=False, embedding=False):
    model = _model(embedding=embedding)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(True))
    features, labels = _data(embedding)

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        model.train_step((x, y))

    for _ in range(steps):
        step(features, labels)
    return [w.numpy() for w in model.weights], op_types(
        step.get_concrete_function(features, labels)
    )


def op_types(function) -> set[str]:
    """The op types of a concrete function, including those inside its conds and loops."""
    graph = function.graph.as_graph_def()
    nested = (node.op for f in graph.library.function for node in f.node_def)
    return {node.op for node in graph.node} | set(nested)


def _assert_close(ours, keras_weights):
    assert len(ours) == len(keras_weights)
    for a, b in zip(ours, keras_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


def test_the_smallest_fused_variable_is_a_width_squared_kernel():
    assert WIDTH * WIDTH == FUSED_MIN_ELEMENTS


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fused_adam_trains_like_keras_adam_and_fuses_only_the_large_kernel(jit_compile):
    ours, ops = _train(FusedAdam(learning_rate=1e-2), jit_compile=jit_compile)
    theirs, keras_ops = _train(keras.optimizers.Adam(learning_rate=1e-2), jit_compile=jit_compile)
    _assert_close(ours, theirs)
    assert "ResourceApplyAdam" in ops and "ResourceApplyAdam" not in keras_ops
    assert "AssignSubVariableOp" in ops  # The small variables kept Keras's ops.


def test_fused_adamw_applies_the_same_weight_decay():
    ours, ops = _train(FusedAdamW(learning_rate=1e-2, weight_decay=0.5))
    theirs, _ = _train(keras.optimizers.AdamW(learning_rate=1e-2, weight_decay=0.5))
    _assert_close(ours, theirs)
    assert "ResourceApplyAdam" in ops
    no_decay, _ = _train(FusedAdamW(learning_rate=1e-2, weight_decay=0.0))
    assert np.max(np.abs(no_decay[0] - ours[0])) > 100 * ATOL  # The decay did something.


def test_amsgrad_and_sparse_gradients_keep_keras_ops():
    ours, ops = _train(FusedAdam(learning_rate=1e-2, amsgrad=True))
    theirs, _ = _train(keras.optimizers.Adam(learning_rate=1e-2, amsgrad=True))
    _assert_close(ours, theirs)
    assert "ResourceApplyAdam" not in ops
    ours, ops = _train(FusedAdam(learning_rate=1e-2), embedding=True)
    theirs, _ = _train(keras.optimizers.Adam(learning_rate=1e-2), embedding=True)
    _assert_close(ours, theirs)
    assert "ResourceApplyAdam" in ops  # The dense kernel after the embedding.


def test_under_loss_scaling_it_trains_like_keras_adam():
    def scaled(inner):
        return keras.optimizers.LossScaleOptimizer(inner, initial_scale=2.0**10)

    ours, ops = _train(scaled(FusedAdam(learning_rate=1e-2)))
    theirs, _ = _train(scaled(keras.optimizers.Adam(learning_rate=1e-2)))
    _assert_close(ours, theirs)
    assert "ResourceApplyAdam" in ops


def test_the_config_builds_it_by_default_and_keras_adam_when_asked():
    config = base.get_config()
    assert type(build_optimizer(config)) is FusedAdam
    config.train.optimizer = "adamw"
    assert type(build_optimizer(config)) is FusedAdamW
    config.train.fused_optimizer = False
    assert type(build_optimizer(config)) is keras.optimizers.AdamW
    config.train.optimizer = "sgd"
    config.train.fused_optimizer = True
    assert type(build_optimizer(config)) is keras.optimizers.SGD


def test_checkpoints_are_interchangeable_with_keras_adam(tmp_path):
    features, labels = _data()
    trained = _model()
    trained.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    trained.train_on_batch(features, labels)
    path = tf.train.Checkpoint(model=trained, optimizer=trained.optimizer).write(
        str(tmp_path / "ckpt")
    )
    restored = _model(seed=7)
    restored.compile(optimizer=FusedAdam(), loss="sparse_categorical_crossentropy")
    restored.optimizer.build(restored.trainable_variables)
    tf.train.Checkpoint(model=restored, optimizer=restored.optimizer).read(path).assert_consumed()
    for a, b in zip(trained.optimizer.variables, restored.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # Restored bytes, not arithmetic.
