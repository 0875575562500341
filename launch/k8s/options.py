"""The launch's options, and every check that must pass before anything is rendered.

`resolved(options)` either returns the options with every `auto` value decided (the shape, the
worker count of a TPU slice, the image pull policy, the size of /dev/shm) or raises
ManifestError with one line that names the flag, the bad value and the fix. A manifest that
reaches `kubectl apply` should not be refused by the API server or fail in its first minute.
"""

import dataclasses
import re

from launch.k8s.accelerators import GPUS_PER_NODE, TpuSlice, tpu_slice
from launch.k8s.quantity import GI, parse_quantity
from strategies.cluster import KUBERNETES_PORT

SHAPES = ("job", "jobset", "tfjob")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
SHM_GI_PER_GPU = 1  # NCCL's shared-memory transport between the GPUs of one pod lives in /dev/shm.
MAX_INT32 = 2**31 - 1  # backoffLimit, maxRestarts, ports and seconds are int32 in the API.
# Kubernetes names: a DNS-1035 label for the workload (its pods' hostnames derive from it), an
# RFC 1123 subdomain for a ServiceAccount or Secret, a label value for the Kueue queue.
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_HOSTNAME_LIMIT = 63  # A pod's hostname (and a Service's name) is one DNS label.


class ManifestError(ValueError):
    """A flag that would give manifests Kubernetes rejects or a cluster that cannot train."""


@dataclasses.dataclass(frozen=True)
class Options:
    """What the manifests depend on; the flags of launch.kubernetes carry the same names."""

    name: str
    image: str
    workdir: str
    args: tuple[str, ...] = ()  # After '--': trainer.main's flags (trainer.sweep's for sweeps).
    output: str = "auto"  # job, jobset, tfjob; auto = job.
    workers: int | None = None  # None: 2, or 1 on a TPU slice (one host).
    gpus_per_worker: int = 0
    gpu_type: str = ""
    tpu_type: str = ""
    tpu_topology: str = ""
    cpu: str = "2"
    memory: str = "8Gi"
    shm_size: str = ""  # "" = 1Gi per GPU; no /dev/shm volume without GPUs.
    port: int = KUBERNETES_PORT
    retries: int = 3
    grace_s: int = 120
    ttl_after_finished_s: int | None = None
    service_account: str = ""
    image_pull_policy: str = ""  # "" = from the image reference (see pull_policy_for).
    kueue_queue: str = ""
    evaluator: bool = False
    sweep_pods: int = 0  # > 0: a sweep of this many `trainer.sweep` pods instead of training.
    storage_secret: str = ""  # Sweeps: the Secret whose key `url` is the study's database.

    @property
    def tpu(self) -> TpuSlice | None:
        return tpu_slice(self.tpu_type, self.tpu_topology) if self.tpu_type else None

    @property
    def is_sweep(self) -> bool:
        return self.sweep_pods > 0


def resolved(options: Options) -> Options:
    """`options` checked, with each automatic choice made; ManifestError names the first fault."""
    _check_identity(options)
    _check_numbers(options)
    _check_names(options)
    tpu = _check_accelerators(options)
    shape = _check_shape(options, tpu)
    workers = _check_workers(options, tpu)
    shm_size = _check_memory(options)
    _check_args(options, tpu)
    done = dataclasses.replace(
        options,
        output=shape,
        workers=workers,
        shm_size=shm_size,
        image_pull_policy=options.image_pull_policy or pull_policy_for(options.image),
    )
    _check_hostnames(done)
    return done


