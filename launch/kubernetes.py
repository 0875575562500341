"""Kubernetes manifests for N MultiWorkerMirrored workers: a headless Service and an Indexed Job
(or, with --sweep_pods, an Indexed Job of sweep processes sharing one study).

    python -m launch.kubernetes --name=digits --image=REGISTRY/trainer:TAG --workers=4 \
        --workdir=gs://BUCKET/runs/digits --gpus_per_worker=1 -- \
        --config=configs/digits_mlp.py --config.train.steps=5000 | kubectl apply -f -

Each pod learns its place from Kubernetes (JOB_COMPLETION_INDEX, its hostname `<name>-<i>` under
the Service `<name>`) and from TRAINER_WORKERS / TRAINER_SERVICE / TRAINER_PORT / TRAINER_JOB_NAME
set here; strategies/cluster.py turns that into TF_CONFIG. The Job's pod failure policy follows
the harness's exit codes: 2 (bad input) fails the Job at once; 42 (preempted, checkpoint saved)
and 43 (a peer was lost) are retried without counting against `--retries`, and so are pods
evicted or preempted by Kubernetes; any other failure (a crash, an OOM kill) counts. A retried pod
keeps its index and hostname, the workers meet again and resume from the latest checkpoint.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # strategies/ loads TensorFlow.

import re  # noqa: E402
import sys  # noqa: E402

import yaml  # noqa: E402
from absl import app, flags  # noqa: E402

from strategies.cluster import KUBERNETES_PORT  # noqa: E402
from trainer.errors import PREEMPTED_EXIT_CODE, PeerLost  # noqa: E402

CONTAINER = "trainer"
BAD_INPUT_EXIT_CODE = 2
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class ManifestError(ValueError):
    """A flag that would give manifests Kubernetes rejects or a cluster that cannot train."""


def manifests(
    *,
    name: str,
    image: str,
    workers: int,
    workdir: str,
    trainer_args=(),
    gpus_per_worker: int = 0,
    cpu: str = "2",
    memory: str = "8Gi",
    port: int = KUBERNETES_PORT,
    retries: int = 3,
    grace_s: int = 120,
) -> list[dict]:
    """The Service and the Job, as dicts ready for yaml.safe_dump_all."""
    _check_job(name=name, image=image, workdir=workdir)
    reserved = [a for a in trainer_args if a.split("=")[0] in ("--strategy", "--workdir")]
    if reserved:
        raise ManifestError(
            f"Trainer flags {reserved} are set by the launcher (--strategy=multi_worker_mirrored, "
            "--workdir from --workdir): remove them after '--'."
        )
    labels = {"app.kubernetes.io/name": "trainer", "app.kubernetes.io/instance": name}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "clusterIP": "None",  # Headless: DNS names for the pods, no load balancing.
            "publishNotReadyAddresses": True,  # Workers must find each other while starting.
            "selector": {"batch.kubernetes.io/job-name": name},
            "ports": [{"name": "grpc", "port": port, "targetPort": port}],
        },
    }
    container = {
        "name": CONTAINER,
        "image": image,
        "command": ["python", "-m", "trainer.main"],
        "args": ["--strategy=multi_worker_mirrored", f"--workdir={workdir}", *trainer_args],
        "env": [
            {"name": "TRAINER_WORKERS", "value": str(workers)},
            {"name": "TRAINER_SERVICE", "value": name},
            {"name": "TRAINER_PORT", "value": str(port)},
            {
                "name": "TRAINER_JOB_NAME",
                "valueFrom": {
                    "fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}
                },
            },
        ],
        "ports": [{"name": "grpc", "containerPort": port}],
        "resources": _resources(cpu, memory, gpus_per_worker),
    }
    job = _indexed_job(
        name=name,
        labels=labels,
        pods=workers,
        retries=retries,
        grace_s=grace_s,
        retried_codes=[PREEMPTED_EXIT_CODE, PeerLost.exit_code],
        container=container,
        subdomain=name,  # Hostnames <name>-<index>.<name>: the Service above.
    )
    return [service, job]


def _indexed_job(
    *, name, labels, pods, retries, grace_s, retried_codes, container, subdomain=None
) -> dict:
    """An Indexed Job of `pods` pods whose failure policy follows the harness's exit codes:
    bad input fails the Job; `retried_codes` and evictions retry without counting."""
    pod = {
        "restartPolicy": "Never",  # Required by podFailurePolicy.
        "terminationGracePeriodSeconds": grace_s,
        "containers": [container],
    }
    if subdomain:
        pod = {"subdomain": subdomain, **pod}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "completionMode": "Indexed",
            "completions": pods,
            "parallelism": pods,
            "backoffLimit": retries,
            "podFailurePolicy": {
                "rules": [
                    _on_exit_codes("FailJob", [BAD_INPUT_EXIT_CODE]),
                    _on_exit_codes("Ignore", retried_codes),
                    {
                        "action": "Ignore",
                        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
                    },
                ]
            },
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod},  # No YAML anchor.
        },
    }


def _resources(cpu: str, memory: str, gpus: int) -> dict:
    resources = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}
    if gpus:
        resources["limits"]["nvidia.com/gpu"] = gpus
    return resources


def sweep_manifests(
    *,
    name: str,
    image: str,
    pods: int,
    workdir: str,
    sweep_args=(),
    storage_secret: str = "",
    gpus_per_pod: int = 0,
    cpu: str = "2",
    memory: str = "8Gi",
    retries: int = 3,
    grace_s: int = 120,
) -> list[dict]:
    """An Indexed Job of `pods` sweep processes (`python -m trainer.sweep`) sharing one study.

    The study lives in a database every pod reaches; its URL (with the password) comes from the
    Secret `storage_secret` (key `url`) as TRAINER_SWEEP_STORAGE, or from --storage after
    '--'. Each pod asks the study for trials until the budget (--trials) is spent; pods need
    no Service (they never talk to each other). A pod stopped by SIGTERM saves its trial and
    exits 42: retried without counting, and the trial resumes from its checkpoint.
    """
    _check_job(name=name, image=image, workdir=workdir)
    given_storage = any(a.startswith("--storage=") for a in sweep_args)
    if bool(storage_secret) == given_storage:
        raise ManifestError(
            "Name the study's database once: --storage_secret=SECRET (a Secret whose key `url` "
            "holds postgresql://USER:PASSWORD@HOST/DB; kubectl create secret generic SECRET "
            "--from-literal=url=...), or --storage=URL after '--'."
        )
    reserved = [a for a in sweep_args if a.split("=")[0] == "--workdir"]
    if reserved:
        raise ManifestError(f"{reserved} is set by the launcher's --workdir: remove it after '--'.")
    labels = {"app.kubernetes.io/name": "trainer-sweep", "app.kubernetes.io/instance": name}
    env = []
    if storage_secret:
        secret = {"name": storage_secret, "key": "url"}
        env.append({"name": "TRAINER_SWEEP_STORAGE", "valueFrom": {"secretKeyRef": secret}})
    container = {
        "name": CONTAINER,
        "image": image,
        "command": ["python", "-m", "trainer.sweep"],
        "args": [f"--workdir={workdir}", *sweep_args],
        "env": env,
        "resources": _resources(cpu, memory, gpus_per_pod),
    }
    # JOB_COMPLETION_INDEX seeds each pod's sampler; pods need no Service.
    job = _indexed_job(
        name=name,
        labels=labels,
        pods=pods,
        retries=retries,
        grace_s=grace_s,
        retried_codes=[PREEMPTED_EXIT_CODE],
        container=container,
    )
    return [job]


def _check_job(*, name: str, image: str, workdir: str) -> None:
    # Pod hostnames are `<name>-<index>` and must stay a DNS label (63 characters).
    if not name or len(name) > 50 or not _DNS_LABEL.match(name):
        raise ManifestError(
            f"--name={name!r} must be 1-50 lowercase letters, digits or '-', starting with a "
            "letter (pods are named <name>-<index>)."
        )
    if not image:
        raise ManifestError("--image is required: build and push this repo's Dockerfile.")
    if not workdir or "://" not in workdir:
        raise ManifestError(
            f"--workdir={workdir!r} must be storage every pod reaches, such as gs://BUCKET/run: "
            "a pod's local disk is gone when it is rescheduled, and with it the checkpoints."
        )


def _on_exit_codes(action: str, codes: list[int]) -> dict:
    return {
        "action": action,
        "onExitCodes": {"containerName": CONTAINER, "operator": "In", "values": codes},
    }


def define_flags() -> None:
    """The command line's flags (defined here, not at import: tests import several launchers)."""
    flags.DEFINE_string("name", None, "Job and Service name (lowercase, digits, '-').")
    flags.DEFINE_string("image", None, "Container image built from this repo's Dockerfile.")
    flags.DEFINE_integer("workers", 2, "Worker pods.", lower_bound=1)
    flags.DEFINE_string("workdir", None, "Shared workdir every pod reaches (gs://...).")
    flags.DEFINE_integer("gpus_per_worker", 0, "nvidia.com/gpu per pod.", lower_bound=0)
    flags.DEFINE_string("cpu", "2", "CPU request per pod.")
    flags.DEFINE_string("memory", "8Gi", "Memory request (and limit) per pod.")
    flags.DEFINE_integer("port", KUBERNETES_PORT, "Each worker's gRPC port.")
    flags.DEFINE_integer("retries", 3, "Counted pod failures before the Job fails.")
    flags.DEFINE_integer(
        "grace_s", 120, "Seconds from SIGTERM to SIGKILL: time for every worker to save."
    )
    flags.DEFINE_string("out", "-", "Where to write the YAML ('-' = stdout).")
    flags.DEFINE_integer(
        "sweep_pods",
        0,
        "Render a hyperparameter sweep instead: this many pods of `python -m trainer.sweep` "
        "(flags after '--' go to it) sharing one study.",
        lower_bound=0,
    )
    flags.DEFINE_string(
        "storage_secret", "", "Sweeps: the Secret whose key `url` holds the study's database URL."
    )


def main(argv):
    FLAGS = flags.FLAGS
    common = dict(
        name=FLAGS.name,
        image=FLAGS.image,
        workdir=FLAGS.workdir,
        cpu=FLAGS.cpu,
        memory=FLAGS.memory,
        retries=FLAGS.retries,
        grace_s=FLAGS.grace_s,
    )
    try:
        if FLAGS.sweep_pods:
            documents = sweep_manifests(
                pods=FLAGS.sweep_pods,
                sweep_args=argv[1:],
                storage_secret=FLAGS.storage_secret,
                gpus_per_pod=FLAGS.gpus_per_worker,
                **common,
            )
        else:
            documents = manifests(
                workers=FLAGS.workers,
                trainer_args=argv[1:],
                gpus_per_worker=FLAGS.gpus_per_worker,
                port=FLAGS.port,
                **common,
            )
    except ManifestError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    text = yaml.safe_dump_all(documents, sort_keys=False)
    if FLAGS.out == "-":
        sys.stdout.write(text)
    else:
        with open(FLAGS.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    define_flags()
    app.run(main)
