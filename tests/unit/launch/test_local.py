"""launch.local in-process: the launcher's exit code after a signal follows its workers' (the
runs, signals and restarts themselves are tests/e2e/test_local.py)."""

import signal

from launch.local import stopped_exit_code


def test_the_exit_code_after_a_signal_follows_the_workers():
    assert stopped_exit_code(signal.SIGTERM, [42, 42], {}) == 42
    assert stopped_exit_code(signal.SIGTERM, [0, 0], {}) == 0  # They had finished.
    assert stopped_exit_code(signal.SIGTERM, [42, -9], {}) == 143
    assert stopped_exit_code(signal.SIGINT, [2, 2], {}) == 130
    replaced = {"TRAINER_RETRYABLE_EXIT_CODE": "138"}
    assert stopped_exit_code(signal.SIGINT, [138, 138], replaced) == 138
