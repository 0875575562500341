"""Workdir writes that fail mid-run: retried while storage may come back, then a clean exit.

    writes = StorageFaults(workdir.write_path(), wait_s=120, last_checkpoint=describe)
    writes.retry("save checkpoint 200", save, agree=host_loop.any_worker)

TensorFlow's gs:// filesystem retries a failed request itself (about ten times, for a minute or
two), then raises: UnavailableError or DeadlineExceededError, or AbortedError "All 10 retry
attempts failed". A run that let that error escape would lose its place and exit 1, which restart
policies treat as a crash. Here, a write of the run's own files that fails that way is:
- transient (those three kinds, and ResourceExhaustedError on gs://, GCS's 429): tried again
  with backoff until `wait_s` has passed since the first failure, a log line per retry; then
  StorageUnavailable, exit 75, naming the last good checkpoint, from which the rerun resumes;
- permanent (a refused permission, a deleted bucket or directory): one line naming the path,
  TensorFlow's reason and the last good checkpoint, exit 2 (fix it, then rerun to resume).

Checkpoint saves retry on every worker together: a save reads the variables (collectives under
several workers) before it writes, so all workers agree after each attempt (`agree`, one small
all-reduce) and either all move on or all save again. Errors that do not name the workdir (a
peer's lost connection, a corrupt input file) are not storage's and pass through untouched.
"""

import random
import re
import time
from collections.abc import Callable
from typing import TypeVar

import tensorflow as tf
from absl import logging

from trainer.cloud.storage import Backoff
from trainer.errors import HarnessError, StorageUnavailable, first_line

T = TypeVar("T")

TRANSIENT = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError)
PERMANENT = (
    tf.errors.PermissionDeniedError,
    tf.errors.UnauthenticatedError,
    tf.errors.NotFoundError,
    tf.errors.FailedPreconditionError,
)


def is_storage_error(error: BaseException, root: str) -> bool:
    """Whether `error` is the filesystem's answer about `root` or a path under it (not a
    sibling such as ROOT-data/)."""
    under_root = re.escape(root.rstrip("/")) + r"(?![\w.-])"
    return isinstance(error, tf.errors.OpError) and re.search(under_root, str(error)) is not None


def is_transient(error: tf.errors.OpError, root: str) -> bool:
    if isinstance(error, TRANSIENT):
        return True
    # GCS's 429 (too many requests): TensorFlow's gs:// client says ResourceExhausted; on a
    # local disk the same kind means the disk is full, which waiting rarely fixes.
    return isinstance(error, tf.errors.ResourceExhaustedError) and root.startswith("gs://")


class StorageFaults:
    """Turns failed writes under `root` into retries, then StorageUnavailable or HarnessError.

    `last_checkpoint`: says which checkpoint a rerun resumes from ("none yet" before the first),
    for the final message."""

    def __init__(
        self,
        root: str,
        *,
        wait_s: float,
        last_checkpoint: Callable[[], str],
        backoff: Backoff | None = None,
    ):
        self.root = root.rstrip("/")
        self.wait_s = wait_s
        self._last_checkpoint = last_checkpoint
        self._backoff = backoff or Backoff(wait_s=wait_s)

    def retry(self, what: str, write: Callable[[], T], *, agree=None) -> T:
        """`write()`, tried again while it fails transiently and `wait_s` lasts.

        `agree(flag) -> flag on any worker`: a collective that every worker calls the same
        number of times, once after each attempt (did it fail?) and, after a failure, once more
        (stop now?), so that all workers attempt together and give up together; None for a
        write of this worker alone."""
        agree = agree or (lambda flag: flag)
        deadline, delay, attempt = None, self._backoff.first_delay_s, 1
        while True:
            error = None
            try:
                result = write()
            except tf.errors.OpError as e:
                if not is_storage_error(e, self.root):
                    raise  # Not storage's (a lost peer): the run's error handling explains it.
                error = e
            if not agree(error is not None):
                return result
            now = time.monotonic()
            deadline = deadline or now + self.wait_s
            retryable = error is None or is_transient(error, self.root)
            if agree(not retryable or now >= deadline):
                raise self._stop(what, error, attempt)
            sleep = min(max(deadline - now, 0.0), random.uniform(delay / 2, delay))
            logging.warning(
                "%s: %s failed (%s); retry %d in %.1f s (%.0f s left).",
                self.root,
                what,
                _describe(error) if error else "on another worker",
                attempt,
                sleep,
                max(deadline - now, 0.0),
            )
            time.sleep(sleep)
            delay = min(delay * 2, self._backoff.max_delay_s)
            attempt += 1

    def _stop(self, what: str, error: tf.errors.OpError | None, attempts: int) -> Exception:
        """What this worker raises when the workers give up on `what`."""
        if error is None:  # Another worker's write failed; it names the cause.
            return StorageUnavailable(f"{self.root}: another worker could not {what}.")
        if is_transient(error, self.root):
            return self.unavailable(what, error, attempts)
        if isinstance(error, PERMANENT):
            return self.permanent(what, error)
        return error  # A full local disk, an internal error: as TensorFlow says it.

    def unavailable(self, what: str, error: tf.errors.OpError, attempts: int | None = None):
        tried = (
            f"for {self.wait_s:g} s ({attempts} attempt(s) to {what}; last: "
            if attempts
            else f"(to {what}: "
        )
        return StorageUnavailable(
            f"{self.root}: storage kept failing {tried}{_describe(error)}). "
            f"{self._resume_from()} Restart policies retry the run (exit 75); to wait longer, "
            "raise config.checkpoint.storage_wait_s."
        )

    def permanent(self, what: str, error: tf.errors.OpError) -> HarnessError:
        return HarnessError(
            f"{self.root}: storage refused to {what} ({_describe(error)}). "
            f"{self._resume_from()} Fix the workdir's permissions or path, then rerun the same "
            "command to resume."
        )

    def explain(
        self, error: tf.errors.OpError, what: str = "read or write the run's files"
    ) -> HarnessError | None:
        """The exit for a failed read or write that no retry covered (an export, results.json),
        or None when `error` is not a storage error under the workdir."""
        if not is_storage_error(error, self.root):
            return None
        if is_transient(error, self.root):
            return self.unavailable(what, error)
        if isinstance(error, PERMANENT):
            return self.permanent(what, error)
        return None

    def _resume_from(self) -> str:
        return f"The last good checkpoint is {self._last_checkpoint()}."


def _describe(error: tf.errors.OpError) -> str:
    """`AbortedError: All 1 retry attempts failed. ... HTTP response code 503`: without the op's
    name TensorFlow puts first and the response body GCS adds after the code."""
    text = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", first_line(error, 1000))
    text = text.split(" with body ", 1)[0]
    return f"{type(error).__name__}: {text[:200]}"
