"""Gradient accumulation: N micro-batches per optimizer step give the weights that one batch of
the same examples gives (models without batch statistics), under 1 and 2 replicas, with and
without XLA, for compiled models and one that writes its own train_step; bad settings are
one-line errors."""

import numpy as np
import pytest
import tensorflow as tf

from configs import base
from trainer.errors import HarnessError
from trainer.loop.accumulation import ACCUMULATE, APPLY, GradientAccumulator
from trainer.loop.host_loop import HostLoop
from trainer.modeling.keras_api import create_all_variables, keras
from trainer.run.experiment import check_config
from trainer.workdir.directory import Workdir

ATOL, RTOL = 2e-6, 1e-5


def test_each_nth_micro_batch_applies():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    create_all_variables(model, (np.zeros((2, 2), np.float32), np.zeros((2, 1), np.float32)))
    accumulator = GradientAccumulator(model, 4)
    assert accumulator.modes(8) == [ACCUMULATE] * 3 + [APPLY] + [ACCUMULATE] * 3 + [APPLY]
    with pytest.raises(ValueError, match="at least 2 micro-batches, not 1"):
        GradientAccumulator(model, 1)


def _loop_weights(*, micro_batches, batch, steps=3, **loop_options):
    """Trains a Dense MLP (SGD with momentum) on batches of `batch // micro_batches` examples,
    `micro_batches` of them per optimizer step, through HostLoop on the default strategy."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=128).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(batch // micro_batches)
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(16, activation="tanh")(inputs)
    head = keras.layers.Dense(3, activation="softmax", dtype="float32")
    model = keras.Model(inputs, head(hidden))
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    create_all_variables(model, next(iter(data)))
    strategy = tf.distribute.get_strategy()
    accumulator = GradientAccumulator(model, micro_batches) if micro_batches > 1 else None
    loop = HostLoop(strategy=strategy, model=model, accumulator=accumulator, **loop_options)
    iterator = iter(strategy.distribute_datasets_from_function(lambda _: data))
    results = loop.train(iterator, steps)
    # Exactly steps x micro_batches batches were read.
    following = next(iterator)[0].numpy()
    np.testing.assert_array_equal(following, x[steps * batch : steps * batch + len(following)])
    if isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer):
        assert float(model.optimizer.dynamic_scale.numpy()) == 2.0**15  # No step skipped.
    return int(model.optimizer.iterations.numpy()), model.get_weights(), results


@pytest.mark.parametrize(
    "loop_options",
    [
        {"jit_compile": False},
        {"jit_compile": False, "fetch_ahead": True},
        {"jit_compile": True, "jit_steps": 2},
    ],
    ids=["plain", "fetch_ahead", "xla"],
)
def test_the_host_loop_accumulates_four_micro_batches_into_one_step(loop_options):
    steps, want, want_results = _loop_weights(micro_batches=1, batch=16, jit_compile=False)
    got_steps, got, results = _loop_weights(micro_batches=4, batch=16, **loop_options)
    assert steps == got_steps == 3  # Optimizer steps, not micro-batches.
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL)
    assert results["loss"] == pytest.approx(want_results["loss"], rel=1e-5)
    assert results["accuracy"] == pytest.approx(want_results["accuracy"], abs=1e-6)


def test_under_a_loss_scale_the_mean_of_the_scaled_gradients_is_unscaled_once():
    """mixed_float16: compile wraps the optimizer in a LossScaleOptimizer, whose `apply` the
    accumulator replaces; the applied step unscales the mean and checks it is finite."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        steps, want, _ = _loop_weights(micro_batches=1, batch=16, jit_compile=False)
        got_steps, got, _ = _loop_weights(micro_batches=4, batch=16, jit_compile=False)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert steps == got_steps == 3
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)  # float16 activations.


def _config(model: str, accumulation_steps: int):
    """digits with a small MLP, or the example project's convnet that writes its own
    train_step (no dropout: each step is deterministic); SGD with momentum and weight decay."""
    if model == "mlp":
        config = base.get_config(model="mlp", data="digits")
        config.model.args.hidden_units = (32,)
    else:
        from examples.my_project import config as project

        config = project.get_config()
        base.use_model(
            config, "examples.my_project.models:CustomStepConvNet", filters=(4, 8), dropout=0.0
        )
        config.model.args.dense_units = 16
    base.use_optimizer(config, "sgd", momentum=0.9)
    config.train.learning_rate, config.train.weight_decay = 0.1, 0.01
    config.train.global_batch_size, config.train.steps = 32, 4
    config.train.accumulation_steps = accumulation_steps
    return config


def trained(strategy, model: str, accumulation_steps: int, workdir: str) -> dict:
    """The weights after 4 optimizer steps of a whole experiment (its pipeline included)."""
    from trainer.run.experiment import build_experiment

    config = _config(model, accumulation_steps)
    experiment = build_experiment(
        config, strategy=strategy, workdir=Workdir(workdir, is_chief=True)
    )
    results = experiment.host_loop.train(experiment.train_iterator(0), config.train.steps)
    return {
        "step": experiment.step(),
        "loss": results["loss"],
        "weights": [w.tolist() for w in experiment.model.get_weights()],
    }


def _assert_same_training(got, want):
    assert got["step"] == want["step"] == 4
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    for a, b in zip(got["weights"], want["weights"], strict=True):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("model, micro", [("mlp", 4), ("custom_step", 2)])
def test_one_replica_accumulating_trains_as_one_batch(tmp_path, model, micro):
    strategy = tf.distribute.get_strategy()
    want = trained(strategy, model, 1, str(tmp_path / "one"))
    _assert_same_training(trained(strategy, model, micro, str(tmp_path / "micro")), want)


@pytest.mark.parametrize(
    "accumulation, batch, replicas, fragments",
    [
        (0, 128, 1, ("accumulation_steps=0 must be at least 1",)),
        (-2, 128, 2, ("accumulation_steps=-2",)),
        (3, 128, 1, ("accumulation_steps=3", "(128 / 1 replicas = 128)", "a divisor of 128")),
        (4, 20, 2, ("accumulation_steps=4", "(20 / 2 replicas = 10)", "replicas x accumulation")),
    ],
)
def test_bad_accumulation_steps_are_one_line_errors(accumulation, batch, replicas, fragments):
    config = base.get_config()
    config.train.global_batch_size, config.train.accumulation_steps = batch, accumulation
    with pytest.raises(HarnessError) as raised:
        check_config(config, replicas)
    message = str(raised.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_accumulation_steps_that_divide_the_per_replica_batch_are_fine():
    config = base.get_config()
    config.train.global_batch_size, config.train.accumulation_steps = 24, 4
    check_config(config, 1)
    config.train.accumulation_steps = 3
    check_config(config, 2)  # 12 per replica, micro-batches of 4.
