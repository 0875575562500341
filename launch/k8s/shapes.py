"""The workloads, one function per shape, each a list of documents for `kubectl apply -f -`.

job     a headless Service and an Indexed Job of workers (+ a Job for the evaluator). The
        Service cannot be owned by the Job (an ownerReference needs the Job's uid, which exists
        only once it is created); both carry app.kubernetes.io/instance=NAME, so
        `kubectl delete job,service -l app.kubernetes.io/instance=NAME` removes them together.
jobset  one JobSet: the JobSet controller creates the headless Service and owns it, restarts
        every worker together after a failure (a worker that crashed leaves the others waiting
        in collectives), and deletes everything with the JobSet.
tfjob   a Kubeflow TFJob: the training operator writes TF_CONFIG and a Service per pod itself;
        its ExitCode policy retries only exit codes 130, 137, 143 and 138, so the pods set
        TRAINER_RETRYABLE_EXIT_CODE=138 (trainer/errors.py) and exit 138 where they would exit
        42, 43, 44 or 75. The operator does not count ExitCode restarts against backoffLimit, so
        the workers also get TRAINER_RESTART_BUDGET=--retries: the chief counts its starts in
        WORKDIR/restarts.json and exits 2 once they exceed it (trainer/workdir/restarts.py). A
        crash (exit 1) is not retried (docs/kubernetes.md).
sweep   an Indexed Job of `trainer.sweep` pods sharing one study; no Service (pods never talk).

Exit codes (trainer/errors.py) drive every retry: 2 (bad input) fails the workload at once;
42 (preempted, checkpoint saved), 43 (a peer was lost) and 44 (the node's VM is being preempted:
the new pod runs once placed on a node not going away) retry without counting, as do Kubernetes'
own evictions; anything else (a crash, an OOM kill) counts against --retries (a TFJob counts
differently: see above).
"""

from launch.k8s.options import Options, resolved
from launch.k8s.pods import CONTAINER, for_evaluator, for_workers, labels, pod_template
from strategies.cluster import TASK_TYPE_VARIABLE
from trainer.errors import (
    BAD_INPUT_EXIT_CODE,
    HOST_PREEMPTED_EXIT_CODE,
    PEER_LOST_EXIT_CODE,
    PREEMPTED_EXIT_CODE,
    RESTART_BUDGET_VARIABLE,
    RETRYABLE_EXIT_VARIABLE,
)

TFJOB_CONTAINER = "tensorflow"  # The training operator writes TF_CONFIG into this container only.
TFJOB_PORT_NAME = "tfjob-port"  # ... and reads each task's port from the port of this name.
TFJOB_RETRYABLE_EXIT_CODE = 138  # 128 + SIGUSR1: the code TFJob's ExitCode policy reserves.
# Retried without counting: saved on a notice (a new pod of a preempted node lands elsewhere), or
# stopped because a peer was lost. The evaluator has no peers.
WORKER_RETRIED_CODES = [PREEMPTED_EXIT_CODE, PEER_LOST_EXIT_CODE, HOST_PREEMPTED_EXIT_CODE]
EVALUATOR_RETRIED_CODES = [PREEMPTED_EXIT_CODE, HOST_PREEMPTED_EXIT_CODE]
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
JOBSET_API = "jobset.x-k8s.io/v1alpha2"
TFJOB_API = "kubeflow.org/v1"
WORKER, EVALUATOR = "worker", "evaluator"
_JOBSET_LABEL = "jobset.sigs.k8s.io/"


def render(options: Options) -> list[dict]:
    """The documents for `options` (checked first: ManifestError before anything renders)."""
    o = resolved(options)
    if o.is_sweep:
        return [_sweep_job(o)]
    return {"job": _job_shape, "jobset": _jobset_shape, "tfjob": _tfjob_shape}[o.output](o)


def _job_shape(o: Options) -> list[dict]:
    documents, env, subdomain = [], _worker_env(o), None
    if not o.tpu:  # A single-host TPU slice is one pod alone: no peers to find.
        documents.append(_headless_service(o))
        subdomain = o.name  # Hostnames <name>-<index>.<name>: the Service.
        env += [
            {"name": "TRAINER_SERVICE", "value": o.name},
            {
                "name": "TRAINER_JOB_NAME",
                "valueFrom": _field("metadata.labels['batch.kubernetes.io/job-name']"),
            },
        ]
    documents.append(
        _job(
            o,
            name=o.name,
            pods=o.workers,
            backoff_limit=o.retries,
            retried_codes=WORKER_RETRIED_CODES,
            template=_worker_template(o, env, subdomain=subdomain),
        )
    )
    if o.evaluator:
        documents.append(
            _job(
                o,
                name=f"{o.name}-{EVALUATOR}",
                pods=1,
                backoff_limit=o.retries,
                retried_codes=EVALUATOR_RETRIED_CODES,
                template=_evaluator_template(o),
            )
        )
    return documents


