"""The profiler action: a TensorBoard trace of the host loops in a window of steps, on CPU too,
and a window outside the run or reversed is one error line."""

import pytest

from trainer.actions.profiler import parse_window
from trainer.errors import HarnessError


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("40:20", "0 <= START < END <= config.train.steps=100"),
        ("50:50", "0 <= START < END"),
        ("90:120", "0 <= START < END <= config.train.steps=100"),
        ("-5:10", "0 <= START"),
        ("ten:20", "must be START:END"),
        ("10", "must be START:END"),
    ],
)
def test_a_window_outside_the_run_or_reversed_is_named(text, fragment):
    with pytest.raises(HarnessError, match=fragment.replace("(", r"\(")):
        parse_window(text, total_steps=100)
    assert parse_window("", total_steps=100) is None
    assert parse_window("0:100", total_steps=100) == (0, 100)
