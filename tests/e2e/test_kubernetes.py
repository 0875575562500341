"""The Kubernetes manifests: valid for the API server, and each pod finds the cluster from them."""

import time

import pytest
import yaml

from launch.kubernetes import manifests
from tests.support.helpers import run_module

_ARGS = dict(name="digits", image="registry.example/trainer:1", workdir="gs://bucket/runs/digits")


def test_the_command_line_prints_the_manifests_and_refuses_bad_flags(tmp_path):
    out = tmp_path / "job.yaml"
    process = run_module(
        "launch.kubernetes",
        "--name=digits",
        "--image=registry.example/trainer:1",
        "--workers=2",
        "--workdir=gs://bucket/runs/digits",
        f"--out={out}",
        "--",
        "--config=configs/digits_mlp.py",
    )
    assert process.returncode == 0, process.stderr[-2000:]
    documents = list(yaml.safe_load_all(out.read_text()))
    expected = manifests(workers=2, trainer_args=["--config=configs/digits_mlp.py"], **_ARGS)
    assert documents == expected
    process = run_module("launch.kubernetes", "--name=digits", "--image=x", "--workdir=/tmp/r")
    assert process.returncode == 2 and "error: --workdir='/tmp/r'" in process.stderr


_SWEEP_ARGS = ["--config=configs/california_mlp.py", "--sweep=configs/sweeps/california_tpe.py"]


def test_the_command_line_renders_a_sweep():
    process = run_module(
        "launch.kubernetes",
        "--name=housing",
        "--image=r/t:1",
        "--workdir=gs://b/s",
        "--sweep_pods=3",
        "--storage_secret=db",
        "--",
        *_SWEEP_ARGS,
    )
    assert process.returncode == 0, process.stderr
    (job,) = list(yaml.safe_load_all(process.stdout))
    assert job["kind"] == "Job" and job["spec"]["completions"] == 3


_IMPORTS = (
    "import runpy, sys, time; start = time.perf_counter(); "
    "sys.argv = ['launch.kubernetes', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('launch.kubernetes', run_name='__main__')\n"
    "except SystemExit as e:\n    assert not e.code, e.code\n"
    "print('TF', 'tensorflow' in sys.modules, 'TIME', time.perf_counter() - start, "
    "file=sys.stderr)"
)


@pytest.mark.parametrize("output", ["job", "jobset", "tfjob"])
def test_rendering_never_loads_tensorflow_and_is_quick(output):
    started = time.perf_counter()
    process = run_module(
        "tests.support.run_python",
        _IMPORTS,
        "--name=digits",
        "--image=r/t:1",
        "--workdir=gs://b/r",
        f"--output={output}",
        "--evaluator",
        "--gpus_per_worker=1",
    )
    seconds = time.perf_counter() - started
    assert process.returncode == 0, process.stderr[-2000:]
    assert "TF False" in process.stderr, process.stderr[-2000:]
    assert "cuInit" not in process.stderr and "oneDNN" not in process.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(process.stdout)]
    assert (
        kinds
        == {"job": ["Service", "Job", "Job"], "jobset": ["JobSet"], "tfjob": ["TFJob"]}[output]
    )
    print(f"rendered {output} in {seconds:.2f} s")  # No time limit: CI machines are shared.
