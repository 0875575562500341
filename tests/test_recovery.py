"""Divergence recovery: a diverged loss rolls back to the last checkpoint, scales the learning
rate and goes on, at most max_rollbacks times; then the run fails as before, saving nothing."""

import math

import pytest
import tensorflow as tf

from tests.helpers import (
    assert_ok,
    assert_one_line_error,
    read_results,
    read_scalars,
    run_state,
    train,
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


# A learning rate that explodes at step 150: piecewise x1e6 from there on.
EXPLODING = (
    "--config.train.steps=300",
    "--config.train.steps_per_loop=50",
    "--config.eval.every_steps=0",
    "--config.checkpoint.every_steps=100",
    "--config.schedule.name=piecewise",
    "--config.schedule.boundaries=(150,)",
    "--config.schedule.multipliers=(1.0, 1e6)",
    "--config.recovery.loss_upper_bound=100",
)


@pytest.mark.slow
def test_an_injected_divergence_is_rolled_back_and_the_run_ends(tmp_path):
    process = train(
        *EXPLODING,
        f"--workdir={tmp_path}",
        "--config.recovery.max_rollbacks=1",
        "--config.recovery.learning_rate_factor=1e-7",
    )
    assert_ok(process)
    results = read_results(tmp_path)
    assert results["step"] == 300
    (rollback,) = results["rollbacks"]
    assert rollback["at_step"] == 200 and rollback["to_step"] == 100
    assert results["learning_rate_scale"] == pytest.approx(1e-7, rel=1e-5)
    assert math.isfinite(results["test"]["loss"]) and results["test"]["accuracy"] > 0.8
    rates = dict(read_scalars(tmp_path / "train")["learning_rate"])
    assert rates[300] == pytest.approx(1e-3 * 1e6 * 1e-7, rel=1e-5)  # After the boundary.
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-300")


@pytest.mark.slow
def test_a_divergence_after_the_last_rollback_fails_and_saves_nothing(tmp_path):
    process = train(
        *EXPLODING, f"--workdir={tmp_path}", "--config.recovery.max_rollbacks=1"
    )  # The factor stays 1: the same rate diverges again.
    assert_one_line_error(
        process, "steps 151..200 after 1 rollback(s)", "last good checkpoint (step 100)"
    )
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-100")
