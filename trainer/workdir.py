"""The run's directory (local or gs://, through tf.io.gfile).

Only the chief writes under it. Every other worker still performs each save, since saving runs
collectives, but writes to a private temporary directory that it deletes afterwards.
"""

import json
import shutil
import tempfile
import uuid

import tensorflow as tf

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

    def ensure_writable(self) -> None:
        """Fails now, with the path in the message, rather than at the first checkpoint."""
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
