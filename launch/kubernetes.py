r"""Kubernetes manifests for the harness: N MultiWorkerMirrored workers, a TPU slice on GKE, an
evaluator beside them, or (with --sweep_pods) a hyperparameter sweep sharing one study.

    python -m launch.kubernetes --name=digits --image=REGISTRY/trainer:TAG --workers=4 \
        --workdir=gs://BUCKET/runs/digits --gpus_per_worker=8 --gpu_type=nvidia-h100-80gb \
        --cpu=96 --memory=512Gi --service_account=trainer --output=jobset -- \
        --config=configs/digits_mlp.py --config.train.steps=5000 | kubectl apply -f -

--output picks the shape (launch/k8s/shapes.py): `job` (a headless Service and an Indexed Job),
`jobset` (whole-group restarts) or `tfjob` (Kubeflow's
training operator). Each pod learns its place from Kubernetes and the TRAINER_* variables set
here; strategies/cluster.py turns them into TF_CONFIG. Retries follow the harness's exit codes
(trainer/errors.py): bad input fails at once, preemption and a lost peer retry without counting.
Every flag is checked before anything renders (launch/k8s/options.py): a bad one is one
`error:` line and exit code 2. docs/kubernetes.md covers Workload Identity for gs://, the
restricted Pod Security Standard, TPUs, Kueue and clean-up.

Nothing here loads TensorFlow: rendering takes a fraction of a second on a laptop without it.
"""

import sys

import yaml
from absl import app, flags

from launch.k8s.options import PULL_POLICIES, SHAPES, ManifestError, Options
from launch.k8s.shapes import render
from strategies.cluster import KUBERNETES_PORT
from trainer.cli.config_flag import parse_flags
from trainer.cli.console import fail

__all__ = ["ManifestError", "Options", "manifests", "render", "sweep_manifests"]


def manifests(*, name: str, image: str, workdir: str, trainer_args=(), **options) -> list[dict]:
    """The documents that train: keyword arguments are the fields of launch.k8s.options.Options
    (the flags of the same names); `trainer_args` go to trainer.main."""
    return render(
        Options(name=name, image=image, workdir=workdir, args=tuple(trainer_args), **options)
    )


def sweep_manifests(
    *,
    name: str,
    image: str,
    pods: int,
    workdir: str,
    sweep_args=(),
    gpus_per_pod: int = 0,
    **options,
) -> list[dict]:
    """An Indexed Job of `pods` sweep processes (`python -m trainer.sweep sweep_args`) sharing
    one study, named by `storage_secret` or by --storage=URL in `sweep_args`."""
    return render(
        Options(
            name=name,
            image=image,
            workdir=workdir,
            args=tuple(sweep_args),
            sweep_pods=pods,
            gpus_per_worker=gpus_per_pod,
            **options,
        )
    )


