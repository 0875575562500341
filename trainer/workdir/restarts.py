"""A restart budget counted in the workdir, for restart policies that count nothing themselves.

A Kubeflow TFJob restarts a pod that exits with a retryable code (138: trainer/errors.py) without
counting it against its backoffLimit, so `launch.kubernetes --output=tfjob --retries=N` would cap
nothing. Its manifests set $TRAINER_RESTART_BUDGET=N instead, and the chief records each of its
starts in WORKDIR/restarts.json (through tf.io.gfile: local or gs://), a list of
{"time", "host"}. A start that would make the restarts (the starts after the first) exceed the
budget is refused with exit 2, which TFJob does not retry, and is not recorded: raising --retries
lets the next start run.

Only the chief counts: it restarts in every round (when another worker goes, it loses its peer
and exits 43), while another worker may restart alone. Every start counts, a rerun of a
completed run (results.json present) too: deleting restarts.json resets the count.
"""

import datetime
import json
import socket
from collections.abc import Mapping

import tensorflow as tf

from trainer.errors import (
    RESTART_BUDGET_VARIABLE,
    HarnessError,
    StorageUnavailable,
    first_line,
)
from trainer.workdir.directory import join

STARTS_FILE = "restarts.json"


class RestartBudgetSpent(HarnessError):
    """The chief has started more times than $TRAINER_RESTART_BUDGET allows (exit 2)."""


def restart_budget(environ: Mapping[str, str]) -> int | None:
    """$TRAINER_RESTART_BUDGET as a number of restarts, or None when it is unset or empty."""
    value = environ.get(RESTART_BUDGET_VARIABLE, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise HarnessError(
            f"${RESTART_BUDGET_VARIABLE}={value!r}: set it to the number of restarts to allow "
            f"(0 or more), or unset it to count none."
        )
    return int(value)


def record_start(workdir: str, budget: int, *, host: str | None = None, now=None) -> list[dict]:
    """Adds this start to WORKDIR/restarts.json and returns every start recorded; raises
    RestartBudgetSpent, recording nothing, when this start would be one restart too many."""
    path = join(workdir, STARTS_FILE)
    starts = _read_starts(path)
    if len(starts) > budget:  # This start would be restart number len(starts).
        raise RestartBudgetSpent(_spent_message(path, budget, starts))
    when = now or datetime.datetime.now(datetime.timezone.utc)
    starts.append({"time": when.isoformat(timespec="seconds"), "host": host or _hostname()})
    _write_starts(workdir, path, starts)
    return starts


def _spent_message(path: str, budget: int, starts: list[dict]) -> str:
    last = starts[-1] if starts else {}
    allowed = f"{budget} restart{'' if budget == 1 else 's'}"
    return (
        f"restart budget spent: ${RESTART_BUDGET_VARIABLE}={budget} allows {allowed} after the "
        f"first start, and {path} records {len(starts)} starts (the last at "
        f"{last.get('time', '?')} on {last.get('host', '?')}). To continue from the last "
        f"checkpoint, raise --retries (launch.kubernetes sets ${RESTART_BUDGET_VARIABLE} from "
        f"it) or delete {path}."
    )


def _read_starts(path: str) -> list[dict]:
    try:
        if not tf.io.gfile.exists(path):
            return []
        with tf.io.gfile.GFile(path) as f:
            text = f.read()
    except tf.errors.OpError as e:
        raise _storage_error(path, e) from None
    try:
        starts = json.loads(text)
    except ValueError:
        starts = None
    if not isinstance(starts, list):
        raise HarnessError(
            f"{path} is not a JSON list of starts: delete it to count the restarts afresh."
        )
    return starts


def _write_starts(workdir: str, path: str, starts: list[dict]) -> None:
    """Written beside it, then renamed over it: a start killed mid-write leaves the old list."""
    temporary = f"{path}.tmp"
    try:
        tf.io.gfile.makedirs(workdir)
        with tf.io.gfile.GFile(temporary, "w") as f:
            f.write(json.dumps(starts, indent=1) + "\n")
        tf.io.gfile.rename(temporary, path, overwrite=True)
    except tf.errors.OpError as e:
        raise _storage_error(path, e) from None


def _storage_error(path: str, error: Exception) -> HarnessError:
    """Storage that did not answer is retried (75); anything else (no bucket, no permission)
    is the workdir's to fix (2)."""
    text = f"could not count this start in {path}: {type(error).__name__}: {first_line(error)}"
    if isinstance(error, tf.errors.UnavailableError | tf.errors.DeadlineExceededError):
        return StorageUnavailable(f"{text}. Retried by the restart policy.")
    return HarnessError(f"{text}. Check that --workdir is writable.")


def _hostname() -> str:
    return socket.gethostname() or "unknown host"
