"""Strategy selection. Creating a strategy needs a fresh TensorFlow runtime: a subprocess."""

import json
import time

import pytest

from strategies import factory
from tests.helpers import assert_one_line_error, run_module, train


def test_auto_prefers_multi_worker_when_tf_config_names_several_workers(monkeypatch):
    env = {
        "TF_CONFIG": json.dumps(
            {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}
        )
    }
    monkeypatch.setattr(factory, "_local_tpu_present", lambda: False)
    name, reason = factory._pick_automatically(None, env)
    assert name == "multi_worker_mirrored" and "2 workers" in reason


def test_auto_picks_tpu_when_one_is_named(monkeypatch):
    monkeypatch.setattr(factory, "_local_tpu_present", lambda: False)
    assert factory._pick_automatically("my-tpu", {})[0] == "tpu"
    assert factory._pick_automatically(None, {"TPU_NAME": "my-tpu"})[0] == "tpu"


def test_auto_on_one_cpu_is_the_default_strategy(monkeypatch):
    monkeypatch.setattr(factory, "_local_tpu_present", lambda: False)
    name, reason = factory._pick_automatically(None, {})
    assert name == "default" and "CPU" in reason


def test_unknown_strategy_lists_the_valid_ones():
    with pytest.raises(factory.StrategyError, match="Valid strategies: auto, default"):
        factory.create_strategy("horovod")


_CHOOSE = (
    "from strategies import create_strategy; import sys; "
    "c = create_strategy(sys.argv[1], num_cpu_devices=int(sys.argv[2])); "
    "print(c.name, c.strategy.num_replicas_in_sync, type(c.strategy).__name__)"
)


@pytest.mark.parametrize(
    "requested, cpus, expected",
    [
        ("auto", 0, "default 1 _DefaultDistributionStrategy"),
        ("auto", 2, "mirrored 2 MirroredStrategy"),
        ("mirrored", 3, "mirrored 3 MirroredStrategy"),
        ("one_device", 0, "one_device 1 OneDeviceStrategy"),
        ("multi_worker_mirrored", 0, "multi_worker_mirrored 1 CollectiveAllReduceStrategy"),
    ],
)
def test_each_strategy_is_created_with_its_replicas(requested, cpus, expected):
    process = run_module("tests._run_python", _CHOOSE, requested, str(cpus))
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.strip().splitlines()[-1] == expected


def test_tpu_without_a_tpu_fails_fast_with_advice(workdir):
    began = time.monotonic()
    process = train("--strategy=tpu", "--tpu=local", f"--workdir={workdir}")
    assert_one_line_error(process, "No TPU at 'local'", "--strategy=auto")
    assert time.monotonic() - began < 60


def test_tpu_strategy_with_no_tpu_named_says_how_to_name_one(workdir):
    process = train("--strategy=tpu", f"--workdir={workdir}")
    assert_one_line_error(process, "--strategy=tpu needs a TPU", "--tpu=local")


def test_auto_on_a_kubernetes_indexed_job_is_multi_worker(monkeypatch):
    monkeypatch.setattr(factory, "_local_tpu_present", lambda: False)
    env = {
        "JOB_COMPLETION_INDEX": "0",
        "HOSTNAME": "train-0",
        "TRAINER_WORKERS": "4",
        "TRAINER_SERVICE": "svc",
    }
    assert factory._pick_automatically(None, env) == (
        "multi_worker_mirrored",
        "TF_CONFIG names 4 workers",
    )
