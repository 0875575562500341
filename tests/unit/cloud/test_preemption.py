"""The termination watcher tells its own host's GCE notice (exit 44) from a plain SIGTERM (42),
against a stand-in metadata server; and the save-then-exit action follows it."""

import time

import pytest

from tests.support.gce_stand_in import MetadataServer
from tests.support.helpers import run_state
from trainer.actions.preemption import SaveIfPreempted
from trainer.cloud.preemption import TerminationWatcher
from trainer.errors import HOST_PREEMPTED_EXIT_CODE, PREEMPTED_EXIT_CODE


@pytest.fixture
def metadata(monkeypatch):
    server = MetadataServer()
    for name, value in server.environment.items():
        monkeypatch.setenv(name, value)
    yield server
    server.close()


def _training_watcher() -> TerminationWatcher:
    """A watcher as during training: a notice is recorded, not exited on."""
    watcher = TerminationWatcher(poll_s=0.05)
    watcher.exit_at_once = False
    return watcher.start()


def _wait_for_notice(watcher: TerminationWatcher, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while watcher.notice is None:
        assert time.monotonic() < deadline, "no notice recorded"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ("instance/preempted", "TRUE", "this VM is preempted"),
        ("instance/maintenance-event", "TERMINATE_ON_HOST_MAINTENANCE", "maintenance event"),
    ],
)
def test_a_metadata_notice_means_this_host_is_going_away(metadata, path, value, fragment):
    watcher = _training_watcher()
    try:
        metadata.values[path] = value
        _wait_for_notice(watcher)
    finally:
        watcher.stop()
    assert fragment in watcher.notice
    assert watcher.host_going_away and watcher.exit_code() == HOST_PREEMPTED_EXIT_CODE


def test_a_notice_already_set_exits_44_at_once():
    watcher = TerminationWatcher()
    # What the metadata thread sets before it delivers the notice as SIGTERM to the main thread.
    watcher._pending_reason = "the GCE metadata server says this VM is preempted"
    with pytest.raises(SystemExit) as exited:
        watcher._on_sigterm(15, None)
    assert exited.value.code == HOST_PREEMPTED_EXIT_CODE


def test_a_plain_sigterm_exits_42():
    watcher = TerminationWatcher()
    with pytest.raises(SystemExit) as exited:
        watcher._on_sigterm(15, None)
    assert exited.value.code == PREEMPTED_EXIT_CODE
    assert watcher.notice == "SIGTERM" and not watcher.host_going_away


def test_the_retryable_replacement_stands_in_for_44(monkeypatch):
    monkeypatch.setenv("TRAINER_RETRYABLE_EXIT_CODE", "138")  # TFJob's manifests.
    watcher = TerminationWatcher()
    watcher._pending_reason = "the GCE metadata server announces a maintenance event"
    with pytest.raises(SystemExit) as exited:
        watcher._on_sigterm(15, None)
    assert exited.value.code == 138


class _Checkpointer:
    saved = 0

    def save(self):
        self.saved += 1


@pytest.mark.parametrize(
    ("own_notice", "code", "advice"),
    [
        (None, PREEMPTED_EXIT_CODE, "rerun the same command to resume"),  # A peer's notice.
        ("SIGTERM", PREEMPTED_EXIT_CODE, "rerun the same command to resume"),
        ("the GCE metadata server says this VM is preempted", HOST_PREEMPTED_EXIT_CODE, "host"),
    ],
)
def test_after_saving_only_the_worker_whose_host_goes_away_exits_44(
    own_notice, code, advice, caplog
):
    watcher = TerminationWatcher()
    watcher.exit_at_once = False
    if own_notice is not None:
        watcher._pending_reason = None if own_notice == "SIGTERM" else own_notice
        watcher._on_sigterm(15, None)
    checkpointer = _Checkpointer()
    action = SaveIfPreempted(watcher, checkpointer, agree=lambda mine: True)
    with pytest.raises(SystemExit) as exited:
        action(run_state(300))
    assert exited.value.code == code and checkpointer.saved == 1
    (line,) = [r.getMessage() for r in caplog.records if "saved a checkpoint" in r.getMessage()]
    assert "step 300" in line and f"Exiting with code {code}: " in line and advice in line
