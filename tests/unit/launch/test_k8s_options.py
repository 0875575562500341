"""Every bad flag is refused before anything renders, with one line that says how to fix it."""

import re

import pytest

from launch.k8s.options import ManifestError, Options, resolved

_OK = dict(name="digits", image="registry.example/trainer:1", workdir="gs://bucket/runs/digits")

_SWEEP = dict(sweep_pods=2, storage_secret="db", **_OK)


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (dict(port=0), "--port=0 must be 1-65535"),
        (dict(port=65536), "--port=65536 must be 1-65535"),
        (dict(retries=-1), "--retries=-1 must be 0-"),
        (dict(grace_s=0), "--grace_s=0 must be 1-"),
        (dict(grace_s=-5), "--grace_s=-5 must be 1-"),
        (dict(workers=0), "--workers=0 must be 1-"),
        (dict(gpus_per_worker=-1), "--gpus_per_worker=-1 must be 0-"),
        (dict(ttl_after_finished_s=-1), "--ttl_after_finished_s=-1 must be 0-"),
        (dict(sweep_pods=-2), "--sweep_pods=-2 must be 0-"),
        (dict(name="Digits_1"), "must be 1-50 lowercase letters"),
        (dict(name="1digits"), "starting with a letter"),
        (dict(image=""), "--image is required"),
        (dict(image="trainer :1"), "must name a pushed image"),
        (dict(workdir="/tmp/run"), "must be storage every pod reaches"),
        (dict(cpu="two"), "--cpu: 'two' is not a Kubernetes quantity"),
        (dict(memory="8GB"), "--memory: '8GB' is not a Kubernetes quantity"),
        (dict(memory="0"), "--memory=0 must be more than 0"),
        (dict(cpu="-1"), "--cpu=-1 must be more than 0"),
        (dict(shm_size="lots", gpus_per_worker=1), "--shm_size: 'lots' is not"),
        (dict(gpus_per_worker=8), "--memory=8Gi leaves nothing beside /dev/shm (8Gi"),
        (dict(gpus_per_worker=1, shm_size="9Gi"), "raise --memory above 9Gi"),
        (dict(gpu_type="nvidia-h100"), "not a GKE GPU type: use one of nvidia-a100-80gb,"),
        (dict(gpu_type="nvidia-l4"), "needs --gpus_per_worker=1 or more"),
        (
            dict(gpu_type="nvidia-h100-80gb", gpus_per_worker=16, memory="64Gi"),
            "a nvidia-h100-80gb node has at most 8",
        ),
        (dict(tpu_type="tpu-v5p-slice"), "--tpu_type and --tpu_topology go together"),
        (dict(tpu_topology="2x2x2"), "--tpu_type and --tpu_topology go together"),
        (dict(tpu_type="v5p", tpu_topology="2x2x2"), "not a GKE TPU type: use one of tpu-v4"),
        (
            dict(tpu_type="tpu-v5-lite-podslice", tpu_topology="2x2x1"),
            "must be 2 sides like 2x4 for tpu-v5-lite-podslice",
        ),
        (
            dict(tpu_type="tpu-v6e-slice", tpu_topology="4x2"),
            "--tpu_topology=4x2 is not a tpu-v6e-slice topology: use one of 1x1, 2x2",
        ),
        (dict(tpu_type="tpu-v5p-slice", tpu_topology="4x2x2"), "ascending order"),
        (dict(tpu_type="tpu-v4-podslice", tpu_topology="4x4x6"), "multiples of 4"),
        (dict(tpu_type="tpu-v4-podslice", tpu_topology="2xx2"), "must be 3 sides like 2x2x1"),
        (
            dict(tpu_type="tpu-v5p-slice", tpu_topology="2x2x1", workers=4),
            "--workers=4 does not match the 2x2x1 slice of tpu-v5p-slice, which has 1 host",
        ),
        (
            dict(tpu_type="tpu-v5p-slice", tpu_topology="2x2x2"),
            "--tpu_topology=2x2x2 is a slice of 2 hosts of tpu-v5p-slice: TensorFlow runs a "
            "multi-host slice from one host through the Cloud TPU API, which GKE TPU node pools "
            "do not have; use a single-host topology on GKE (e.g. v5e/v6e 2x4, v5p/v4 2x2x1) or "
            "launch/tpu_vm.sh for a multi-host slice.",
        ),
        (dict(tpu_type="tpu-v6e-slice", tpu_topology="4x4"), "is a slice of 4 hosts of tpu-v6e"),
        (dict(tpu_type="tpu-v4-podslice", tpu_topology="4x4x4"), "a slice of 16 hosts"),
        (dict(tpu_type="tpu7x", tpu_topology="2x2x4", output="jobset"), "a slice of 4 hosts"),
        (
            dict(tpu_type="tpu-v5p-slice", tpu_topology="2x2x1", gpus_per_worker=1),
            "GPUs or a TPU slice, not both",
        ),
        (dict(tpu_type="tpu-v5p-slice", tpu_topology="2x2x1", output="tfjob"), "TFJob has no TPU"),
        (dict(output="pytorchjob"), "--output='pytorchjob' must be auto, job, jobset, tfjob"),
        (dict(service_account="Trainer"), "--service_account='Trainer' is not a ServiceAccount"),
        (dict(kueue_queue="team a"), "--kueue_queue='team a' is not a LocalQueue name"),
        (dict(kueue_queue="q" * 64), "at most 63 characters"),
        (dict(image_pull_policy="always"), "--image_pull_policy='always' must be one of Always"),
        (dict(storage_secret="db"), "--storage_secret is for sweeps"),
        (dict(args=("--strategy=mirrored",)), "are set by the launcher"),
        (dict(args=("--workdir=gs://x",)), "are set by the launcher"),
        (
            dict(args=("--tpu=my-tpu",), tpu_type="tpu-v5p-slice", tpu_topology="2x2x1"),
            "--strategy=tpu --tpu=local",
        ),
        (dict(name="a" * 50, output="jobset"), "is too long for --output=jobset"),
        (dict(name="a" * 44, output="jobset", evaluator=True), "shorten --name to 43 characters"),
        # Sweeps.
        (dict(_SWEEP, storage_secret=""), "Name the study's database once"),
        (dict(_SWEEP, args=("--storage=postgresql://x@h/db",)), "Name the study's database"),
        (dict(_SWEEP, args=("--workdir=gs://b/other",)), "set by the launcher's --workdir"),
        (dict(_SWEEP, output="jobset"), "does not apply to a sweep"),
        (dict(_SWEEP, evaluator=True), "drop it for --sweep_pods"),
        (dict(_SWEEP, workers=3), "--workers is for training"),
        (dict(_SWEEP, tpu_type="tpu-v5p-slice", tpu_topology="2x2x1"), "Sweep pods run on CPUs"),
        (dict(_SWEEP, storage_secret="DB"), "--storage_secret='DB' is not a Secret name"),
    ],
)
def test_bad_options_are_named(overrides, fragment):
    with pytest.raises(ManifestError, match=re.escape(fragment)):
        resolved(Options(**{**_OK, **overrides}))


def test_automatic_choices_are_made_once_checked():
    o = resolved(Options(**_OK))
    assert (o.output, o.workers, o.image_pull_policy, o.shm_size) == ("job", 2, "IfNotPresent", "")
    o = resolved(Options(tpu_type="tpu-v5-lite-podslice", tpu_topology="2x4", **_OK))
    assert (o.output, o.workers) == ("job", 1)  # One 8-chip host.
    o = resolved(Options(tpu_type="tpu-v5p-slice", tpu_topology="2x2x1", output="jobset", **_OK))
    assert (o.output, o.workers) == ("jobset", 1)
    o = resolved(Options(gpus_per_worker=4, memory="32Gi", **_OK))
    assert o.shm_size == "4Gi"
    assert resolved(Options(shm_size="0", **_OK)).shm_size == ""


def test_the_longest_name_each_shape_allows_renders():
    for output, evaluator, length in (("job", True, 50), ("jobset", True, 43), ("tfjob", True, 50)):
        name = "a" * length
        o = resolved(Options(**{**_OK, "name": name, "output": output, "evaluator": evaluator}))
        assert o.name == name
