"""launch.local in-process: the launcher's exit code after a signal follows its workers' (the
runs, signals and restarts themselves are tests/e2e/test_local.py)."""

import signal

from launch.local import host_preempted_worker, is_restartable, stopped_exit_code


def test_the_exit_code_after_a_signal_follows_the_workers():
    assert stopped_exit_code(signal.SIGTERM, [42, 42], {}) == 42
    assert stopped_exit_code(signal.SIGTERM, [0, 0], {}) == 0  # They had finished.
    assert stopped_exit_code(signal.SIGTERM, [42, -9], {}) == 143
    assert stopped_exit_code(signal.SIGINT, [2, 2], {}) == 130
    replaced = {"TRAINER_RETRYABLE_EXIT_CODE": "138"}
    assert stopped_exit_code(signal.SIGINT, [138, 138], replaced) == 138


def test_a_host_going_away_is_44_even_when_a_peer_that_saved_on_its_notice_exits_first():
    # Worker 1 saved on worker 0's notice (42), worker 0 on its own host's (44).
    assert stopped_exit_code(signal.SIGTERM, [44, 42], {}) == 44
    assert stopped_exit_code(signal.SIGTERM, [44, -9], {}) == 143  # Not every worker saved.
    assert host_preempted_worker([42, 44]) == 1
    assert host_preempted_worker([42, None]) is None


def test_44_is_never_restarted_here_and_42_43_75_and_signals_are():
    assert not is_restartable(44, {})
    assert all(is_restartable(code, {}) for code in (42, 43, 75, 137))
    assert not any(is_restartable(code, {}) for code in (1, 2))
