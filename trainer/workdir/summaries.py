"""TensorBoard scalars under WORKDIR/train, WORKDIR/eval and WORKDIR/test (the chief only)."""

import tensorflow as tf

from trainer.workdir.directory import Workdir
from trainer.workdir.storage_faults import StorageFaults


class Summaries:
    """`storage`: retries a flush that storage refuses for a while (the chief's writes only)."""

    def __init__(
        self, workdir: Workdir, *, root: str | None = None, storage: StorageFaults | None = None
    ):
        self._writers = {}
        self._workdir = workdir
        self._root = root or workdir.root
        self._storage = storage

    def write(self, kind: str, step: int, scalars: dict[str, float]) -> None:
        """Writes each scalar under `kind/` (`train` or `eval`) at `step`."""
        writer = self._writer(kind)
        with writer.as_default(step=step):
            for name, value in scalars.items():
                tf.summary.scalar(name, value)
        # Written once; only the flush is retried. A failed flush keeps the events, and
        # TensorFlow's gs:// files upload the whole file again at the next one.
        if self._storage is None:
            writer.flush()
        else:
            self._storage.retry(f"write the {kind} summaries of step {step}", writer.flush)

    def _writer(self, kind: str):
        if kind not in self._writers:
            if self._workdir.is_chief:
                self._writers[kind] = tf.summary.create_file_writer(f"{self._root}/{kind}")
            else:
                self._writers[kind] = tf.summary.create_noop_writer()
        return self._writers[kind]

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
