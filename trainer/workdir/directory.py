"""The run's directory (local or gs://, through tf.io.gfile).

Only the chief writes under it. Every other worker still performs each save, since saving runs
collectives, but writes to a private temporary directory that it deletes afterwards.

Checked at start (`ensure_writable`), so that a bad workdir fails before the first checkpoint:
- every worker writes a probe into the directory it writes to (the chief's workdir, or its own
  scratch directory);
- on gs://, the storage client checks the bucket instead of TensorFlow (trainer/cloud/storage.py):
  every worker lists under the workdir, since each restores the chief's checkpoints, and the
  chief alone creates and deletes a probe object, since it alone writes there (a worker's
  identity needs no write role, and N workers do not all write probes). A storage that does not
  answer is retried for `storage_wait_s`, then exits 75 (retried by restart policies); a missing
  bucket or a refused identity exits 2 with the fix.
"""

import json
import shutil
import tempfile
import uuid

import tensorflow as tf

from trainer.cloud import storage
from trainer.errors import HarnessError, first_line

# The workdir's layout, named once.
CHECKPOINTS = "checkpoints"  # tf.train.CheckpointManager's directory.
EXPORT = "export"  # model.keras and saved_model/.
BEST_EXPORT = "export/best"  # The same at the best validation metric, with best.json.
EVALUATOR = "evaluator"  # Written by an evaluator task only.
SUMMARIES = {"train": "train", "validation": "eval", "test": "test"}  # TensorBoard, by split.
CONFIG_FILE, RESULTS_FILE = "config.json", "results.json"


class Workdir:
    def __init__(self, root: str, *, is_chief: bool):
        self.root = root.rstrip("/") if root != "/" else root
        self.is_chief = is_chief
        self._scratch = None if is_chief else tempfile.mkdtemp(prefix="trainer-worker-")

    def path(self, *parts: str) -> str:
        """Where the run's files are, for reading (every worker reads the chief's files)."""
        return join(self.root, *parts)

    def write_path(self, *parts: str) -> str:
        """Where this worker writes: the workdir on the chief, a scratch directory elsewhere."""
        return join(self._scratch or self.root, *parts)

    def ensure_writable(self, *, storage_wait_s: float = storage.DEFAULT_WAIT_S) -> None:
        """Fails now, with the path in the message, rather than at the first checkpoint.

        `storage_wait_s`: how long a gs:// workdir's storage may not answer before giving up."""
        if not storage_wait_s >= 0:
            raise HarnessError(
                f"config.checkpoint.storage_wait_s={storage_wait_s}: pass the seconds to retry "
                "storage that does not answer at start (>= 0; 0: try once)."
            )
        if storage.is_gcs(self.root):
            backoff = storage.Backoff(wait_s=storage_wait_s)
            storage.check_gcs_workdir(self.root, write=self.is_chief, backoff=backoff)
            if self.is_chief:
                # TensorFlow's gs:// filesystem finds the same credentials (Application Default
                # Credentials) and cannot be pointed at an emulator: the check above stands.
                return
        probe = self.write_path(f".write-probe-{uuid.uuid4().hex}")
        try:
            tf.io.gfile.makedirs(self.write_path())
            with tf.io.gfile.GFile(probe, "w") as f:
                f.write("ok")
            tf.io.gfile.remove(probe)
        except (tf.errors.OpError, OSError) as e:
            raise HarnessError(
                f"Cannot write to workdir {self.write_path()!r} ({type(e).__name__}: "
                f"{first_line(e)}). Pass a writable --workdir."
            ) from e

    def write_json(self, name: str, value) -> str:
        path = self.write_path(name)
        with tf.io.gfile.GFile(path, "w") as f:
            f.write(json.dumps(value, indent=2, sort_keys=True) + "\n")
        return path

    def discard_scratch(self, *parts: str) -> None:
        """Deletes what a non-chief wrote under `parts` (nothing to do on the chief)."""
        if self._scratch is not None:
            shutil.rmtree(join(self._scratch, *parts), ignore_errors=True)

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)


def join(root: str, *parts: str) -> str:
    """A path under `root`, local or remote (gs:// paths are not os.path's)."""
    return "/".join([root.rstrip("/"), *parts]) if parts else root
