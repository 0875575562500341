"""Reduce-on-plateau: the learning-rate scale drops by `factor` after `patience` evaluations
without improvement, never below min_scale, and the count restarts."""

import pytest

from tests.support.helpers import run_state
from trainer.actions.monitor import Monitor
from trainer.actions.plateau import ReduceOnPlateau
from trainer.errors import HarnessError
from trainer.workdir.training_state import TrainingState


def _plateau(training_state, **kwargs):
    settings = {"patience": 2, "factor": 0.5, "min_scale": 0.2, **kwargs}
    monitor = Monitor(metric="accuracy", mode="auto", field="config.reduce_on_plateau")
    return ReduceOnPlateau(monitor=monitor, training_state=training_state, **settings)


def _evaluate(action, step, value):
    action(run_state(step, validation={"accuracy": value}))


def test_the_scale_halves_after_patience_and_stops_at_min_scale():
    training_state = TrainingState()
    action = _plateau(training_state)
    scales = []
    for step, accuracy in enumerate([0.5, 0.6, 0.6, 0.59, 0.6, 0.6, 0.6, 0.6, 0.6], start=1):
        _evaluate(action, step * 10, accuracy)
        scales.append(training_state.scale)
    expected = [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]
    assert scales == pytest.approx(expected, rel=1e-6)
    assert [step for step, _ in action.reductions] == [40, 60, 80]


def test_skips_host_loops_without_an_evaluation():
    training_state = TrainingState()
    action = _plateau(training_state, patience=1)
    action(run_state(10))
    assert training_state.reduce_on_plateau.read() == (None, -1, 0)


@pytest.mark.parametrize(
    "kwargs, fragment", [({"factor": 1.0}, "factor=1.0"), ({"min_scale": 2.0}, "min_scale=2.0")]
)
def test_bad_settings_are_named(kwargs, fragment):
    with pytest.raises(HarnessError, match=fragment):
        _plateau(TrainingState(), **kwargs)


def test_a_scale_below_min_scale_is_never_raised():
    training_state = TrainingState()
    training_state.learning_rate_scale.assign(1e-6)  # Divergence recovery lowered it.
    action = _plateau(training_state, patience=1, min_scale=0.2)
    _evaluate(action, 10, 0.5)
    _evaluate(action, 20, 0.4)
    assert training_state.scale == pytest.approx(1e-6, rel=1e-5)
