"""The restart budget counted in the workdir: local and on ram:// (which stands in for gs://)."""

import datetime
import json

import pytest
import tensorflow as tf

from trainer.errors import BAD_INPUT_EXIT_CODE, HarnessError
from trainer.workdir.restarts import (
    STARTS_FILE,
    RestartBudgetSpent,
    record_start,
    restart_budget,
)

NOON = datetime.datetime(2025, 1, 2, 12, 0, 0, tzinfo=datetime.timezone.utc)


def _starts(root) -> list[dict]:
    with tf.io.gfile.GFile(f"{root}/{STARTS_FILE}") as f:
        return json.load(f)


def test_each_start_is_recorded_with_its_time_and_host(root):
    record_start(root, 2, host="pod-a", now=NOON)
    starts = record_start(root, 2, host="pod-b", now=NOON)
    expected = [
        {"time": "2025-01-02T12:00:00+00:00", "host": "pod-a"},
        {"time": "2025-01-02T12:00:00+00:00", "host": "pod-b"},
    ]
    assert starts == _starts(root) == expected


def test_one_restart_too_many_exits_2_with_the_fix_and_is_not_recorded(root):
    record_start(root, 1, host="pod-a", now=NOON)
    record_start(root, 1, host="pod-b", now=NOON)  # The one restart allowed.
    with pytest.raises(RestartBudgetSpent) as raised:
        record_start(root, 1, host="pod-c")
    message = str(raised.value)
    assert raised.value.exit_code == BAD_INPUT_EXIT_CODE
    assert "$TRAINER_RESTART_BUDGET=1 allows 1 restart after the first start" in message
    assert f"{root}/{STARTS_FILE} records 2 starts" in message
    assert "the last at 2025-01-02T12:00:00+00:00 on pod-b" in message
    assert "raise --retries" in message and f"delete {root}/{STARTS_FILE}" in message
    assert "\n" not in message
    assert len(_starts(root)) == 2  # Raising the budget lets the next start run.
    assert len(record_start(root, 2)) == 3


def test_a_budget_of_zero_allows_the_first_start_only(root):
    record_start(root, 0)
    with pytest.raises(RestartBudgetSpent, match="allows 0 restarts"):
        record_start(root, 0)


def test_deleting_the_file_resets_the_count(root):
    record_start(root, 0)
    tf.io.gfile.remove(f"{root}/{STARTS_FILE}")
    assert len(record_start(root, 0)) == 1


def test_a_damaged_file_says_to_delete_it(root):
    tf.io.gfile.makedirs(root)
    with tf.io.gfile.GFile(f"{root}/{STARTS_FILE}", "w") as f:
        f.write('{"starts": ')
    with pytest.raises(HarnessError, match="not a JSON list of starts: delete it"):
        record_start(root, 3)


@pytest.mark.parametrize(
    ("value", "budget"), [(None, None), ("", None), (" ", None), ("0", 0), ("4", 4)]
)
def test_the_budget_comes_from_the_environment(value, budget):
    environ = {} if value is None else {"TRAINER_RESTART_BUDGET": value}
    assert restart_budget(environ) == budget


@pytest.mark.parametrize("value", ["-1", "two", "1.5", "²"])
def test_a_bad_budget_names_the_variable_and_what_to_set(value):
    with pytest.raises(HarnessError, match="TRAINER_RESTART_BUDGET=.*0 or more"):
        restart_budget({"TRAINER_RESTART_BUDGET": value})
