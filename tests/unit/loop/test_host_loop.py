"""The host loops: exactly the steps asked for, with and without XLA (one CPU device here)."""

import numpy as np
import pytest
import tensorflow as tf

from trainer.loop.host_loop import HostLoop
from trainer.modeling.keras_api import create_all_variables, keras


def _trained_weights(steps, **loop_options):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype(np.float32)
    y = rng.integers(0, 3, size=64).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(8)
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    create_all_variables(model, next(iter(data)))
    strategy = tf.distribute.get_strategy()
    loop = HostLoop(strategy=strategy, model=model, **loop_options)
    iterator = iter(strategy.distribute_datasets_from_function(lambda _: data))
    results = loop.train(iterator, steps)
    following_batch = next(iterator)[0].numpy()
    np.testing.assert_array_equal(following_batch, x[8 * steps : 8 * steps + 8])  # None skipped.
    return int(model.optimizer.iterations.numpy()), model.get_weights(), results


@pytest.mark.parametrize("jit_steps", [1, 3])
def test_xla_runs_exactly_the_steps_asked_for_with_the_same_result(jit_steps):
    steps, plain, plain_results = _trained_weights(7, jit_compile=False)
    xla_steps, xla, xla_results = _trained_weights(7, jit_compile=True, jit_steps=jit_steps)
    assert steps == xla_steps == 7  # 2 calls of 3 steps and 1 of 1 when jit_steps=3.
    for a, b in zip(plain, xla, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert xla_results["loss"] == pytest.approx(plain_results["loss"], rel=1e-5)


@pytest.mark.parametrize("steps", [1, 7])
def test_fetching_ahead_reads_the_same_batches_and_trains_the_same(steps):
    ahead_steps, ahead, ahead_results = _trained_weights(steps, jit_compile=False, fetch_ahead=True)
    assert ahead_steps == steps
    _, plain, plain_results = _trained_weights(steps, jit_compile=False)
    for a, b in zip(plain, ahead, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert ahead_results == pytest.approx(plain_results, rel=1e-6)


def test_fetching_ahead_with_xla_is_refused():
    with pytest.raises(ValueError, match="fetch_ahead is for loops without XLA"):
        HostLoop(
            strategy=tf.distribute.get_strategy(),
            model=keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
            jit_compile=True,
            fetch_ahead=True,
        )
