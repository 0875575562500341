"""Every bad flag is refused before anything renders, with one line that says how to fix it."""

import pytest

from tests.support.helpers import run_module


def _cli(*args):
    return run_module("launch.kubernetes", *args, timeout=60)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--port=0"], "error: --port=0 must be 1-65535"),
        (["--retries=-1"], "error: --retries=-1 must be 0-"),
        (["--grace_s=-5"], "error: --grace_s=-5 must be 1-"),
        (["--port=http"], "error: flag --port=http: invalid literal for int()"),
        (["--output=helm"], "error: flag --output=helm: value should be one of"),
        (["--evaluater"], "error: Unknown command line flag 'evaluater'"),
        (["--memory=8G1"], "error: --memory: '8G1' is not a Kubernetes quantity"),
        (["--out=/nonexistent/dir/job.yaml"], "error: --out=/nonexistent/dir/job.yaml: cannot"),
    ],
)
def test_the_command_line_refuses_bad_flags_with_one_line_and_exit_2(args, fragment):
    process = _cli("--name=digits", "--image=r/t:1", "--workdir=gs://b/r", *args)
    assert process.returncode == 2, process.stderr
    assert process.stdout == ""
    assert process.stderr.startswith(fragment), process.stderr
    assert process.stderr.count("\n") == 1, process.stderr


def test_a_tpu_slice_sets_the_worker_count_unless_workers_is_given():
    flags = ["--name=llm", "--image=r/t:1", "--workdir=gs://b/r", "--tpu_type=tpu-v5p-slice"]
    process = _cli(*flags, "--tpu_topology=2x2x1")
    assert process.returncode == 0, process.stderr
    assert "completions: 1" in process.stdout and "google.com/tpu: 4" in process.stdout
    process = _cli(*flags, "--tpu_topology=2x2x1", "--workers=2")
    assert process.returncode == 2 and "--workers=2 does not match" in process.stderr


def test_a_multi_host_tpu_slice_is_refused_in_one_line_before_anything_renders(tmp_path):
    out = tmp_path / "slice.yaml"
    process = _cli(
        "--name=llm", "--image=r/t:1", "--workdir=gs://b/r", "--tpu_type=tpu-v5p-slice",
        "--tpu_topology=4x4x4", f"--out={out}",
    )  # fmt: skip
    assert process.returncode == 2 and process.stdout == "" and not out.exists()
    assert process.stderr.startswith("error: --tpu_topology=4x4x4 is a slice of 16 hosts")
    assert "or launch/tpu_vm.sh for a multi-host slice." in process.stderr
    assert process.stderr.count("\n") == 1, process.stderr
