"""Early stopping: patience counted in evaluations, min_delta, state kept by the checkpoint, every
worker stopping at the same step, and results.json saying where and on what."""

import pytest

from tests.support.helpers import run_state
from trainer.actions.early_stopping import EarlyStopping
from trainer.actions.monitor import Monitor
from trainer.workdir.training_state import TrainingState


def _run(action, values, start=100):
    states = []
    for i, value in enumerate(values):
        state = run_state(start * (i + 1), validation={"loss": value}, steps_in_loop=100)
        action(state)
        states.append(state)
        if state.stop_reason:
            break
    return states


def _early_stopping(patience=2, min_delta=0.0, state=None):
    state = state or TrainingState().early_stopping
    monitor = Monitor(
        metric="loss", mode="auto", min_delta=min_delta, field="config.early_stopping"
    )
    return EarlyStopping(monitor=monitor, patience=patience, state=state)


def test_stops_after_patience_evaluations_without_improvement():
    action = _early_stopping(patience=2)
    states = _run(action, [1.0, 0.8, 0.85, 0.9, 0.5])
    assert [s.step for s in states] == [100, 200, 300, 400]
    assert "best 0.8 at step 200" in states[-1].stop_reason
    summary = action.summary()
    assert summary["stopped"] and summary["step"] == 400 and summary["best_step"] == 200
    assert summary["monitor"] == "loss" and summary["mode"] == "min"


def test_an_improvement_smaller_than_min_delta_does_not_count():
    action = _early_stopping(patience=2, min_delta=0.05)
    states = _run(action, [1.0, 0.97, 0.96])
    assert states[-1].stop_reason and states[-1].step == 300


def test_the_count_survives_a_resume_through_the_state_variables():
    training_state = TrainingState()
    _run(_early_stopping(patience=3, state=training_state.early_stopping), [1.0, 1.1, 1.15])
    resumed = _early_stopping(patience=3, state=training_state.early_stopping)
    assert not resumed.stopped_before(300)
    states = _run(resumed, [1.2], start=400)  # The third evaluation without improvement.
    assert states[-1].stop_reason and "best 1 at step 100" in states[-1].stop_reason
    assert resumed.stopped_before(400)  # A rerun of the stopped run does not train on.


def test_mode_auto_is_max_for_accuracy_like_metrics():
    assert Monitor(metric="accuracy", mode="auto", field="config.x").mode == "max"
    assert Monitor(metric="val_auc", mode="auto", field="config.x").mode == "max"
    assert Monitor(metric="main_mae", mode="auto", field="config.x").mode == "min"


def test_a_resume_with_another_metric_starts_afresh():
    training_state = TrainingState()
    _run(_early_stopping(patience=2, state=training_state.early_stopping), [1.0, 1.1])
    accuracy = Monitor(metric="accuracy", mode="auto", field="config.early_stopping")
    resumed = EarlyStopping(monitor=accuracy, patience=2, state=training_state.early_stopping)
    assert not resumed.stopped_before(200)
    state = run_state(300, validation={"loss": 2.0, "accuracy": 0.5}, steps_in_loop=100)
    resumed(state)
    assert state.stop_reason is None
    assert resumed.summary()["best"] == pytest.approx(0.5) and resumed.summary()["best_step"] == 300
