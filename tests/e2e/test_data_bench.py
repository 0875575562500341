import re

from tests.support.helpers import assert_ok, assert_one_line_error, run_module


def _rates(process) -> dict[str, int]:
    rates = re.findall(r"^(\w+)\s+([\d,]+) examples/s", process.stdout, re.MULTILINE)
    return {split: int(rate.replace(",", "")) for split, rate in rates}


def test_data_bench_prints_examples_per_second_for_each_split():
    process = run_module("trainer.data_bench", "--batches=5", "--train_steps=0")
    assert_ok(process)
    rates = _rates(process)
    assert set(rates) == {"train", "validation", "test"}
    assert all(rate > 0 for rate in rates.values())


def test_a_tfds_config_is_timed_on_mock_examples_without_its_download():
    process = run_module(
        "trainer.data_bench",
        "--config=configs/fashion_mnist_mlp.py",
        "--mock_examples=300",
        "--batches=5",
        "--train_steps=3",
        "--config.train.steps_per_loop=3",
    )
    assert_ok(process)
    rates = _rates(process)
    assert set(rates) == {"train", "validation", "test", "training"}
    assert all(rate > 0 for rate in rates.values())
    ratio = float(re.search(r"^input/training: ([\d.]+)x$", process.stdout, re.MULTILINE)[1])
    assert ratio > 0


def test_mock_examples_for_a_config_that_is_not_tfds_is_refused():
    process = run_module("trainer.data_bench", "--mock_examples=10", "--train_steps=0")
    assert_one_line_error(process, "--mock_examples", "'digits'")