def _headless_service(o: Options) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": o.name, "labels": labels(o)},
        "spec": {
            "clusterIP": "None",  # Headless: DNS names for the pods, no load balancing.
            "publishNotReadyAddresses": True,  # Workers must find each other while starting.
            "selector": {"batch.kubernetes.io/job-name": o.name},
            "ports": [{"name": "grpc", "port": o.port, "targetPort": o.port}],
        },
    }


def _jobset_shape(o: Options) -> list[dict]:
    """Every failure that counts recreates all Jobs (the Jobs' backoffLimit is 0), up to
    --retries times; bad input fails the JobSet instead of retrying it."""
    env = _worker_env(o)
    if not o.tpu:
        # cluster.derive_tf_config rebuilds the JobSet's pod hostnames from these labels.
        env += [
            {"name": name, "valueFrom": _field(f"metadata.labels['{_JOBSET_LABEL}{label}']")}
            for name, label in (
                ("JOBSET_NAME", "jobset-name"),
                ("REPLICATED_JOB_NAME", "replicatedjob-name"),
                ("JOB_INDEX", "job-index"),
                ("REPLICATED_JOB_REPLICAS", "replicatedjob-replicas"),
            )
        ]
    replicated = [
        {
            "name": WORKER,
            "replicas": 1,
            "template": _job_template(
                pods=o.workers,
                backoff_limit=0,
                retried_codes=WORKER_RETRIED_CODES,
                template=_worker_template(o, env),  # JobSet sets the subdomain itself.
            ),
        }
    ]
    if o.evaluator:
        replicated.append(
            {
                "name": EVALUATOR,
                "replicas": 1,
                "template": _job_template(
                    pods=1,
                    backoff_limit=0,
                    retried_codes=EVALUATOR_RETRIED_CODES,
                    template=_evaluator_template(o),
                ),
            }
        )
    spec = _suspended_for_kueue(o)
    _set_ttl(o, spec)
    spec.update(
        {
            "failurePolicy": {
                "maxRestarts": o.retries,
                "restartStrategy": "Recreate",
                "rules": [
                    {
                        # A Job whose podFailurePolicy matched exit code 2 fails with this reason.
                        "name": "bad_input",
                        "action": "FailJobSet",
                        "onJobFailureReasons": ["PodFailurePolicy"],
                    }
                ],
            },
            "network": {"enableDNSHostnames": True, "publishNotReadyAddresses": True},
            "replicatedJobs": replicated,
        }
    )
    return [{"apiVersion": JOBSET_API, "kind": "JobSet", "metadata": _metadata(o), "spec": spec}]


def _tfjob_shape(o: Options) -> list[dict]:
    retry_as = {"name": RETRYABLE_EXIT_VARIABLE, "value": str(TFJOB_RETRYABLE_EXIT_CODE)}
    # The operator does not count ExitCode restarts against backoffLimit: the chief counts them.
    restart_budget = {"name": RESTART_BUDGET_VARIABLE, "value": str(o.retries)}
    port = {"name": TFJOB_PORT_NAME, "containerPort": o.port}
    worker = pod_template(
        o,
        module="trainer.main",
        args=_worker_args(o),
        env=[retry_as, restart_budget],  # TF_CONFIG comes from the operator.
        accelerators=for_workers(o),
        component=WORKER,
        container_name=TFJOB_CONTAINER,
        ports=(port,),
        shm_size=o.shm_size,
        restart_policy=None,  # The replica's restartPolicy sets it.
    )
    replicas = {"Worker": _tfjob_replicas(o.workers, worker)}
    if o.evaluator:
        evaluator = pod_template(
            o,
            module="trainer.main",
            args=[f"--workdir={o.workdir}", *o.args],
            env=[retry_as],
            accelerators=for_evaluator(o),
            component=EVALUATOR,
            container_name=TFJOB_CONTAINER,
            ports=(port,),
            restart_policy=None,
        )
        replicas["Evaluator"] = _tfjob_replicas(1, evaluator)
    run_policy = {
        "backoffLimit": o.retries,
        # Running: when worker 0 succeeds, stragglers are stopped and free their GPUs. With an
        # evaluator, None: it is still evaluating the last checkpoint and stops by itself.
        "cleanPodPolicy": "None" if o.evaluator else "Running",
    }
    _set_ttl(o, run_policy)
    if o.kueue_queue:
        run_policy["suspend"] = True
    spec = {"runPolicy": run_policy, "tfReplicaSpecs": replicas}
    return [{"apiVersion": TFJOB_API, "kind": "TFJob", "metadata": _metadata(o), "spec": spec}]


def _tfjob_replicas(count: int, template: dict) -> dict:
    return {"replicas": count, "restartPolicy": "ExitCode", "template": template}


