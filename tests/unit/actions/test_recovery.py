"""Divergence recovery: a diverged loss rolls back to the last checkpoint, scales the learning
rate and goes on, at most max_rollbacks times; then the run fails as before, saving nothing."""

import math

import pytest

from tests.support.helpers import (
    run_state,
)
from trainer.actions.recovery import RecoverFromDivergence
from trainer.errors import HarnessError, TrainingDiverged
from trainer.workdir.training_state import TrainingState


class StandInCheckpointer:
    directory, last_saved_step = "/ckpt", 40

    def __init__(self, state: TrainingState):
        self.restores, self._state = 0, state

    def restore_latest(self) -> int:
        self.restores += 1
        self._state.learning_rate_scale.assign(1.0)  # The checkpoint's scale.
        return self.last_saved_step


def _state(step: int, loss: float):
    return run_state(step, loss=loss, steps_in_loop=20)


def _recovery(**kwargs):
    training_state = TrainingState()
    checkpointer = StandInCheckpointer(training_state)
    return (
        RecoverFromDivergence(checkpointer=checkpointer, training_state=training_state, **kwargs),
        checkpointer,
        training_state,
    )


def test_a_finite_loss_below_the_bound_does_nothing():
    recovery, checkpointer, _ = _recovery(max_rollbacks=2, loss_upper_bound=10.0)
    state = _state(60, 9.5)
    recovery(state)
    assert state.rolled_back_to is None and checkpointer.restores == 0


@pytest.mark.parametrize("loss", [math.nan, math.inf, 11.0])
def test_a_diverged_loss_rolls_back_and_scales_the_rate_in_use(loss):
    recovery, checkpointer, training_state = _recovery(
        max_rollbacks=2, loss_upper_bound=10.0, learning_rate_factor=0.5
    )
    training_state.learning_rate_scale.assign(0.5)  # Lowered earlier (a plateau).
    state = _state(60, loss)
    recovery(state)
    assert state.rolled_back_to == 40 and checkpointer.restores == 1
    # The rate that diverged, halved; not the checkpoint's scale (1.0) halved.
    assert training_state.scale == pytest.approx(0.25, rel=1e-6)
    assert recovery.rollbacks[0]["at_step"] == 60 and recovery.rollbacks[0]["to_step"] == 40


def test_without_rollbacks_left_the_run_fails_with_the_last_good_checkpoint():
    recovery, _, _ = _recovery(max_rollbacks=1)
    recovery(_state(60, math.nan))
    with pytest.raises(TrainingDiverged, match=r"became nan in steps 61\.\.80 after 1 rollback"):
        recovery(_state(80, math.nan))


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"max_rollbacks": -1}, "max_rollbacks=-1"),
        ({"loss_upper_bound": -1.0}, "loss_upper_bound=-1.0"),
        ({"learning_rate_factor": 0.0}, "learning_rate_factor=0.0"),
        ({"learning_rate_factor": 2.0}, "learning_rate_factor=2.0"),
    ],
)
def test_bad_settings_are_named(kwargs, fragment):
    with pytest.raises(HarnessError, match=fragment):
        _recovery(**kwargs)
