"""build_optimizer and exclude_weight_decay: config.train's options reach the Keras optimizer,
and every bad input is a one-line HarnessError that names the field."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import base
from tests.support.helpers import raises_one_line
from trainer.errors import HarnessError
from trainer.modeling.keras_api import create_all_variables, keras
from trainer.modeling.optimizers import build_optimizer, exclude_weight_decay, optimizer_class
from trainer.modeling.schedules import WarmupThenDecay


def _config(**train):
    config = base.get_config()
    config.train.steps = 100
    for field, value in train.items():
        config.train[field] = value
    return config


def _raises(config, *fragments):
    return raises_one_line(lambda: build_optimizer(config), *fragments)


def test_the_named_optimizer_gets_its_own_arguments_and_the_harness_options():
    config = _config(learning_rate=0.05, global_clipnorm=1.0, weight_decay=0.01)
    base.use_optimizer(config, "sgd", momentum=0.9, nesterov=True)
    scale = tf.Variable(0.5)
    optimizer = build_optimizer(config, learning_rate_scale=scale)
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert optimizer.momentum == pytest.approx(0.9) and optimizer.nesterov is True
    assert optimizer.global_clipnorm == pytest.approx(1.0)
    assert optimizer.weight_decay == pytest.approx(0.01)
    assert optimizer.clipnorm is None and optimizer.clipvalue is None
    assert not optimizer.use_ema
    schedule = optimizer._learning_rate
    assert isinstance(schedule, WarmupThenDecay) and schedule.scale is scale
    assert float(optimizer.learning_rate) == pytest.approx(0.025)  # Constant peak x scale.


def test_defaults_leave_every_option_off():
    optimizer = build_optimizer(_config())
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert optimizer.weight_decay is None and not optimizer.use_ema
    assert (optimizer.clipnorm, optimizer.global_clipnorm, optimizer.clipvalue) == (None,) * 3
    assert float(optimizer.learning_rate) == pytest.approx(1e-3)


def test_ema_and_each_clip_option_reach_keras():
    optimizer = build_optimizer(_config(ema_momentum=0.995, clipvalue=0.5))
    assert optimizer.use_ema and optimizer.ema_momentum == pytest.approx(0.995)
    assert optimizer.ema_overwrite_frequency is None  # The harness swaps the average in itself.
    assert optimizer.clipvalue == pytest.approx(0.5)
    assert build_optimizer(_config(clipnorm=2.0)).clipnorm == pytest.approx(2.0)


def test_global_clipnorm_clips_the_step():
    config = _config(optimizer="sgd", learning_rate=1.0, global_clipnorm=1.0)
    optimizer = build_optimizer(config)
    variable = keras.Variable(np.zeros(2, np.float32))
    optimizer.build([variable])
    optimizer.apply([tf.constant([30.0, 40.0])], [variable])  # Norm 50, clipped to 1.
    np.testing.assert_allclose(variable.numpy(), [-0.6, -0.8], rtol=1e-6)


def test_an_optimizer_by_class_name_works_too():
    assert optimizer_class("SGD") is keras.optimizers.SGD
    assert optimizer_class("adamw") is keras.optimizers.AdamW


def test_an_unknown_optimizer_is_named():
    _raises(_config(optimizer="adamm"), "config.train.optimizer='adamm' is not a Keras optimizer")


def test_unknown_optimizer_args_are_named_with_the_accepted_ones():
    config = _config()
    base.use_optimizer(config, "sgd", momentun=0.9)
    message = _raises(
        config, "config.train.optimizer_args ['momentun'] are not arguments of SGD", "it takes ["
    )
    assert "'momentum'" in message and "'nesterov'" in message
    assert "'learning_rate'" not in message  # Owned by the harness: not offered here.


@pytest.mark.parametrize(
    "argument, field",
    [
        ("learning_rate", "config.train.learning_rate and config.schedule"),
        ("weight_decay", "config.train.weight_decay"),
        ("clipnorm", "config.train.clipnorm"),
        ("use_ema", "config.train.ema_momentum"),
        ("gradient_accumulation_steps", "config.train.accumulation_steps"),
        ("loss_scale_factor", "config.precision"),
    ],
)
def test_an_argument_the_harness_owns_points_to_its_field(argument, field):
    config = _config()
    config.train.optimizer_args = ml_collections.ConfigDict({argument: 1})
    _raises(config, f"config.train.optimizer_args sets ['{argument}']", field)


def test_an_argument_keras_rejects_is_a_harness_error():
    config = _config()
    base.use_optimizer(config, "sgd", momentum=2.0)
    _raises(config, "config.train.optimizer='sgd'", "momentum", "failed")


@pytest.mark.parametrize(
    "clips",
    [
        {"clipnorm": 1.0, "global_clipnorm": 1.0},
        {"clipnorm": 1.0, "clipvalue": 1.0},
        {"global_clipnorm": 1.0, "clipvalue": 0.1},
    ],
)
def test_two_clip_options_are_refused(clips):
    _raises(_config(**clips), "at most one of config.train.clipnorm, global_clipnorm and clipvalue")


@pytest.mark.parametrize("field", ["weight_decay", "clipnorm", "global_clipnorm", "clipvalue"])
def test_a_negative_option_is_refused(field):
    _raises(_config(**{field: -1.0}), f"config.train.{field}=-1.0 must be 0 (off) or positive")


@pytest.mark.parametrize("momentum", [1.0, -0.1, 1.5])
def test_ema_momentum_out_of_range(momentum):
    _raises(_config(ema_momentum=momentum), f"config.train.ema_momentum={momentum}", "[0, 1)")


@pytest.mark.parametrize(
    "schedule, fragments",
    [
        ({"name": "nope"}, ("config.schedule.name='nope' is not a schedule",)),
        ({"name": "cosine", "decay_rate": 0.1}, ("config.schedule.decay_rate=0.1",)),
        ({"name": "cosine", "warmup_steps": 100}, ("warmup_steps=100", "train.steps=100")),
        (
            {"name": "piecewise", "boundaries": (10,), "multipliers": (1.0,)},
            ("multipliers has 1 values for 1 boundaries",),
        ),
    ],
)
def test_a_bad_schedule_is_refused_when_the_optimizer_is_built(schedule, fragments):
    config = _config()
    for field, value in schedule.items():
        config.schedule[field] = value
    _raises(config, *fragments)


def _compiled(optimizer, *, normalization=True):
    layers = [keras.Input((4,)), keras.layers.Dense(3, name="hidden")]
    if normalization:
        layers.append(keras.layers.LayerNormalization(name="norm"))
    model = keras.Sequential(layers + [keras.layers.Dense(2, name="out")], name="net")
    model.compile(optimizer=optimizer, loss="mse")
    create_all_variables(model, (np.zeros((2, 4), np.float32), np.zeros((2, 2), np.float32)))
    return model


def test_weight_decay_exclude_matches_variable_paths():
    config = _config(optimizer="sgd", weight_decay=0.1, weight_decay_exclude=("bias", "norm/"))
    model = _compiled(build_optimizer(config))
    excluded = exclude_weight_decay(model, config.train)
    assert excluded == [
        "net/hidden/bias",
        "net/norm/gamma",
        "net/norm/beta",
        "net/out/bias",
    ]
    optimizer = model.optimizer
    decays = {v.path: optimizer._use_weight_decay(v) for v in model.trainable_variables}
    assert decays == {v.path: v.path not in excluded for v in model.trainable_variables}


def test_weight_decay_exclude_reaches_the_optimizer_under_a_loss_scale():
    config = _config(optimizer="sgd", weight_decay=0.1, weight_decay_exclude=("out/kernel",))
    model = _compiled(keras.optimizers.LossScaleOptimizer(build_optimizer(config)))
    assert exclude_weight_decay(model, config.train) == ["net/out/kernel"]
    inner = model.optimizer.inner_optimizer
    assert [v.path for v in model.trainable_variables if not inner._use_weight_decay(v)] == [
        "net/out/kernel"
    ]


def test_nothing_to_exclude_does_nothing():
    config = _config(optimizer="sgd", weight_decay=0.1)
    model = _compiled(build_optimizer(config))
    assert exclude_weight_decay(model, config.train) == []
    assert all(model.optimizer._use_weight_decay(v) for v in model.trainable_variables)


def test_a_pattern_that_matches_nothing_lists_the_variables():
    config = _config(optimizer="sgd", weight_decay=0.1, weight_decay_exclude=("bias", "beta_x"))
    model = _compiled(build_optimizer(config))
    with pytest.raises(HarnessError) as raised:
        exclude_weight_decay(model, config.train)
    message = str(raised.value)
    assert "config.train.weight_decay_exclude ['beta_x'] match no variable" in message
    assert "'net/hidden/kernel'" in message and "\n" not in message


def test_a_bad_regex_is_named():
    config = _config(optimizer="sgd", weight_decay=0.1, weight_decay_exclude=("bias(",))
    model = _compiled(build_optimizer(config))
    with pytest.raises(HarnessError, match=r"weight_decay_exclude: bad regex"):
        exclude_weight_decay(model, config.train)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_exclusions_without_weight_decay_are_refused(optimizer):
    config = _config(optimizer=optimizer, weight_decay_exclude=("bias",))
    model = _compiled(build_optimizer(config))
    with pytest.raises(HarnessError, match="there is no weight decay: set config.train.weight"):
        exclude_weight_decay(model, config.train)
    config = _config(optimizer=optimizer, weight_decay=0.01, weight_decay_exclude=("bias",))
    model = _compiled(build_optimizer(config), normalization=False)
    assert exclude_weight_decay(model, config.train) == ["net/hidden/bias", "net/out/bias"]


def test_a_weight_decay_of_0_turns_adamws_own_off():
    # The configured values themselves, passed through (no arithmetic).
    assert build_optimizer(_config(optimizer="adamw")).weight_decay == pytest.approx(0, abs=1e-12)
    decayed = build_optimizer(_config(optimizer="adamw", weight_decay=0.1))
    assert decayed.weight_decay == pytest.approx(0.1, rel=1e-12)
    assert build_optimizer(_config(optimizer="adam")).weight_decay is None
