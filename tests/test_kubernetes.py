"""The Kubernetes manifests: valid for the API server, and each pod finds the cluster from them."""

import json

import kubernetes_validate
import pytest
import yaml

from launch.kubernetes import ManifestError, manifests
from strategies.cluster import derive_tf_config
from tests.helpers import run_module

_ARGS = dict(name="digits", image="registry.example/trainer:1", workdir="gs://bucket/runs/digits")


@pytest.mark.parametrize("version", ["1.31.0", "1.37.0"])
def test_the_service_and_indexed_job_pass_strict_validation(version):
    for document in manifests(workers=4, gpus_per_worker=1, **_ARGS):
        kubernetes_validate.validate(document, version, strict=True)


def test_every_pod_derives_the_same_cluster_and_its_own_index():
    service, job = manifests(workers=3, port=2345, trainer_args=["--config.seed=1"], **_ARGS)
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert (
        service["spec"]["clusterIP"] == "None" and pod["subdomain"] == service["metadata"]["name"]
    )
    assert service["spec"]["selector"] == {"batch.kubernetes.io/job-name": "digits"}
    assert container["args"] == [
        "--strategy=multi_worker_mirrored",
        "--workdir=gs://bucket/runs/digits",
        "--config.seed=1",
    ]
    for index in range(3):
        # What the manifest sets, plus what Kubernetes gives an Indexed Job's pod.
        environ = {"JOB_COMPLETION_INDEX": str(index), "HOSTNAME": f"digits-{index}"}
        for variable in container["env"]:
            if "value" in variable:
                environ[variable["name"]] = variable["value"]
            else:  # The Job controller's label batch.kubernetes.io/job-name, via the downward API.
                assert "job-name" in variable["valueFrom"]["fieldRef"]["fieldPath"]
                environ[variable["name"]] = "digits"
        tf_config = json.loads(derive_tf_config(environ))
        assert tf_config["cluster"]["worker"] == [f"digits-{i}.digits:2345" for i in range(3)]
        assert tf_config["task"] == {"type": "worker", "index": index}


def test_exit_codes_decide_retry_or_fail():
    _, job = manifests(workers=2, retries=5, **_ARGS)
    rules = job["spec"]["podFailurePolicy"]["rules"]
    by_code = {
        code: rule["action"]
        for rule in rules
        if "onExitCodes" in rule
        for code in rule["onExitCodes"]["values"]
    }
    assert by_code == {2: "FailJob", 42: "Ignore", 43: "Ignore"}
    assert job["spec"]["backoffLimit"] == 5
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (dict(workdir="/tmp/run"), "must be storage every pod reaches"),
        (dict(name="Digits_1"), "must be 1-50 lowercase letters"),
        (dict(image=""), "--image is required"),
        (dict(trainer_args=["--strategy=mirrored"]), "set by the launcher"),
    ],
)
def test_bad_flags_are_named(overrides, fragment):
    with pytest.raises(ManifestError, match=fragment):
        manifests(workers=2, **{**_ARGS, **overrides})


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
