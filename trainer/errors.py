"""Exceptions for bad input and lost runs: `trainer.main` prints one line and exits `exit_code`."""

PREEMPTED_EXIT_CODE = 42  # Saved on SIGTERM: a restart policy retries, and the rerun resumes.


class HarnessError(Exception):
    """Bad input or environment. The message names the bad value and how to fix it."""

    exit_code = 2


class TrainingDiverged(HarnessError):
    """The training loss became NaN or infinite; nothing after the last good checkpoint is saved."""


class PeerLost(HarnessError):
    """Another worker vanished (killed, crashed, unreachable). Relaunching all workers resumes."""

    exit_code = 43


def first_line(error: BaseException, limit: int = 200) -> str:
    """An exception's first line, cut to `limit` characters: enough to say what went wrong in a
    one-line `error:` without TensorFlow's multi-line op context."""
    text = getattr(error, "message", None) or str(error)
    lines = text.strip().splitlines()
    return lines[0].strip()[:limit] if lines else type(error).__name__
