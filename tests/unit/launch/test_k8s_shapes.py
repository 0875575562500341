"""Every shape launch.kubernetes renders is valid for the API server (and for the JobSet and
TFJob controllers), and each pod derives the cluster the harness expects from what it is given."""

import json
import re

import jsonschema
import kubernetes_validate
import pytest

from launch.kubernetes import manifests, sweep_manifests
from strategies.cluster import cluster_info, derive_tf_config
from tests.support.k8s_schemas import KUBERNETES_VERSIONS, pod_templates, validate

_ARGS = dict(name="digits", image="registry.example/trainer:1", workdir="gs://bucket/runs/digits")

_SWEEP = dict(
    name="housing",
    image="registry.example/trainer:1",
    workdir="gs://b/sweeps/tpe",
    sweep_args=["--config=configs/california_mlp.py", "--sweep=configs/sweeps/california_tpe.py"],
    storage_secret="sweep-db",
)

_COMMON = dict(service_account="trainer", ttl_after_finished_s=86400, kueue_queue="team-a")

SHAPES = {
    "job": lambda: manifests(workers=3, **_ARGS),
    "job_gpu_evaluator_kueue": lambda: manifests(
        workers=2,
        gpus_per_worker=8,
        gpu_type="nvidia-h100-80gb",
        memory="64Gi",
        evaluator=True,
        **_COMMON,
        **_ARGS,
    ),
    "jobset": lambda: manifests(output="jobset", workers=4, gpus_per_worker=1, **_ARGS),
    "jobset_evaluator_kueue": lambda: manifests(
        output="jobset", workers=2, evaluator=True, **_COMMON, **_ARGS
    ),
    "tfjob": lambda: manifests(output="tfjob", workers=2, gpus_per_worker=2, **_ARGS),
    "tfjob_evaluator_kueue": lambda: manifests(
        output="tfjob", workers=3, evaluator=True, **_COMMON, **_ARGS
    ),
    "tpu_single_host": lambda: manifests(
        tpu_type="tpu-v6e-slice", tpu_topology="2x4", memory="64Gi", **_COMMON, **_ARGS
    ),
    "tpu_single_host_evaluator": lambda: manifests(
        tpu_type="tpu-v5p-slice", tpu_topology="2x2x1", evaluator=True, **_COMMON, **_ARGS
    ),
    "sweep": lambda: sweep_manifests(pods=4, gpus_per_pod=1, gpu_type="nvidia-l4", **_SWEEP),
    "sweep_kueue": lambda: sweep_manifests(pods=2, **_COMMON, **_SWEEP),
}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_passes_strict_validation(shape, version):
    documents = SHAPES[shape]()
    assert documents
    for document in documents:
        validate(document, version)