def pull_policy_for(image: str) -> str:
    """Kubernetes' own default: Always for `:latest` or no tag (the tag moves), else
    IfNotPresent (a digest or a fixed tag names the same image on every node)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "IfNotPresent" if tag and tag != "latest" else "Always"


def _check_identity(o: Options) -> None:
    # The workload's pods are named <name>-...: one DNS label of 63 characters in all.
    if not o.name or len(o.name) > 50 or not _DNS_1035_LABEL.match(o.name):
        raise ManifestError(
            f"--name={o.name!r} must be 1-50 lowercase letters, digits or '-', starting with a "
            "letter (pods are named <name>-<index>)."
        )
    if not o.image:
        raise ManifestError("--image is required: build and push this repo's Dockerfile.")
    if any(c.isspace() for c in o.image):
        raise ManifestError(
            f"--image={o.image!r} must name a pushed image such as REGISTRY/trainer:TAG."
        )
    if not o.workdir or "://" not in o.workdir:
        raise ManifestError(
            f"--workdir={o.workdir!r} must be storage every pod reaches, such as gs://BUCKET/run: "
            "a pod's local disk is gone when it is rescheduled, and with it the checkpoints."
        )


def _check_numbers(o: Options) -> None:
    _in_range("--port", o.port, 1, 65535, "a TCP port")
    _in_range("--retries", o.retries, 0, MAX_INT32, "failures to retry; 0 fails at the first")
    _in_range("--grace_s", o.grace_s, 1, MAX_INT32, "seconds every worker has to save on SIGTERM")
    _in_range("--gpus_per_worker", o.gpus_per_worker, 0, MAX_INT32, "GPUs per pod")
    _in_range("--sweep_pods", o.sweep_pods, 0, MAX_INT32, "sweep pods; 0 trains instead")
    if o.workers is not None:
        _in_range("--workers", o.workers, 1, MAX_INT32, "worker pods")
    if o.ttl_after_finished_s is not None:
        _in_range(
            "--ttl_after_finished_s", o.ttl_after_finished_s, 0, MAX_INT32, "seconds to keep it"
        )


def _in_range(flag: str, value: int, low: int, high: int, meaning: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ManifestError(f"{flag}={value!r} must be {low}-{high} ({meaning}).")


def _check_names(o: Options) -> None:
    for flag, value, pattern, kind in (
        ("--service_account", o.service_account, _DNS_1123_SUBDOMAIN, "a ServiceAccount name"),
        ("--storage_secret", o.storage_secret, _DNS_1123_SUBDOMAIN, "a Secret name"),
        ("--kueue_queue", o.kueue_queue, _LABEL_VALUE, "a LocalQueue name (a label value)"),
    ):
        limit = 63 if pattern is _LABEL_VALUE else 253
        if value and (len(value) > limit or not pattern.match(value)):
            raise ManifestError(
                f"{flag}={value!r} is not {kind}: lowercase letters, digits, '-' and '.', "
                f"at most {limit} characters."
            )
    if o.image_pull_policy and o.image_pull_policy not in PULL_POLICIES:
        raise ManifestError(
            f"--image_pull_policy={o.image_pull_policy!r} must be one of "
            f"{', '.join(PULL_POLICIES)}, or empty to follow the image's tag."
        )


def _check_accelerators(o: Options) -> TpuSlice | None:
    if o.gpu_type and o.gpu_type not in GPUS_PER_NODE:
        raise ManifestError(
            f"--gpu_type={o.gpu_type!r} is not a GKE GPU type: use one of "
            f"{', '.join(sorted(GPUS_PER_NODE))}."
        )
    if o.gpu_type and not o.gpus_per_worker:
        raise ManifestError(f"--gpu_type={o.gpu_type} needs --gpus_per_worker=1 or more.")
    if o.gpu_type and o.gpus_per_worker > GPUS_PER_NODE[o.gpu_type]:
        raise ManifestError(
            f"--gpus_per_worker={o.gpus_per_worker} cannot schedule: a {o.gpu_type} node has at "
            f"most {GPUS_PER_NODE[o.gpu_type]}; use more --workers instead."
        )
    if bool(o.tpu_type) != bool(o.tpu_topology):
        raise ManifestError(
            "--tpu_type and --tpu_topology go together (e.g. --tpu_type=tpu-v5p-slice "
            "--tpu_topology=2x2x2): GKE places a slice by both node labels."
        )
    if not o.tpu_type:
        return None
    if o.gpus_per_worker or o.gpu_type:
        raise ManifestError("A pod takes GPUs or a TPU slice, not both: drop --gpus_per_worker.")
    if o.is_sweep:
        raise ManifestError(
            "Sweep pods run on CPUs or GPUs: drop --tpu_type, or train on the slice without "
            "--sweep_pods."
        )
    try:
        tpu = o.tpu
    except ValueError as e:
        raise ManifestError(str(e)) from e
    if tpu.multi_host:
        # TPUClusterResolver reaches the hosts of a slice through the Cloud TPU API's node, which
        # a GKE TPU node pool is not; GKE documents its multi-host slices for JAX and PyTorch.
        raise ManifestError(
            f"--tpu_topology={tpu.topology} is a slice of {tpu.hosts} hosts of {tpu.tpu_type}: "
            "TensorFlow runs a multi-host slice from one host through the Cloud TPU API, which "
            "GKE TPU node pools do not have; use a single-host topology on GKE (e.g. v5e/v6e "
            "2x4, v5p/v4 2x2x1) or launch/tpu_vm.sh for a multi-host slice."
        )
    return tpu


def _check_shape(o: Options, tpu: TpuSlice | None) -> str:
    if o.output not in ("auto", *SHAPES):
        raise ManifestError(f"--output={o.output!r} must be auto, {', '.join(SHAPES)}.")
    if o.is_sweep:
        if o.output not in ("auto", "job"):
            raise ManifestError(
                f"--output={o.output} does not apply to a sweep: sweep pods are independent "
                "(an Indexed Job); drop --output."
            )
        if o.evaluator:
            raise ManifestError("--evaluator evaluates a training run: drop it for --sweep_pods.")
        return "job"
    if tpu and o.output == "tfjob":
        raise ManifestError(
            "TFJob has no TPU slices: use --output=jobset (or job for a single-host slice)."
        )
    # A TPU slice here has one host (multi-host slices are refused above): a Job of one pod.
    return "job" if o.output == "auto" else o.output


def _check_workers(o: Options, tpu: TpuSlice | None) -> int:
    if o.is_sweep:
        if o.workers is not None:
            raise ManifestError("--workers is for training: a sweep has --sweep_pods pods.")
        return o.sweep_pods
    if tpu is None:
        return 2 if o.workers is None else o.workers
    if o.workers is not None and o.workers != tpu.hosts:
        raise ManifestError(
            f"--workers={o.workers} does not match the {tpu.topology} slice of {tpu.tpu_type}, "
            f"which has {tpu.hosts} host(s): drop --workers (one pod for the host)."
        )
    return tpu.hosts


def _check_memory(o: Options) -> str:
    """The /dev/shm size, checked to fit in the pod's memory (tmpfs pages count against it)."""
    values = {}
    for flag, text in (("--cpu", o.cpu), ("--memory", o.memory)):
        try:
            values[flag] = parse_quantity(text)
        except ValueError as e:
            raise ManifestError(f"{flag}: {e}.") from e
        if values[flag] <= 0:
            raise ManifestError(f"{flag}={text} must be more than 0.")
    shm_size = o.shm_size or (
        f"{SHM_GI_PER_GPU * o.gpus_per_worker}Gi" if o.gpus_per_worker else ""
    )
    if not shm_size:
        return ""
    try:
        shm = parse_quantity(shm_size)
    except ValueError as e:
        raise ManifestError(f"--shm_size: {e}.") from e
    if shm < 0:
        raise ManifestError(f"--shm_size={shm_size} must be 0 or more.")
    if shm >= values["--memory"]:
        raise ManifestError(
            f"--memory={o.memory} leaves nothing beside /dev/shm ({shm_size}, RAM that counts "
            f"against the pod's memory limit): raise --memory above {float(shm / GI):g}Gi or "
            "lower --shm_size."
        )
    return shm_size if shm else ""


