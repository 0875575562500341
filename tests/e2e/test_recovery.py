"""Divergence recovery: a diverged loss rolls back to the last checkpoint, scales the learning
rate and goes on, at most max_rollbacks times; then the run fails as before, saving nothing."""

import math

import pytest
import tensorflow as tf

from tests.support.helpers import (
    assert_ok,
    assert_one_line_error,
    read_results,
    read_scalars,
    train,
)

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
