"""The host loops: exactly the steps asked for, with and without XLA (one CPU device here)."""

from tests.support.helpers import assert_one_line_error, train

MIRRORED_2 = ("--strategy=mirrored", "--num_cpu_devices=2")


def test_xla_on_logical_cpu_devices_is_refused_with_advice(workdir):
    assert_one_line_error(
        train(f"--workdir={workdir}", *MIRRORED_2, "--config.train.jit_compile=True"),
        "cannot run on 2 logical CPU devices",
    )


def test_xla_trains_end_to_end_on_one_device(workdir):
    from tests.support.helpers import assert_ok, read_results

    process = train(
        f"--workdir={workdir}",
        "--progress=quiet",
        "--config.train.jit_compile=True",
        "--config.train.steps=30",
        "--config.train.steps_per_loop=10",
        "--config.train.jit_steps=4",
    )
    assert_ok(process)
    results = read_results(workdir)
    assert results["step"] == 30 and results["replicas"] == 1