def test_validation_is_strict_for_custom_resources_too():
    (jobset,) = manifests(output="jobset", **_ARGS)
    jobset["spec"]["failurePolicy"]["maxRestart"] = 3  # A typo the API server would refuse.
    with pytest.raises(jsonschema.ValidationError, match="maxRestart"):
        validate(jobset, "1.37.0")
    (jobset,) = manifests(output="jobset", **_ARGS)
    jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["hostname"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(jobset, "1.37.0")
    (tfjob,) = manifests(output="tfjob", **_ARGS)
    tfjob["spec"]["runPolicy"]["cleanPodPolicy"] = "Sometimes"
    with pytest.raises(AssertionError):
        validate(tfjob, "1.37.0")


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


def test_jobset_workers_derive_the_cluster_from_jobset_hostnames():
    (jobset,) = manifests(output="jobset", workers=3, port=2345, **_ARGS)
    assert jobset["spec"]["network"]["enableDNSHostnames"]  # The JobSet creates the Service.
    (workers,) = jobset["spec"]["replicatedJobs"]
    container = workers["template"]["spec"]["template"]["spec"]["containers"][0]
    # The labels the JobSet controller puts on each pod (pkg/controllers: labelAndAnnotateObject).
    labels = {
        "jobset.sigs.k8s.io/jobset-name": "digits",
        "jobset.sigs.k8s.io/replicatedjob-name": workers["name"],
        "jobset.sigs.k8s.io/job-index": "0",
        "jobset.sigs.k8s.io/replicatedjob-replicas": str(workers["replicas"]),
    }
    for index in range(3):
        environ = _environment(container, labels, JOB_COMPLETION_INDEX=str(index))
        tf_config = json.loads(derive_tf_config(environ))
        assert tf_config["cluster"]["worker"] == [
            f"digits-worker-0-{i}.digits:2345" for i in range(3)
        ]
        assert tf_config["task"] == {"type": "worker", "index": index}


def test_a_jobset_restarts_the_whole_group_and_fails_at_once_on_bad_input():
    (jobset,) = manifests(output="jobset", workers=2, retries=5, **_ARGS)
    policy = jobset["spec"]["failurePolicy"]
    assert policy["maxRestarts"] == 5 and policy["restartStrategy"] == "Recreate"
    (rule,) = policy["rules"]
    assert rule["action"] == "FailJobSet" and rule["onJobFailureReasons"] == ["PodFailurePolicy"]
    job = jobset["spec"]["replicatedJobs"][0]["template"]["spec"]
    assert job["backoffLimit"] == 0  # Any counted failure fails the Job: the JobSet restarts all.
    by_code = {
        code: r["action"]
        for r in job["podFailurePolicy"]["rules"]
        if "onExitCodes" in r
        for code in r["onExitCodes"]["values"]
    }
    assert by_code == {2: "FailJob", 42: "Ignore", 43: "Ignore", 44: "Ignore"}


def test_a_tfjob_retries_through_exit_code_138():
    (tfjob,) = manifests(output="tfjob", workers=2, retries=4, ttl_after_finished_s=60, **_ARGS)
    spec = tfjob["spec"]
    assert spec["runPolicy"] == {
        "backoffLimit": 4,
        "cleanPodPolicy": "Running",
        "ttlSecondsAfterFinished": 60,
    }
    (worker,) = spec["tfReplicaSpecs"].values()
    assert worker["replicas"] == 2 and worker["restartPolicy"] == "ExitCode"
    container = worker["template"]["spec"]["containers"][0]
    assert container["name"] == "tensorflow"  # Where the operator writes TF_CONFIG.
    assert {"name": "tfjob-port", "containerPort": 2222} in container["ports"]
    assert {"name": "TRAINER_RETRYABLE_EXIT_CODE", "value": "138"} in container["env"]
    # The operator does not count ExitCode restarts: the chief counts them in the workdir.
    assert {"name": "TRAINER_RESTART_BUDGET", "value": "4"} in container["env"]
    assert not any(v["name"].startswith("TRAINER_WORKERS") for v in container["env"])


def test_a_job_retries_a_node_going_away_without_counting_it():
    _, workers, evaluator = manifests(workers=2, evaluator=True, **_ARGS)

    def actions(job):
        return {
            code: rule["action"]
            for rule in job["spec"]["podFailurePolicy"]["rules"]
            if "onExitCodes" in rule
            for code in rule["onExitCodes"]["values"]
        }

    assert actions(workers) == {2: "FailJob", 42: "Ignore", 43: "Ignore", 44: "Ignore"}
    assert actions(evaluator) == {2: "FailJob", 42: "Ignore", 44: "Ignore"}


def test_the_evaluator_is_its_own_task_outside_the_training_cluster():
    _, workers, evaluator = manifests(workers=2, evaluator=True, gpus_per_worker=4, **_ARGS)
    assert evaluator["metadata"]["name"] == "digits-evaluator"
    pod = evaluator["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert "subdomain" not in pod and "--strategy" not in " ".join(container["args"])
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1  # One device, not 4.
    environ = _environment(container, {}, HOSTNAME="digits-evaluator-0-x2v9q")
    info = cluster_info(environ)
    assert info.task_type == "evaluator" and not info.is_chief  # trainer/main.py's test.
    assert json.loads(derive_tf_config(environ))["cluster"] == {
        "evaluator": ["digits-evaluator-0-x2v9q:2222"]
    }
    worker_env = workers["spec"]["template"]["spec"]["containers"][0]["env"]
    assert not any(v["name"] == "TRAINER_TASK_TYPE" for v in worker_env)


def test_a_bad_task_type_says_what_is_allowed():
    with pytest.raises(ValueError, match="must be 'worker' .* or 'evaluator'"):
        derive_tf_config({"TRAINER_TASK_TYPE": "chief", "JOB_COMPLETION_INDEX": "0"})


def test_the_tfjob_evaluator_keeps_running_when_worker_0_finishes():
    (tfjob,) = manifests(output="tfjob", evaluator=True, **_ARGS)
    assert set(tfjob["spec"]["tfReplicaSpecs"]) == {"Worker", "Evaluator"}
    assert tfjob["spec"]["runPolicy"]["cleanPodPolicy"] == "None"
    # The operator's TF_CONFIG for the evaluator lists the workers and the evaluator itself.
    tf_config = {
        "cluster": {
            "worker": ["digits-worker-0.ns.svc:2222", "digits-worker-1.ns.svc:2222"],
            "evaluator": ["digits-evaluator-0.ns.svc:2222"],
        },
        "task": {"type": "evaluator", "index": 0},
    }
    info = cluster_info({"TF_CONFIG": json.dumps(tf_config)})
    assert info.task_type == "evaluator" and info.num_workers == 2


@pytest.mark.parametrize(
    "tpu_type, topology, chips", [("tpu-v5p-slice", "2x2x1", 4), ("tpu-v6e-slice", "2x4", 8)]
)
def test_a_single_host_tpu_slice_is_one_pod(tpu_type, topology, chips):
    documents = manifests(tpu_type=tpu_type, tpu_topology=topology, **_ARGS)
    (document,) = documents  # No Service: one host needs none.
    assert document["kind"] == "Job" and document["spec"]["completions"] == 1
    (template,) = pod_templates(document)
    pod = template["spec"]
    assert pod["nodeSelector"] == {
        "cloud.google.com/gke-tpu-accelerator": tpu_type,
        "cloud.google.com/gke-tpu-topology": topology,
    }
    resources = pod["containers"][0]["resources"]
    assert resources["limits"]["google.com/tpu"] == chips
    assert resources["requests"]["google.com/tpu"] == chips
    args = pod["containers"][0]["args"]
    assert args[:2] == ["--strategy=tpu", "--tpu=local"]  # As launch/tpu_vm.sh runs one host.


def test_gpu_pods_land_on_their_gpu_type_with_room_in_dev_shm():
    _, job = manifests(gpus_per_worker=8, gpu_type="nvidia-h100-80gb", memory="200Gi", **_ARGS)
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert _dev_shm(pod) == {"medium": "Memory", "sizeLimit": "8Gi"}  # 1Gi per GPU.
    _, cpu_job = manifests(**_ARGS)
    assert _dev_shm(cpu_job["spec"]["template"]["spec"]) is None
    _, sized = manifests(gpus_per_worker=2, shm_size="16Gi", memory="32Gi", **_ARGS)
    assert _dev_shm(sized["spec"]["template"]["spec"])["sizeLimit"] == "16Gi"


def _dev_shm(pod: dict) -> dict | None:
    """The emptyDir the pod's container mounts at /dev/shm, or None."""
    mounted = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    name = mounted.get("/dev/shm")
    return volumes[name]["emptyDir"] if name else None


def test_kueue_workloads_are_created_suspended_with_the_queue_label():
    for documents in (
        manifests(kueue_queue="team-a", evaluator=True, **_ARGS)[1:],
        manifests(output="jobset", kueue_queue="team-a", **_ARGS),
        sweep_manifests(pods=2, kueue_queue="team-a", **_SWEEP),
    ):
        for document in documents:
            assert document["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
            assert document["spec"]["suspend"] is True
    (tfjob,) = manifests(output="tfjob", kueue_queue="team-a", **_ARGS)
    assert tfjob["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
    assert tfjob["spec"]["runPolicy"]["suspend"] is True
    _, job = manifests(**_ARGS)
    assert "suspend" not in job["spec"] and "kueue.x-k8s.io/queue-name" not in job["metadata"]


def test_sweep_pods_get_the_same_pod_settings():
    (job,) = sweep_manifests(
        pods=3,
        image_pull_policy="Always",
        gpus_per_pod=2,
        gpu_type="nvidia-l4",
        **_COMMON,
        **_SWEEP,
    )
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "trainer" and pod["securityContext"]["runAsUser"] == 1000
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "Always"
    assert container["command"] == ["dumb-init", "--", "python", "-m", "trainer.sweep"]


@pytest.mark.parametrize(
    "image, policy",
    [
        ("registry.example/trainer:1", "IfNotPresent"),
        ("registry.example:5000/team/trainer:v2.1", "IfNotPresent"),
        ("registry.example/trainer@sha256:" + "a" * 64, "IfNotPresent"),
        ("registry.example/trainer:latest", "Always"),
        ("registry.example:5000/trainer", "Always"),  # A port is not a tag.
        ("trainer", "Always"),
    ],
)
def test_the_pull_policy_follows_the_image_reference(image, policy):
    _, job = manifests(**{**_ARGS, "image": image})
    assert job["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == policy
    _, pinned = manifests(image_pull_policy="Never", **{**_ARGS, "image": image})
    assert pinned["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Never"
