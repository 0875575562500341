"""Which failed workdir writes are retried, for how long, and what the run exits with.

TensorFlow's gs:// client end to end: tests/e2e/test_storage_faults.py. Here the errors are
TensorFlow's own types with the messages its filesystem gives."""

import logging
import threading

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
    assert write.calls == 3
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
    assert f"{ROOT}: storage kept failing for 0.2 s" in str(error)
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


class Collective:
    """Two workers' `agree` calls, answered as one all-reduce (an OR) answers them: each
    worker's n-th call returns once both have made it."""

    def __init__(self):
        self.barrier = threading.Barrier(2)
        self.flags = [[], []]
        self.lock = threading.Lock()

    def agree_for(self, worker: int):
        def agree(flag: bool) -> bool:
            with self.lock:
                self.flags[worker].append(flag)
                call = len(self.flags[worker]) - 1
            self.barrier.wait(timeout=10)
            with self.lock:
                return self.flags[0][call] or self.flags[1][call]

        return agree


def _two_workers(writes, wait_s=0.5):
    """Runs `retry` on two workers at once; returns what each returned or raised."""
    collective, outcomes = Collective(), [None, None]

    def worker(index):
        try:
            outcomes[index] = _faults(wait_s).retry(
                "save", writes[index], agree=collective.agree_for(index)
            )
        except Exception as e:  # What this worker raised, for the test to look at.
            outcomes[index] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes, collective


def test_workers_retry_together_when_one_failed():
    """The chief's write failed once, the other's went through: both attempt again."""
    chief, other = Failing(_unavailable()), Failing()
    outcomes, collective = _two_workers([chief, other])
    assert outcomes == ["done", "done"]
    assert chief.calls == other.calls == 2
    assert len(collective.flags[0]) == len(collective.flags[1]) == 3  # In step throughout.


def test_workers_give_up_together_even_when_their_clocks_differ():
    """Storage stays down for the chief only: both stop at the same attempt, the chief with
    exit 75 and the cause, the other with exit 75 too."""
    chief, other = Failing(*[_unavailable()] * 1000), Failing()
    outcomes, collective = _two_workers([chief, other], wait_s=0.2)
    assert all(isinstance(o, HarnessError) for o in outcomes), outcomes
    assert [o.exit_code for o in outcomes] == [TEMPORARY_FAILURE_EXIT_CODE] * 2
    assert "storage kept failing" in str(outcomes[0])
    assert "another worker could not save" in str(outcomes[1])
    assert chief.calls == other.calls
    assert collective.flags[0][-1] or collective.flags[1][-1]  # The last call said stop.


def test_a_refusal_on_one_worker_stops_both_at_once():
    denied = tf.errors.PermissionDeniedError(None, None, f"403 when uploading {ROOT}/x")
    chief, other = Failing(denied), Failing()
    outcomes, _ = _two_workers([chief, other])
    assert [o.exit_code for o in outcomes] == [BAD_INPUT_EXIT_CODE, TEMPORARY_FAILURE_EXIT_CODE]
    assert chief.calls == other.calls == 1


def test_a_full_local_disk_is_raised_as_tensorflow_says_it():
    full = tf.errors.ResourceExhaustedError(None, None, "/data/run/x: No space left on device")
    write = Failing(full)
    with pytest.raises(tf.errors.ResourceExhaustedError):
        _faults(root="/data/run").retry("save", write)
    assert write.calls == 1


def test_a_sibling_of_the_workdir_is_not_the_workdir():
    data = tf.errors.UnavailableError(None, None, f"HTTP 503 reading {ROOT}-data/train.tfrecord")
    assert _faults().explain(data) is None
    under = tf.errors.UnavailableError(None, None, f"HTTP 503 reading {ROOT}/checkpoints/x")
    assert _faults().explain(under).exit_code == TEMPORARY_FAILURE_EXIT_CODE


def test_explain_maps_an_unretried_write_to_its_exit():
    faults = _faults()
    assert faults.explain(_unavailable(f"{ROOT}/export/model.keras")).exit_code == 75
    denied = tf.errors.PermissionDeniedError(None, None, f"403 on {ROOT}/results.json")
    assert faults.explain(denied).exit_code == 2
