"""Exceptions for bad input and lost runs: `trainer.main` prints one line and exits `exit_code`.

The exit codes are the contract with restart policies (launch.local --max_restarts, a Kubernetes
Job's pod failure policy, JobSet, TFJob): 2 never retried; 42, 43, 44 and 75 retried, the rerun
resuming from the workdir (44 only elsewhere: `launch.local`, whose workers all run on the host
that is going away, stops instead). TFJob's `ExitCode` policy retries only 130, 137, 143 and 138
(others are permanent), so its manifests set RETRYABLE_EXIT_VARIABLE and every retryable exit
uses 138.
"""

import os
from collections.abc import Mapping

BAD_INPUT_EXIT_CODE = 2
PREEMPTED_EXIT_CODE = 42  # Saved on SIGTERM: a restart policy retries, and the rerun resumes.
PEER_LOST_EXIT_CODE = 43  # Another worker vanished: relaunching all workers resumes.
# Saved because this worker's own VM is going away (the GCE metadata server's Spot preemption or
# terminating maintenance notice, which stays set until the VM stops): a rerun on this host
# would exit again at once, one on another host (a new pod on another node) resumes.
HOST_PREEMPTED_EXIT_CODE = 44
TEMPORARY_FAILURE_EXIT_CODE = 75  # EX_TEMPFAIL: storage did not answer; try again later.
RETRYABLE_EXIT_CODES = (
    PREEMPTED_EXIT_CODE,
    PEER_LOST_EXIT_CODE,
    HOST_PREEMPTED_EXIT_CODE,
    TEMPORARY_FAILURE_EXIT_CODE,
)
RETRYABLE_EXIT_VARIABLE = "TRAINER_RETRYABLE_EXIT_CODE"
# Restarts the chief allows itself, counted in the workdir (trainer/workdir/restarts.py): TFJob's
# ExitCode restarts are not counted against its backoffLimit, so its manifests set this.
RESTART_BUDGET_VARIABLE = "TRAINER_RESTART_BUDGET"


def retryable_replacement(environ: Mapping[str, str]) -> int | None:
    """The code every retryable exit uses instead of its own under `environ`: its
    $TRAINER_RETRYABLE_EXIT_CODE when that is written in digits and is 1-255, else None. A launcher
    passes its workers' environment to know what they exit."""
    value = environ.get(RETRYABLE_EXIT_VARIABLE, "")
    digits = value.isascii() and value.isdigit()  # "²".isdigit() holds too, and int() fails.
    return int(value) if digits and 1 <= int(value) <= 255 else None


def process_exit_code(code: int) -> int:
    """`code`, or $TRAINER_RETRYABLE_EXIT_CODE in its place when `code` is retryable and that
    variable is set (e.g. 138, which TFJob retries: 128 + SIGUSR1, "reserved for user errors")."""
    if code in RETRYABLE_EXIT_CODES:
        replacement = retryable_replacement(os.environ)
        if replacement is not None:
            return replacement
    return code


class HarnessError(Exception):
    """Bad input or environment. The message names the bad value and how to fix it."""

    exit_code = BAD_INPUT_EXIT_CODE


class TrainingDiverged(HarnessError):
    """The training loss became NaN or infinite; nothing after the last good checkpoint is saved."""


class PeerLost(HarnessError):
    """Another worker vanished (killed, crashed, unreachable). Relaunching all workers resumes."""

    exit_code = PEER_LOST_EXIT_CODE


class StorageUnavailable(HarnessError):
    """Storage (the workdir's bucket, a sweep's database) did not answer: a DNS blip, a timeout,
    a 5xx, a metadata server not ready yet. Retried by restart policies, unlike bad input."""

    exit_code = TEMPORARY_FAILURE_EXIT_CODE


def first_line(error: BaseException, limit: int = 200) -> str:
    """An exception's first line, cut to `limit` characters: enough to say what went wrong in a
    one-line `error:` without TensorFlow's multi-line op context."""
    text = getattr(error, "message", None) or str(error)
    lines = text.strip().splitlines()
    return lines[0].strip()[:limit] if lines else type(error).__name__
