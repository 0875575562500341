import re

from tests.helpers import assert_ok, run_module


def test_data_bench_prints_examples_per_second_for_each_split():
    process = run_module("trainer.data_bench", "--batches=5")
    assert_ok(process)
    rates = dict(re.findall(r"^(\w+)\s+([\d,]+) examples/s$", process.stdout, re.MULTILINE))
    assert set(rates) == {"train", "validation", "test"}
    assert all(int(rate.replace(",", "")) > 0 for rate in rates.values())
