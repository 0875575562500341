"""The Kubernetes manifests: valid for the API server, and each pod finds the cluster from them."""

import json

import kubernetes_validate
import pytest
import yaml

from launch.kubernetes import ManifestError, manifests, sweep_manifests, to_yaml
from strategies.cluster import derive_tf_config

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
    assert by_code == {2: "FailJob", 42: "Ignore", 43: "Ignore", 44: "Ignore"}
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


_SWEEP = dict(name="housing-tpe", image="registry.example/trainer:1", workdir="gs://b/sweeps/tpe")

_SWEEP_ARGS = ["--config=configs/california_mlp.py", "--sweep=configs/sweeps/california_tpe.py"]


@pytest.mark.parametrize("version", ["1.31.0", "1.37.0"])
def test_a_sweep_is_an_indexed_job_of_sweep_processes_sharing_one_study(version):
    (job,) = sweep_manifests(
        pods=4, sweep_args=[*_SWEEP_ARGS, "--trials=60"], storage_secret="sweep-db", **_SWEEP
    )
    kubernetes_validate.validate(job, version, strict=True)
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == 4
    container = spec["template"]["spec"]["containers"][0]
    assert container["command"] == ["dumb-init", "--", "python", "-m", "trainer.sweep"]
    assert container["args"] == ["--workdir=gs://b/sweeps/tpe", *_SWEEP_ARGS, "--trials=60"]
    (storage,) = container["env"]
    assert storage["name"] == "TRAINER_SWEEP_STORAGE"  # trainer.sweep's --storage default.
    assert storage["valueFrom"]["secretKeyRef"] == {"name": "sweep-db", "key": "url"}
    by_code = {
        code: rule["action"]
        for rule in spec["podFailurePolicy"]["rules"]
        if "onExitCodes" in rule
        for code in rule["onExitCodes"]["values"]
    }
    assert by_code == {2: "FailJob", 42: "Ignore"}  # 75 (database not ready) counts, retried.


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (dict(storage_secret=""), "Name the study's database once"),
        (dict(sweep_args=["--storage=postgresql://x@h/db"]), "Name the study's database once"),
        (dict(workdir="/tmp/sweep"), "must be storage every pod reaches"),
        (dict(sweep_args=["--workdir=gs://b/other"]), "set by the launcher's --workdir"),
        (dict(name="Bad_Name"), "lowercase"),
    ],
)
def test_bad_sweep_flags_are_named(overrides, fragment):
    args = dict(pods=2, sweep_args=_SWEEP_ARGS, storage_secret="db", **_SWEEP)
    args.update(overrides)
    with pytest.raises(ManifestError, match=fragment.replace("'", ".")):
        sweep_manifests(**args)


def test_the_yaml_has_no_anchors_or_aliases():
    documents = manifests(workers=2, evaluator=True, gpus_per_worker=1, **_ARGS)
    shared = {"app.kubernetes.io/name": "trainer"}
    for document in documents:  # Share one dict everywhere: a plain dumper would alias it.
        document["metadata"]["labels"] = shared
    text = to_yaml(documents)
    assert not any(marker in text for marker in ("&id", "*id", ": &", ": *", "- &", "- *"))
    assert list(yaml.safe_load_all(text)) == documents
