"""Learning-rate schedules: each kind against its closed form, warmup, scale, reloading, bad fields
(the same rates after a run is killed and resumed is tests/e2e/test_schedules.py)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from configs import base
from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.modeling.schedules import WarmupThenDecay, build_schedule, check_schedule

PEAK, TOTAL = 0.2, 100

STEPS = (0, 1, 5, 9, 10, 11, 30, 49, 50, 51, 77, 80, 81, 99, 100, 140)


def _config(name, **fields):
    schedule = base.get_config().schedule
    schedule.name = name
    for field, value in fields.items():
        schedule[field] = value
    return schedule


def _rates(schedule, steps=STEPS):
    return np.array([float(schedule(tf.constant(s, tf.int64))) for s in steps])


def _warmup(step, warmup, start=0.0):
    return PEAK * (start + (1.0 - start) * step / warmup)


def _with_warmup(decay, warmup, start=0.0):
    """The rate at each step: the warmup, then `decay(steps since the warmup ended)`."""
    return np.array([_warmup(s, warmup, start) if s < warmup else decay(s - warmup) for s in STEPS])


def _cosine(t, steps, end):
    t = min(t, steps)
    return PEAK * ((1 - end) * 0.5 * (1 + math.cos(math.pi * t / steps)) + end)


def _polynomial(t, steps, end, power):
    t = min(t, steps)
    return (PEAK - PEAK * end) * (1 - t / steps) ** power + PEAK * end


CASES = {
    "constant": (dict(), lambda t: PEAK),
    "constant, warmup": (dict(warmup_steps=10), lambda t: PEAK),
    "constant, warmup from 0.1": (dict(warmup_steps=10, warmup_start=0.1), lambda t: PEAK),
    # decay_steps 0: the decay takes the steps after the warmup, to the last.
    "cosine": (dict(end_fraction=0.0), lambda t: _cosine(t, TOTAL, 0.0)),
    "cosine, warmup": (
        dict(warmup_steps=10, end_fraction=0.05),
        lambda t: _cosine(t, TOTAL - 10, 0.05),
    ),
    "cosine, warmup, decay_steps": (
        dict(warmup_steps=10, decay_steps=40),
        lambda t: _cosine(t, 40, 0.0),
    ),
    "linear, warmup": (
        dict(warmup_steps=10, end_fraction=0.1),
        lambda t: _polynomial(t, 90, 0.1, 1),
    ),
    "polynomial, warmup": (
        dict(warmup_steps=10, end_fraction=0.01, power=2.0),
        lambda t: _polynomial(t, 90, 0.01, 2.0),
    ),
    "polynomial, decay_steps": (
        dict(decay_steps=30, power=0.5),
        lambda t: _polynomial(t, 30, 0.0, 0.5),
    ),
    "exponential, warmup": (
        dict(warmup_steps=10, decay_steps=20, decay_rate=0.5),
        lambda t: PEAK * 0.5 ** (t / 20),
    ),
    "exponential, staircase": (
        dict(warmup_steps=10, decay_steps=20, decay_rate=0.3, staircase=True),
        lambda t: PEAK * 0.3 ** (t // 20),
    ),
    "exponential, to the end": (dict(decay_rate=0.1), lambda t: PEAK * 0.1 ** (t / TOTAL)),
}


@pytest.mark.parametrize("case", CASES)
def test_each_kind_follows_its_closed_form(case):
    fields, decay = CASES[case]
    name = case.split(",")[0]
    warmup, start = fields.get("warmup_steps", 0), fields.get("warmup_start", 0.0)
    schedule = build_schedule(_config(name, **fields), peak=PEAK, total_steps=TOTAL)
    np.testing.assert_allclose(
        _rates(schedule), _with_warmup(decay, warmup, start), rtol=1e-5, atol=PEAK * 1e-6
    )


def test_the_warmup_rises_linearly_and_the_decay_starts_at_its_end():
    schedule = build_schedule(
        _config("cosine", warmup_steps=10, warmup_start=0.1), peak=PEAK, total_steps=TOTAL
    )
    rates = _rates(schedule, range(0, 12))
    np.testing.assert_allclose(rates[:10], PEAK * (0.1 + 0.9 * np.arange(10) / 10), rtol=1e-6)
    np.testing.assert_allclose(rates[10], PEAK, rtol=1e-6)  # The peak, then the decay.
    assert rates[11] < rates[10]
    np.testing.assert_allclose(_rates(schedule, [TOTAL]), [0.0], atol=1e-9)


def test_piecewise_boundaries_are_absolute_steps_with_a_warmup_before_them():
    """As Keras's PiecewiseConstantDecay: the rate at step b is still the earlier one, from
    b + 1 the next; the warmup does not shift the boundaries."""
    schedule = build_schedule(
        _config("piecewise", warmup_steps=10, boundaries=(50, 80), multipliers=(1.0, 0.1, 0.01)),
        peak=PEAK,
        total_steps=TOTAL,
    )

    def expected(step):
        if step < 10:
            return _warmup(step, 10)
        return PEAK * (1.0 if step <= 50 else 0.1 if step <= 80 else 0.01)

    np.testing.assert_allclose(_rates(schedule), [expected(s) for s in STEPS], rtol=1e-5)
    without_warmup = build_schedule(
        _config("piecewise", boundaries=(5,), multipliers=(0.5, 2.0)), peak=PEAK, total_steps=TOTAL
    )
    np.testing.assert_allclose(
        _rates(without_warmup, [0, 5, 6]), [0.5 * PEAK, 0.5 * PEAK, 2 * PEAK], rtol=1e-6
    )


def test_the_scale_variable_multiplies_every_rate_and_is_read_at_each_call():
    scale = tf.Variable(1.0)
    schedule = build_schedule(
        _config("linear", warmup_steps=10), peak=PEAK, total_steps=TOTAL, scale=scale
    )
    full = _rates(schedule)
    rate = tf.function(lambda step: schedule(step))  # Traced once: the variable is not baked in.
    assert float(rate(tf.constant(30, tf.int64))) == pytest.approx(full[STEPS.index(30)], rel=1e-6)
    scale.assign(0.25)
    np.testing.assert_allclose(_rates(schedule), 0.25 * full, rtol=1e-6)
    assert float(rate(tf.constant(30, tf.int64))) == pytest.approx(
        0.25 * full[STEPS.index(30)], rel=1e-6
    )


def test_the_optimizer_follows_the_schedule_at_its_own_step():
    schedule = build_schedule(
        _config("cosine", warmup_steps=4), peak=PEAK, total_steps=20, scale=tf.Variable(0.5)
    )
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    variable = keras.Variable(np.zeros(3, np.float32))
    optimizer.build([variable])
    for step in range(8):
        expected = float(schedule(step))
        assert float(optimizer.learning_rate) == pytest.approx(expected, rel=1e-6)
        before = variable.numpy().copy()
        optimizer.apply([tf.ones(3)], [variable])  # SGD: the step moves by exactly the rate.
        np.testing.assert_allclose(before - variable.numpy(), expected, rtol=1e-5, atol=1e-9)


def test_a_saved_schedule_reloads_with_the_same_rates_and_scale():
    scale = tf.Variable(0.5)
    schedule = build_schedule(
        _config("exponential", warmup_steps=10, decay_steps=20, staircase=True),
        peak=PEAK,
        total_steps=TOTAL,
        scale=scale,
    )
    reloaded = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(reloaded, WarmupThenDecay) and reloaded.scale == 0.5
    np.testing.assert_allclose(_rates(reloaded), _rates(schedule), rtol=1e-6)
    constant = build_schedule(_config("constant"), peak=PEAK, total_steps=TOTAL)
    reloaded = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(constant))
    np.testing.assert_allclose(_rates(reloaded), PEAK, rtol=1e-6)


@pytest.mark.parametrize(
    "name, fields, total, fragments",
    [
        ("nope", {}, TOTAL, ("config.schedule.name='nope' is not a schedule", "cosine")),
        ("cosine", {"power": 2.0}, TOTAL, ("config.schedule.power=2.0 is for polynomial",)),
        ("constant", {"decay_steps": 5}, TOTAL, ("decay_steps=5 is for cosine and linear",)),
        ("linear", {"boundaries": (3,)}, TOTAL, ("boundaries=(3,) is for piecewise",)),
        ("piecewise", {"decay_rate": 0.9, "multipliers": (1.0,)}, TOTAL, ("decay_rate=0.9",)),
        ("exponential", {"end_fraction": 0.1}, TOTAL, ("end_fraction=0.1",)),
        ("cosine", {"warmup_steps": 100}, 100, ("warmup_steps=100", "train.steps=100")),
        ("constant", {"warmup_steps": 150}, 100, ("warmup_steps=150",)),
        ("constant", {"warmup_steps": -1}, 100, ("warmup_steps=-1",)),
        (
            "cosine",
            {"warmup_steps": 10, "warmup_start": 1.5},
            TOTAL,
            ("warmup_start=1.5", "[0, 1]"),
        ),
        ("cosine", {"warmup_start": 0.1}, TOTAL, ("warmup_start=0.1 does nothing without",)),
        ("cosine", {"end_fraction": -0.1}, TOTAL, ("end_fraction=-0.1",)),
        ("linear", {"decay_steps": -5}, TOTAL, ("decay_steps=-5",)),
        (
            "piecewise",
            {"boundaries": (10, 20), "multipliers": (1.0, 0.1)},
            TOTAL,
            ("multipliers has 2 values for 2 boundaries", "len(boundaries) + 1"),
        ),
        (
            "piecewise",
            {"boundaries": (20, 10), "multipliers": (1.0, 0.1, 0.01)},
            TOTAL,
            ("boundaries=(20, 10) must be increasing",),
        ),
        (
            "piecewise",
            {"boundaries": (0,), "multipliers": (1.0, 0.1)},
            TOTAL,
            ("must be increasing positive steps",),
        ),
        ("polynomial", {"power": 0.0}, TOTAL, ("power=0.0 must be positive",)),
        ("exponential", {"decay_rate": -0.5}, TOTAL, ("decay_rate=-0.5 must be positive",)),
        (
            "piecewise",
            {"boundaries": (10,), "multipliers": (1.0, -0.1)},
            TOTAL,
            ("must not be negative",),
        ),
        (
            "piecewise",
            {"boundaries": (10, 100), "multipliers": (1.0, 0.1, 0.01)},
            100,
            ("boundaries [100] are not before the last step",),
        ),
    ],
)
def test_a_bad_schedule_names_the_field(name, fields, total, fragments):
    with pytest.raises(HarnessError) as raised:
        check_schedule(_config(name, **fields), total_steps=total)
    message = str(raised.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    with pytest.raises(HarnessError):  # build_schedule checks too.
        build_schedule(_config(name, **fields), peak=PEAK, total_steps=total)


def test_fields_at_their_defaults_are_fine_for_any_kind():
    for name in ("constant", "cosine", "linear", "polynomial", "exponential"):
        check_schedule(_config(name, warmup_steps=99), total_steps=TOTAL)
    check_schedule(_config("piecewise", multipliers=(1.0,)), total_steps=TOTAL)