def _sweep_job(o: Options) -> dict:
    """Each pod asks the study for trials until its budget (--trials) is spent; a pod stopped by
    SIGTERM saves its trial and exits 42: retried without counting, the trial resumes. The
    study's URL (with its password) comes from the Secret --storage_secret, key `url`."""
    env = []
    if o.storage_secret:
        secret = {"name": o.storage_secret, "key": "url"}
        env.append({"name": "TRAINER_SWEEP_STORAGE", "valueFrom": {"secretKeyRef": secret}})
    # JOB_COMPLETION_INDEX (set by Kubernetes) seeds each pod's sampler.
    template = pod_template(
        o,
        module="trainer.sweep",
        args=[f"--workdir={o.workdir}", *o.args],
        env=env,
        accelerators=for_workers(o),
        component="sweep",
        shm_size=o.shm_size,
    )
    return _job(
        o,
        name=o.name,
        pods=o.workers,
        backoff_limit=o.retries,
        retried_codes=[PREEMPTED_EXIT_CODE],  # 75 (database not ready) counts, and is retried.
        template=template,
    )


def _worker_args(o: Options) -> list[str]:
    strategy = ["--strategy=tpu", "--tpu=local"] if o.tpu else ["--strategy=multi_worker_mirrored"]
    return [*strategy, f"--workdir={o.workdir}", *o.args]


def _worker_env(o: Options) -> list[dict]:
    """What strategies/cluster.py needs beyond Kubernetes' own variables to build TF_CONFIG.
    A TPU slice is one host here (launch/k8s/options.py refuses more): no peers, no TF_CONFIG."""
    if o.tpu:
        return []
    return [
        {"name": "TRAINER_WORKERS", "value": str(o.workers)},
        {"name": "TRAINER_PORT", "value": str(o.port)},
    ]


def _worker_template(o: Options, env: list[dict], subdomain: str | None = None) -> dict:
    ports = () if o.tpu else ({"name": "grpc", "containerPort": o.port},)
    return pod_template(
        o,
        module="trainer.main",
        args=_worker_args(o),
        env=env,
        accelerators=for_workers(o),
        component=WORKER,
        ports=ports,
        shm_size=o.shm_size,
        subdomain=subdomain,
    )


def _evaluator_template(o: Options) -> dict:
    """trainer.main as the `evaluator` task (trainer/run/evaluator.py): it follows the chief's
    checkpoints in the workdir and writes WORKDIR/evaluator/; it needs no --strategy."""
    return pod_template(
        o,
        module="trainer.main",
        args=[f"--workdir={o.workdir}", *o.args],
        env=[{"name": TASK_TYPE_VARIABLE, "value": EVALUATOR}],
        accelerators=for_evaluator(o),
        component=EVALUATOR,
    )


def _job(o: Options, *, name: str, pods: int, backoff_limit: int, retried_codes, template) -> dict:
    spec = _suspended_for_kueue(o)
    _set_ttl(o, spec)
    spec.update(
        _job_template(
            pods=pods,
            backoff_limit=backoff_limit,
            retried_codes=retried_codes,
            template=template,
        )["spec"]
    )
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _metadata(o, name), "spec": spec}


def _job_template(*, pods: int, backoff_limit: int, retried_codes, template) -> dict:
    """A JobTemplateSpec of `pods` indexed pods whose failure policy follows the exit codes."""
    spec = {
        "completionMode": "Indexed",
        "completions": pods,
        "parallelism": pods,
        "backoffLimit": backoff_limit,
        "podFailurePolicy": {
            "rules": [
                _on_exit_codes("FailJob", [BAD_INPUT_EXIT_CODE]),
                _on_exit_codes("Ignore", retried_codes),
                {
                    "action": "Ignore",  # Evicted, preempted or drained by Kubernetes.
                    "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
                },
            ]
        },
        "template": template,
    }
    return {"spec": spec}


def _on_exit_codes(action: str, codes: list[int]) -> dict:
    return {
        "action": action,
        "onExitCodes": {"containerName": CONTAINER, "operator": "In", "values": codes},
    }


def _metadata(o: Options, name: str | None = None) -> dict:
    found = labels(o)
    if o.kueue_queue:
        found[KUEUE_QUEUE_LABEL] = o.kueue_queue  # Kueue admits the workload from this queue.
    return {"name": name or o.name, "labels": found}


def _suspended_for_kueue(o: Options) -> dict:
    """Kueue unsuspends a workload once its queue admits it; created running, it would start
    before Kueue sees it and bypass the quota."""
    return {"suspend": True} if o.kueue_queue else {}


def _set_ttl(o: Options, spec: dict) -> None:
    if o.ttl_after_finished_s is not None:
        spec["ttlSecondsAfterFinished"] = o.ttl_after_finished_s


def _field(path: str) -> dict:
    return {"fieldRef": {"fieldPath": path}}