def _check_args(o: Options, tpu: TpuSlice | None) -> None:
    if o.is_sweep:
        given_storage = any(a.startswith("--storage=") for a in o.args)
        if bool(o.storage_secret) == given_storage:
            raise ManifestError(
                "Name the study's database once: --storage_secret=SECRET (a Secret whose key "
                "`url` holds postgresql://USER:PASSWORD@HOST/DB; kubectl create secret generic "
                "SECRET --from-literal=url=...), or --storage=URL after '--'."
            )
        reserved = [a for a in o.args if a.split("=")[0] == "--workdir"]
        if reserved:
            raise ManifestError(
                f"{reserved} is set by the launcher's --workdir: remove it after '--'."
            )
        return
    if o.storage_secret:
        raise ManifestError("--storage_secret is for sweeps: add --sweep_pods=N or drop it.")
    launcher_flags = ("--strategy", "--workdir", "--tpu")
    reserved = [a for a in o.args if a.split("=")[0] in launcher_flags]
    if reserved:
        strategy = "tpu --tpu=local" if tpu else "multi_worker_mirrored"
        raise ManifestError(
            f"Trainer flags {reserved} are set by the launcher (--strategy={strategy}, "
            "--workdir from --workdir): remove them after '--'."
        )


def _check_hostnames(o: Options) -> None:
    """Every pod hostname (and Service name) the shape derives from --name fits in a DNS label."""
    last = o.workers - 1
    longest = {
        # An Indexed Job's pod hostname is <job>-<index>; the evaluator's Job is <name>-evaluator.
        "job": [f"{o.name}-{last}"] + ([f"{o.name}-evaluator"] if o.evaluator else []),
        # JobSet names pods <jobset>-<replicated job>-<job index>-<pod index>-<5 random>.
        "jobset": [f"{o.name}-worker-0-{last}-abcde"]
        + ([f"{o.name}-evaluator-0-0-abcde"] if o.evaluator else []),
        # The training operator gives each pod a Service <tfjob>-<replica type>-<index>.
        "tfjob": [f"{o.name}-worker-{last}"] + ([f"{o.name}-evaluator-0"] if o.evaluator else []),
    }[o.output]
    for hostname in longest:
        if len(hostname) > _HOSTNAME_LIMIT:
            room = len(o.name) - (len(hostname) - _HOSTNAME_LIMIT)
            raise ManifestError(
                f"--name={o.name!r} is too long for --output={o.output}: it names a pod "
                f"{hostname!r} ({len(hostname)} characters, over Kubernetes' "
                f"{_HOSTNAME_LIMIT}); shorten --name to {room} characters or fewer."
            )
