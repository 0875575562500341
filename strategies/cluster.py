"""Who this process is in the cluster, parsed from TF_CONFIG the way tf.distribute reads it."""

import dataclasses
import json
import os


@dataclasses.dataclass(frozen=True)
class ClusterInfo:
    """This process's place in the cluster. A lone process is a cluster of one chief."""

    task_type: str | None
    task_id: int
    num_workers: int  # Tasks that train: chief + workers (not evaluators or parameter servers).
    has_chief_task: bool = False  # The cluster names a separate `chief` task.

    @property
    def is_chief(self) -> bool:
        """The chief writes the workdir: task type `chief`, else worker 0, else a lone process."""
        if self.task_type in (None, "chief"):
            return True
        return self.task_type == "worker" and self.task_id == 0 and not self.has_chief_task


def cluster_info(environ=None) -> ClusterInfo:
    """This process's ClusterInfo, from TF_CONFIG or Kubernetes; ValueError names what is wrong."""
    environ = os.environ if environ is None else environ
    raw = (derive_tf_config(environ) or "").strip()
    if not raw:
        return ClusterInfo(task_type=None, task_id=0, num_workers=1)
    example = '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}'
    try:
        tf_config = json.loads(raw)
        cluster = tf_config.get("cluster", {})
        task = tf_config.get("task", {})
        task_type, task_id = task.get("type"), int(task.get("index", 0))
    except (ValueError, AttributeError, TypeError) as e:
        raise ValueError(f"TF_CONFIG must be JSON like {example}; got {raw[:200]!r}") from e
    if cluster and task_type not in cluster:
        raise ValueError(
            f"TF_CONFIG task type {task_type!r} is not in its cluster {sorted(cluster)}: "
            "fix TF_CONFIG."
        )
    if cluster and not 0 <= task_id < len(cluster[task_type]):
        raise ValueError(
            f"TF_CONFIG task index {task_id} is out of range for the "
            f"{len(cluster[task_type])} {task_type!r} tasks of its cluster: fix TF_CONFIG."
        )
    num_workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    return ClusterInfo(
        task_type=task_type,
        task_id=task_id,
        num_workers=max(num_workers, 1),
        has_chief_task=bool(cluster.get("chief")),
    )


KUBERNETES_PORT = 2222  # Default port of each worker's gRPC server on Kubernetes.
TASK_TYPE_VARIABLE = "TRAINER_TASK_TYPE"  # `evaluator` on the evaluator pod; else a worker.


def derive_tf_config(environ=None) -> str | None:
    """TF_CONFIG for this process: as set, else derived from a Kubernetes Indexed Job or JobSet.

    Returns None outside a cluster. Kubernetes gives each pod its completion index; the manifest
    adds what Kubernetes does not say (docs/workers.md):
      TRAINER_WORKERS  pods per Job (the Job's `completions`), required;
      TRAINER_PORT     the port every worker listens on (default 2222);
    and, for an Indexed Job, TRAINER_SERVICE, the headless Service named as the pods' subdomain
    (pod hostnames are `<job>-<index>.<service>`). A JobSet names pods
    `<jobset>-<replicated job>-<job index>-<pod index>.<subdomain>`, the subdomain being the
    JobSet's name unless TRAINER_SUBDOMAIN says otherwise, with REPLICATED_JOB_REPLICAS Jobs.

    TRAINER_TASK_TYPE=evaluator marks the evaluator pod (launch.kubernetes --evaluator): a task
    of its own, outside the training cluster, as TensorFlow treats an `evaluator` (it needs no
    completion index and no addresses of the workers, which it never talks to).
    """
    environ = os.environ if environ is None else environ
    if environ.get("TF_CONFIG", "").strip():
        return environ["TF_CONFIG"]
    task_type = environ.get(TASK_TYPE_VARIABLE, "") or "worker"
    if task_type == "evaluator":
        port = _int_env(environ, "TRAINER_PORT", KUBERNETES_PORT)
        address = f"{environ.get('HOSTNAME') or 'localhost'}:{port}"
        return json.dumps(
            {"cluster": {"evaluator": [address]}, "task": {"type": "evaluator", "index": 0}}
        )
    if task_type != "worker":
        raise ValueError(
            f"{TASK_TYPE_VARIABLE}={task_type!r} must be 'worker' (the default) or 'evaluator'."
        )
    if "JOB_COMPLETION_INDEX" not in environ:
        return None
    pod_index = _int_env(environ, "JOB_COMPLETION_INDEX")
    workers_per_job = _int_env(environ, "TRAINER_WORKERS")
    port = _int_env(environ, "TRAINER_PORT", KUBERNETES_PORT)
    if environ.get("JOBSET_NAME"):
        jobset, replicated_job = environ["JOBSET_NAME"], _required(environ, "REPLICATED_JOB_NAME")
        subdomain = environ.get("TRAINER_SUBDOMAIN") or jobset
        jobs = _int_env(environ, "REPLICATED_JOB_REPLICAS", 1)
        job_index = _int_env(environ, "JOB_INDEX", 0)
        hosts = [
            f"{jobset}-{replicated_job}-{j}-{p}.{subdomain}:{port}"
            for j in range(jobs)
            for p in range(workers_per_job)
        ]
        index = job_index * workers_per_job + pod_index
    else:
        service = _required(environ, "TRAINER_SERVICE")
        job = environ.get("TRAINER_JOB_NAME") or _job_name_from_hostname(environ, pod_index)
        hosts = [f"{job}-{p}.{service}:{port}" for p in range(workers_per_job)]
        index = pod_index
    if not 0 <= index < len(hosts):
        raise ValueError(
            f"This pod's worker index {index} is outside the {len(hosts)} workers that "
            "TRAINER_WORKERS (and REPLICATED_JOB_REPLICAS) describe: make them match the Job."
        )
    return json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})


def export_tf_config(environ=None) -> str | None:
    """Puts the derived TF_CONFIG into `environ`, where MultiWorkerMirroredStrategy reads it."""
    environ = os.environ if environ is None else environ
    tf_config = derive_tf_config(environ)
    if tf_config and not environ.get("TF_CONFIG", "").strip():
        environ["TF_CONFIG"] = tf_config
    return tf_config


def _job_name_from_hostname(environ, pod_index: int) -> str:
    hostname = environ.get("HOSTNAME", "")
    suffix = f"-{pod_index}"
    if not hostname.endswith(suffix):
        raise ValueError(
            f"Cannot tell the Job's name from hostname {hostname!r} (an Indexed Job's pods are "
            f"named <job>{suffix}): set TRAINER_JOB_NAME from label batch.kubernetes.io/job-name."
        )
    return hostname[: -len(suffix)]


def _required(environ, name: str) -> str:
    if not environ.get(name):
        raise ValueError(
            f"{name} is not set: on Kubernetes the harness needs it to find the other workers "
            "(docs/workers.md, 'Several workers, preemption and failures')."
        )
    return environ[name]


def _int_env(environ, name: str, default: int | None = None) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        if default is None:
            _required(environ, name)
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise ValueError(f"{name}={raw!r} must be an integer.") from e
