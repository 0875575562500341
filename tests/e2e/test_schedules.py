"""Learning-rate schedules: each kind against its closed form, warmup, scale, bad fields, and the
same rates at every step after a run is killed and resumed (a real `trainer.main` run)."""

import math
import os

import pytest
import tensorflow as tf

from tests.support.helpers import assert_ok, assert_one_line_error, read_scalars, train

# A run killed at step 60 (its last checkpoint at 30) and resumed has the rates of a run that
# was never stopped, at every step.
RESUME_CONFIG = """
import ml_collections
from configs import digits_mlp


def get_config():
    config = digits_mlp.get_config()
    config.schedule.name = "cosine"
    config.schedule.warmup_steps = 25
    config.schedule.warmup_start = 0.1
    config.schedule.end_fraction = 0.05
    config.actions = ml_collections.ConfigDict(
        {"kill": {"action": "tests.support.plugins:KillSelf", "at_step": 60}}
    )
    return config
"""

RESUME_ARGS = (
    "--progress=quiet",
    "--config.train.steps=120",
    "--config.train.steps_per_loop=10",
    "--config.train.learning_rate=0.01",
    "--config.checkpoint.every_steps=30",
    "--config.eval.every_steps=0",
    "--config.export.keras=False",
    "--config.export.saved_model=False",
)


@pytest.mark.slow
def test_a_killed_and_resumed_run_has_the_same_learning_rate_at_every_step(tmp_path):
    config = tmp_path / "cosine_resume.py"
    config.write_text(RESUME_CONFIG)
    common = (f"--config={config}", *RESUME_ARGS)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert_ok(train(f"--workdir={straight}", *common, "--config.actions.kill.at_step=1000"))
    first = train(f"--workdir={killed}", *common)
    assert first.returncode == -9, f"exit {first.returncode}\n{first.stderr[-3000:]}"
    assert tf.train.latest_checkpoint(str(killed / "checkpoints")).endswith("ckpt-30")
    resumed = train(f"--workdir={killed}", *common)  # The same command resumes.
    assert_ok(resumed)
    assert "resuming at step 30" in resumed.stderr

    want = dict(read_scalars(straight / "train")["learning_rate"])
    got = read_scalars(killed / "train")["learning_rate"]
    assert sorted(want) == list(range(10, 121, 10))
    assert {step for step, _ in got} == set(want)
    for step, rate in got:
        assert rate == pytest.approx(want[step], rel=1e-6, abs=1e-12), step
    # And both follow the configured curve (logged after `step` steps: the next step's rate).
    for step, rate in want.items():
        if step < 25:
            expected = 0.01 * (0.1 + 0.9 * step / 25)
        else:
            expected = 0.01 * (0.95 * 0.5 * (1 + math.cos(math.pi * (step - 25) / 95)) + 0.05)
        assert rate == pytest.approx(expected, rel=1e-5), step
    assert os.path.exists(killed / "killed_at_step_60")


def test_an_unknown_schedule_on_the_command_line_is_one_error_line(workdir):
    assert_one_line_error(
        train(f"--workdir={workdir}", "--config.schedule.name=nope"),
        "config.schedule.name='nope' is not a schedule",
    )
