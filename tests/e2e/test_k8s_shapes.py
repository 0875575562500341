"""Every shape launch.kubernetes renders is valid for the API server (and for the JobSet and
TFJob controllers), and each pod derives the cluster the harness expects from what it is given."""

import re

import pytest

from launch.kubernetes import manifests
from tests.support.helpers import run_module

_ARGS = dict(name="digits", image="registry.example/trainer:1", workdir="gs://bucket/runs/digits")


def _environment(container: dict, labels: dict, **given) -> dict:
    """The container's variables as the kubelet resolves them, plus what Kubernetes adds."""
    environ = dict(given)
    for variable in container.get("env", []):
        if "value" in variable:
            environ[variable["name"]] = variable["value"]
        else:
            path = variable["valueFrom"]["fieldRef"]["fieldPath"]
            (label,) = re.fullmatch(r"metadata\.labels\['(.+)'\]", path).groups()
            environ[variable["name"]] = labels[label]
    return environ


@pytest.mark.slow
def test_the_evaluator_pods_variables_make_trainer_main_the_evaluator(tmp_path):
    *_, evaluator = manifests(evaluator=True, **_ARGS)
    container = evaluator["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][-2:] == ["-m", "trainer.main"]
    args = [a for a in container["args"] if not a.startswith("--workdir=")]
    env = _environment(container, {}, HOSTNAME="digits-evaluator-0-x2v9q")
    process = run_module(
        "trainer.main",
        f"--workdir={tmp_path}",  # Stands in for gs://: no checkpoint will appear there.
        "--config.eval.evaluator_timeout_s=1",
        *args,
        env=env,
        timeout=120,
    )
    assert process.returncode == 2, process.stderr[-2000:]
    assert "error: The evaluator saw no checkpoint" in process.stderr  # Not a worker's run.