def define_flags() -> None:
    """The command line's flags (defined here, not at import: tests import several launchers)."""
    flags.DEFINE_string("name", None, "Workload name (lowercase, digits, '-'); pods derive theirs.")
    flags.DEFINE_string("image", None, "Container image built from this repo's Dockerfile.")
    flags.DEFINE_string("workdir", None, "Shared workdir every pod reaches (gs://...).")
    flags.DEFINE_enum(
        "output",
        "auto",
        ["auto", *SHAPES],
        "job (Service + Indexed Job), jobset (JobSet, whole-group restarts) or tfjob (Kubeflow "
        "TFJob); auto = job.",
    )
    flags.DEFINE_integer("workers", 2, "Worker pods (a TPU slice is one host: leave unset).")
    flags.DEFINE_integer("gpus_per_worker", 0, "nvidia.com/gpu per pod.")
    flags.DEFINE_string(
        "gpu_type", "", "GKE GPU type, e.g. nvidia-h100-80gb (node label gke-accelerator)."
    )
    flags.DEFINE_string("tpu_type", "", "GKE TPU type, e.g. tpu-v5p-slice (with --tpu_topology).")
    flags.DEFINE_string("tpu_topology", "", "TPU slice topology, e.g. 2x2x2 or 4x4.")
    flags.DEFINE_string("cpu", "2", "CPU request per pod (a Kubernetes quantity).")
    flags.DEFINE_string("memory", "8Gi", "Memory request and limit per pod (a quantity).")
    flags.DEFINE_string(
        "shm_size", "", "/dev/shm per pod, in memory (default: 1Gi per GPU, none without GPUs)."
    )
    flags.DEFINE_integer("port", KUBERNETES_PORT, "Each worker's gRPC port.")
    flags.DEFINE_integer("retries", 3, "Counted failures before the workload fails.")
    flags.DEFINE_integer(
        "grace_s", 120, "Seconds from SIGTERM to SIGKILL: time for every worker to save."
    )
    flags.DEFINE_integer(
        "ttl_after_finished_s",
        None,
        "ttlSecondsAfterFinished: delete the finished workload (pods and logs too) this many "
        "seconds after it ends. Unset: keep it.",
    )
    flags.DEFINE_string(
        "service_account", "", "The pods' Kubernetes ServiceAccount (Workload Identity for gs://)."
    )
    flags.DEFINE_string(
        "image_pull_policy",
        "",
        f"One of {', '.join(PULL_POLICIES)}; default IfNotPresent for a tag or digest, Always "
        "for :latest or no tag.",
    )
    flags.DEFINE_string(
        "kueue_queue", "", "Kueue LocalQueue: label kueue.x-k8s.io/queue-name, created suspended."
    )
    flags.DEFINE_boolean(
        "evaluator", False, "Add an evaluator pod that evaluates each checkpoint as it appears."
    )
    flags.DEFINE_string("out", "-", "Where to write the YAML ('-' = stdout).")
    flags.DEFINE_integer(
        "sweep_pods",
        0,
        "Render a hyperparameter sweep instead: this many pods of `python -m trainer.sweep` "
        "(flags after '--' go to it) sharing one study.",
    )
    flags.DEFINE_string(
        "storage_secret", "", "Sweeps: the Secret whose key `url` holds the study's database URL."
    )


def options_from_flags(argv) -> Options:
    FLAGS = flags.FLAGS
    return Options(
        name=FLAGS.name or "",
        image=FLAGS.image or "",
        workdir=FLAGS.workdir or "",
        args=tuple(argv[1:]),
        output=FLAGS.output,
        # Unset: 2, or 1 on a TPU slice (and refused for a sweep when given).
        workers=FLAGS.workers if FLAGS["workers"].present else None,
        gpus_per_worker=FLAGS.gpus_per_worker,
        gpu_type=FLAGS.gpu_type,
        tpu_type=FLAGS.tpu_type,
        tpu_topology=FLAGS.tpu_topology,
        cpu=FLAGS.cpu,
        memory=FLAGS.memory,
        shm_size=FLAGS.shm_size,
        port=FLAGS.port,
        retries=FLAGS.retries,
        grace_s=FLAGS.grace_s,
        ttl_after_finished_s=FLAGS.ttl_after_finished_s,
        service_account=FLAGS.service_account,
        image_pull_policy=FLAGS.image_pull_policy,
        kueue_queue=FLAGS.kueue_queue,
        evaluator=FLAGS.evaluator,
        sweep_pods=FLAGS.sweep_pods,
        storage_secret=FLAGS.storage_secret,
    )


def to_yaml(documents: list[dict]) -> str:
    """YAML without anchors or aliases, even where two documents share a dict: a reader, a diff
    in code review and a policy linter each see every field where it applies."""
    return yaml.dump_all(documents, Dumper=_NoAliasDumper, sort_keys=False)


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def main(argv):
    try:
        text = to_yaml(render(options_from_flags(argv)))
    except ManifestError as e:
        fail(str(e))
    if flags.FLAGS.out == "-":
        sys.stdout.write(text)
        return
    try:
        with open(flags.FLAGS.out, "w") as f:
            f.write(text)
    except OSError as e:
        fail(f"--out={flags.FLAGS.out}: cannot write the manifests there ({e.strerror}).")


def run() -> None:
    """python -m launch.kubernetes (console script trainer-kubernetes)."""
    define_flags()
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
