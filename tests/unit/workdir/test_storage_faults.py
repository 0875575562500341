"""Which failed workdir writes are retried, for how long, and what the run exits with.

TensorFlow's gs:// client end to end: tests/e2e/test_storage_faults.py. Here the errors are
TensorFlow's own types with the messages its filesystem gives."""

import logging

import pytest
import tensorflow as tf

from trainer.cloud.storage import Backoff
from trainer.errors import BAD_INPUT_EXIT_CODE, TEMPORARY_FAILURE_EXIT_CODE, HarnessError
from trainer.workdir.storage_faults import StorageFaults

ROOT = "gs://runs/run"
FAST = Backoff(wait_s=0.5, first_delay_s=0.01, max_delay_s=0.05)


def _faults(wait_s=0.5, root=ROOT) -> StorageFaults:
    return StorageFaults(
        root,
        wait_s=wait_s,
        last_checkpoint=lambda: f"{root}/checkpoints/ckpt-10 (step 10)",
        backoff=FAST,
    )


def _unavailable(path=f"{ROOT}/checkpoints/ckpt-20.index"):
    return tf.errors.AbortedError(
        None,
        None,
        "{{function_node __wrapped__SaveV2_dtypes_30_device_/job:localhost/replica:0/task:0/"
        "device:CPU:0}} All 1 retry attempts failed. The last failure: Error executing an HTTP "
        f"request: HTTP response code 503 with body '{{\"error\": ...}}' when uploading {path}",
    )


class Failing:
    """A write that fails with `errors` in turn, then returns "done"."""

    def __init__(self, *errors):
        self.errors, self.calls = list(errors), 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_a_transient_failure_is_retried_with_a_line_each(caplog):
    faults = _faults()
    write = Failing(_unavailable(), _unavailable())
    with caplog.at_level(logging.WARNING):
        assert faults.retry("save the checkpoint of step 20", write) == "done"
    assert write.calls == 3 and faults.retries == 2
    lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(lines) == 2
    assert "save the checkpoint of step 20 failed (AbortedError: All 1 retry" in lines[0]
    assert "{{function_node" not in lines[0] and "with body" not in lines[0]


def test_storage_that_stays_down_exits_75_naming_the_last_checkpoint():
    faults = _faults(wait_s=0.2)
    write = Failing(*[_unavailable()] * 1000)
    with pytest.raises(HarnessError) as raised:
        faults.retry("save the checkpoint of step 20", write)
    error = raised.value
    assert error.exit_code == TEMPORARY_FAILURE_EXIT_CODE
    assert f"{ROOT}: storage did not take the run's files for 0.2 s" in str(error)
    assert f"The last good checkpoint is {ROOT}/checkpoints/ckpt-10 (step 10)" in str(error)
    assert "\n" not in str(error) and write.calls >= 2


@pytest.mark.parametrize(
    "kind",
    [tf.errors.PermissionDeniedError, tf.errors.NotFoundError, tf.errors.FailedPreconditionError],
)
def test_a_refusal_is_one_line_exit_2_without_retrying(kind):
    write = Failing(kind(None, None, f"HTTP response code 403 when uploading {ROOT}/x"))
    with pytest.raises(HarnessError) as raised:
        _faults().retry("write x", write)
    assert raised.value.exit_code == BAD_INPUT_EXIT_CODE and write.calls == 1
    assert f"{ROOT}: storage refused to write x ({kind.__name__}" in str(raised.value)
    assert "rerun the same command to resume" in str(raised.value)


def test_errors_that_do_not_name_the_workdir_are_not_storage_faults():
    """A lost peer's collective error looks transient; it is not the workdir's to retry."""
    peer = tf.errors.UnavailableError(None, None, "/job:worker/task:1 stopped sending heartbeats")
    write = Failing(peer)
    with pytest.raises(tf.errors.UnavailableError):
        _faults().retry("save", write)
    assert write.calls == 1
    assert _faults().explain(peer) is None


def test_a_full_local_disk_is_not_waited_for_but_gcs_rate_limits_are():
    local = _faults(root="/data/run")
    full = tf.errors.ResourceExhaustedError(None, None, "/data/run/x: No space left on device")
    assert local.explain(full) is None  # Not retried; the run's own error handling reports it.
    limited = tf.errors.ResourceExhaustedError(None, None, f"HTTP 429 writing {ROOT}/x")
    assert _faults().explain(limited).exit_code == TEMPORARY_FAILURE_EXIT_CODE


def test_workers_retry_together_when_another_one_failed():
    """This worker's write went through, another's did not: all attempt again, then move on."""
    answers = iter([True, False])  # What the collective says after each attempt.
    seen = []

    def agree(failed_here):
        seen.append(failed_here)
        return next(answers)

    write = Failing()
    assert _faults().retry("save the checkpoint of step 20", write, agree=agree) == "done"
    assert write.calls == 2 and seen == [False, False]


def test_when_another_worker_gives_up_this_one_exits_75_too():
    write = Failing()
    with pytest.raises(HarnessError) as raised:
        _faults(wait_s=0.1).retry("save", write, agree=lambda failed_here: True)
    assert raised.value.exit_code == TEMPORARY_FAILURE_EXIT_CODE
    assert "another worker could not save" in str(raised.value)


def test_explain_maps_an_unretried_write_to_its_exit():
    faults = _faults()
    assert faults.explain(_unavailable(f"{ROOT}/export/model.keras")).exit_code == 75
    denied = tf.errors.PermissionDeniedError(None, None, f"403 on {ROOT}/results.json")
    assert faults.explain(denied).exit_code == 2
