"""Strategy selection. Creating a strategy needs a fresh TensorFlow runtime: a subprocess."""

import time

import pytest

from tests.support.helpers import assert_one_line_error, run_module, train

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
    process = run_module("tests.support.run_python", _CHOOSE, requested, str(cpus))
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
