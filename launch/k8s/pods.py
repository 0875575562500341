"""The pod template every shape shares: what runs, as whom, on which nodes, with what resources.

Each pod passes the Kubernetes "restricted" Pod Security Standard
(tests/unit/launch/test_k8s_pod_security.py checks every rule): it runs as the Dockerfile's user
1000, never as root, with no capabilities, no privilege escalation and the runtime's default seccomp
profile. Beyond the standard, its root filesystem is read-only, with an emptyDir for each directory
the trainer writes (WRITABLE_DIRS; tests/e2e/test_read_only_root.py trains with nothing else
writable), and no Kubernetes API token is mounted: the trainer never calls the API server, and
Workload Identity does not need the token in the pod.
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
HOME = "/home/trainer"  # That user's home (useradd --create-home); its app/ holds the code.
SHM_VOLUME = "dshm"

# What the trainer and its libraries write at run time, {volume name: mount path}: each is an
# emptyDir on the node's disk, like the container layer it replaces. HOME itself stays read-only:
# an emptyDir there would hide the code (the Dockerfile's WORKDIR /home/trainer/app), so only the
# directories written under it are mounted. tests/e2e/test_read_only_root.py trains with exactly
# these writable; a library that writes elsewhere makes it fail.
WRITABLE_DIRS = {
    # tempfile's directory: the default workdir ($TMPDIR/trainer/<config>), export scratch, the
    # non-chief workers' scratch workdir, sweep trials' local copies; Keras 3's home, which is
    # /tmp/.keras when HOME is not writable (keras.json); libtpu's logs and lock file on TPUs.
    "tmp": "/tmp",
    # The download cache of trainer/data/csv_source.py; the keras.json of TensorFlow's own Keras.
    "keras-home": f"{HOME}/.keras",
    # The XDG directories: matplotlib makes its config directory at import and keeps its font
    # cache in the cache directory, as does tensorflow-datasets its community-datasets cache.
    "xdg-config": f"{HOME}/.config",
    "xdg-cache": f"{HOME}/.cache",
}
# CUDA's JIT cache ($CUDA_CACHE_PATH, by default ~/.nv/ComputeCache), on pods with GPUs only.
GPU_WRITABLE_DIRS = {"cuda-cache": f"{HOME}/.nv"}


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
        "readOnlyRootFilesystem": True,  # The trainer writes only to the emptyDirs mounted below.
    }
    spec = {}
    if subdomain:
        spec["subdomain"] = subdomain  # Hostnames <pod>.<subdomain>: the headless Service.
    if restart_policy:
        spec["restartPolicy"] = restart_policy  # Never: podFailurePolicy decides retries.
    spec["terminationGracePeriodSeconds"] = o.grace_s
    if o.service_account:
        spec["serviceAccountName"] = o.service_account  # Workload Identity: docs/kubernetes.md
    # Nothing in the pod calls the Kubernetes API (TF_CONFIG comes from variables and DNS), and
    # GKE's metadata server, not the pod, exchanges the service account's identity for Google
    # tokens: a token mounted in the pod would only serve whoever takes over the container.
    spec["automountServiceAccountToken"] = False
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
    spec["volumes"], container["volumeMounts"] = _volumes(accelerators, shm_size)
    return {"metadata": {"labels": labels(o, component)}, "spec": spec}


def _writable_dirs(accelerators: Accelerators) -> dict[str, str]:
    """{volume name: mount path} of the emptyDirs on disk that a pod taking `accelerators` gets."""
    if accelerators.gpus:
        return {**WRITABLE_DIRS, **GPU_WRITABLE_DIRS}
    return dict(WRITABLE_DIRS)


def _volumes(accelerators: Accelerators, shm_size: str) -> tuple[list[dict], list[dict]]:
    """The pod's volumes and the container's mounts of them."""
    dirs = _writable_dirs(accelerators)
    volumes = [{"name": name, "emptyDir": {}} for name in dirs]
    mounts = [{"name": name, "mountPath": path} for name, path in dirs.items()]
    if shm_size:
        # The runtime's default 64 MB /dev/shm is too small for NCCL between the GPUs of a pod;
        # a memory-backed emptyDir replaces it, charged to the pod's memory.
        volumes.append(
            {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": shm_size}}
        )
        mounts.append({"name": SHM_VOLUME, "mountPath": "/dev/shm"})
    return volumes, mounts


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
