"""The evaluator task evaluates the chief's checkpoints as they appear, in its own process."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.helpers import (
    REPO,
    assert_ok,
    assert_one_line_error,
    read_results,
    read_scalars,
    train,
)

EVALUATOR_TF_CONFIG = json.dumps(
    {
        "cluster": {"worker": ["localhost:1"], "evaluator": ["localhost:2"]},
        "task": {"type": "evaluator", "index": 0},
    }
)


def test_the_evaluator_follows_training_to_the_last_checkpoint(workdir):
    run = (
        "--config.train.steps=600",
        "--config.checkpoint.every_steps=200",
        f"--workdir={workdir}",
    )
    evaluator = subprocess.Popen(
        [sys.executable, "-m", "trainer.main", *run, "--config.eval.evaluator_timeout_s=120"],
        cwd=REPO,
        env=dict(os.environ, TF_CONFIG=EVALUATOR_TF_CONFIG),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert_ok(train(*run))
    _, errors = evaluator.communicate(timeout=180)
    assert evaluator.returncode == 0, errors[-3000:]

    with open(os.path.join(workdir, "evaluator", "results.json")) as f:
        evaluated = json.load(f)
    assert evaluated["step"] == 600 and evaluated["steps"][-1] == 600
    chief = read_results(workdir)["validation"]
    assert evaluated["validation"]["accuracy"] == pytest.approx(chief["accuracy"], abs=1e-6)
    steps = [step for step, _ in read_scalars(os.path.join(workdir, "evaluator", "eval"))["loss"]]
    assert steps == evaluated["steps"]
    assert "step 100/600" not in errors  # It evaluated; it did not train.


def test_an_evaluator_with_no_checkpoints_gives_up_with_a_clear_error(workdir):
    process = train(
        f"--workdir={workdir}",
        "--config.eval.evaluator_timeout_s=2",
        env={"TF_CONFIG": EVALUATOR_TF_CONFIG},
    )
    assert_one_line_error(process, "saw no checkpoint", "within 2 s")
