"""The pod template every shape shares: what runs, as whom, on which nodes, with what resources.

Each pod passes the Kubernetes "restricted" Pod Security Standard
(tests/unit/launch/test_k8s_pod_security.py checks every rule): it runs as the Dockerfile's user
1000, never as root, with no capabilities, no privilege escalation and the runtime's default seccomp
profile, and mounts only an emptyDir.
"""

import dataclasses

from launch.k8s.accelerators import (
    GPU_NODE_LABEL,
    GPU_RESOURCE,
    TPU_NODE_LABEL,
    TPU_RESOURCE,
    TPU_TOPOLOGY_LABEL,
    TpuSlice,
)
from launch.k8s.options import Options

CONTAINER = "trainer"
RUN_AS = 1000  # The Dockerfile's user and group `trainer` (useradd --uid 1000).
SHM_VOLUME = "dshm"


@dataclasses.dataclass(frozen=True)
class Accelerators:
    """What one pod takes: GPUs of `--gpu_type` (any type if unset) or one host of a TPU slice."""

    gpus: int = 0
    tpu: TpuSlice | None = None


def for_workers(o: Options) -> Accelerators:
    return Accelerators(gpus=o.gpus_per_worker, tpu=o.tpu)


def for_evaluator(o: Options) -> Accelerators:
    """One GPU if the workers have GPUs; on CPUs beside a TPU slice (the evaluator runs the
    one-device strategy, and a TPU host belongs to its slice)."""
    return Accelerators(gpus=min(o.gpus_per_worker, 1))


def labels(o: Options, component: str | None = None) -> dict:
    """`kubectl get,delete all -l app.kubernetes.io/instance=NAME` finds everything of a launch."""
    found = {
        "app.kubernetes.io/name": "trainer-sweep" if o.is_sweep else "trainer",
        "app.kubernetes.io/instance": o.name,
    }
    if component:
        found["app.kubernetes.io/component"] = component
    return found


def pod_template(
    o: Options,
    *,
    module: str,
    args: list[str],
    env: list[dict],
    accelerators: Accelerators,
    component: str,
    container_name: str = CONTAINER,
    ports: tuple[dict, ...] = (),
    shm_size: str = "",
    subdomain: str | None = None,
    restart_policy: str | None = "Never",
) -> dict:
    """A PodTemplateSpec running `python -m module args` under dumb-init, the image's PID 1.

    Setting `command` replaces the image's ENTRYPOINT, so it names dumb-init again: as PID 1,
    Python would ignore SIGTERM until the harness installs its handler (docs/workers.md).
    """
    container = {
        "name": container_name,
        "image": o.image,
        "imagePullPolicy": o.image_pull_policy,
        "command": ["dumb-init", "--", "python", "-m", module],
        "args": args,
    }
    if env:
        container["env"] = env
    if ports:
        container["ports"] = list(ports)
    container["resources"] = _resources(o, accelerators)
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    spec = {}
    if subdomain:
        spec["subdomain"] = subdomain  # Hostnames <pod>.<subdomain>: the headless Service.
    if restart_policy:
        spec["restartPolicy"] = restart_policy  # Never: podFailurePolicy decides retries.
    spec["terminationGracePeriodSeconds"] = o.grace_s
    if o.service_account:
        spec["serviceAccountName"] = o.service_account  # Workload Identity: docs/kubernetes.md
    spec["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    node_selector, tolerations = _placement(o, accelerators)
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    spec["containers"] = [container]
    if shm_size:
        # The runtime's default 64 MB /dev/shm is too small for NCCL between the GPUs of a pod;
        # a memory-backed emptyDir replaces it, charged to the pod's memory.
        container["volumeMounts"] = [{"name": SHM_VOLUME, "mountPath": "/dev/shm"}]
        spec["volumes"] = [
            {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": shm_size}}
        ]
    return {"metadata": {"labels": labels(o, component)}, "spec": spec}


def _resources(o: Options, accelerators: Accelerators) -> dict:
    # Memory limit = request: a pod over its request is the first evicted under pressure; CPU
    # has no limit, so the input pipeline may use idle cores without being throttled.
    requests = {"cpu": o.cpu, "memory": o.memory}
    limits = {"memory": o.memory}
    if accelerators.gpus:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = accelerators.gpus
    if accelerators.tpu:
        requests[TPU_RESOURCE] = limits[TPU_RESOURCE] = accelerators.tpu.chips_per_host
    return {"requests": requests, "limits": limits}


def _placement(o: Options, accelerators: Accelerators) -> tuple[dict, list[dict]]:
    """Node labels GKE puts on accelerator nodes, and tolerations for the taints it puts there."""
    if accelerators.tpu:
        selector = {
            TPU_NODE_LABEL: accelerators.tpu.tpu_type,
            TPU_TOPOLOGY_LABEL: accelerators.tpu.topology,
        }
        return selector, [_tolerate(TPU_RESOURCE)]
    if accelerators.gpus:
        selector = {GPU_NODE_LABEL: o.gpu_type} if o.gpu_type else {}
        return selector, [_tolerate(GPU_RESOURCE)]
    return {}, []


def _tolerate(taint: str) -> dict:
    return {"key": taint, "operator": "Exists", "effect": "NoSchedule"}
