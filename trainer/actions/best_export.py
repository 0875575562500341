"""Keeps WORKDIR/export/best/ at the best validation metric so far (Orbit's `NewBestMetric`).

After each evaluation that beats the best so far, the model (its averaged weights under EMA)
is exported to export/best/ beside best.json, which names the step, the metric and its value.
The best so far is read back from best.json when a run resumes, so a worse model never
replaces a better one, across restarts too. The new export is written to best.partial/ and
swapped in by renames (best -> best.previous, best.partial -> best, then best.previous is
deleted); a run killed between them leaves a complete export in one of the three, which the
next run moves back to best/ before reading it, deleting what is left of the others. On gs://
a directory cannot be renamed atomically (each object is copied, then deleted): the renames go
file by file with best.json last (`rename_directory`), so a directory holding best.json is
whole. Inside best.partial/ each format is itself written under a temporary name first
(trainer/workdir/export.py); an export that fails midway deletes best.partial/.
"""

import json

import tensorflow as tf
from absl import logging

from trainer.actions.monitor import Monitor
from trainer.loop.controller import RunState
from trainer.workdir.directory import BEST_EXPORT, Workdir
from trainer.workdir.export import FILES, rename_directory

RECORD = "best.json"
_PARTIAL, _PREVIOUS = f"{BEST_EXPORT}.partial", f"{BEST_EXPORT}.previous"


class ExportBest:
    def __init__(self, *, monitor: Monitor, export, workdir: Workdir, averaged_weights):
        """`export(directory)` exports the model under the workdir-relative `directory`."""
        self._monitor, self._export, self._workdir = monitor, export, workdir
        self._averaged = averaged_weights
        if workdir.is_chief:
            _recover_interrupted_swap(workdir)
            _delete_leftovers(workdir)
        self.best = read_best(workdir)
        if self.best and self.best.get("metric") != monitor.metric:
            logging.warning(
                "%s holds the best %s; this run watches %s: its first evaluation replaces it.",
                workdir.path(BEST_EXPORT),
                self.best.get("metric"),
                monitor.metric,
            )
            self.best = None

    def __call__(self, state: RunState) -> None:
        if state.validation is None:
            return
        value = self._monitor.value(state.validation)
        if not self._monitor.improves(value, self.best and self.best["value"]):
            return
        partial = _PARTIAL
        if self._workdir.is_chief and tf.io.gfile.exists(self._workdir.path(partial)):
            tf.io.gfile.rmtree(self._workdir.path(partial))  # Left by a run killed mid-export.
        try:
            with self._averaged.swapped_in():
                exported = self._export(partial)
        except BaseException:
            if self._workdir.is_chief and tf.io.gfile.exists(self._workdir.path(partial)):
                tf.io.gfile.rmtree(self._workdir.path(partial))  # Never a partial export.
            raise
        record = {
            "step": state.step,
            "metric": self._monitor.metric,
            "mode": self._monitor.mode,
            "value": value,
            "validation": state.validation,
        }
        if self._workdir.is_chief:
            with tf.io.gfile.GFile(self._workdir.path(partial, RECORD), "w") as f:
                f.write(json.dumps(record, indent=2, sort_keys=True) + "\n")
            final, previous = self._workdir.path(BEST_EXPORT), self._workdir.path(_PREVIOUS)
            if tf.io.gfile.exists(previous):  # Left by a run stopped after its swap.
                tf.io.gfile.rmtree(previous)
            if tf.io.gfile.exists(final):
                rename_directory(final, previous, last=RECORD)
            rename_directory(self._workdir.path(partial), final, last=RECORD)
            if tf.io.gfile.exists(previous):
                tf.io.gfile.rmtree(previous)
            logging.info(
                "New best validation %s %.6g at step %d: exported to %s (%s).",
                self._monitor.metric,
                value,
                state.step,
                final,
                ", ".join(kind for kind in FILES if kind in exported) or "no format",
            )
        self.best = record


def _recover_interrupted_swap(workdir: Workdir) -> None:
    """Puts back in best/ the complete export a run killed during the swap left elsewhere."""
    final = workdir.path(BEST_EXPORT)
    if tf.io.gfile.exists(f"{final}/{RECORD}"):
        return
    for candidate in (_PARTIAL, _PREVIOUS):  # The newer complete one first.
        path = workdir.path(candidate)
        if tf.io.gfile.exists(f"{path}/{RECORD}"):
            if tf.io.gfile.exists(final):
                tf.io.gfile.rmtree(final)
            rename_directory(path, final, last=RECORD)
            logging.warning("Recovered the best export from %s (a run stopped mid-swap).", path)
            return


def _delete_leftovers(workdir: Workdir) -> None:
    """Deletes best.partial/ and best.previous/ once best/ is whole: what a run stopped during
    an export or a swap left (best/ is the one read and kept)."""
    if not tf.io.gfile.exists(workdir.path(BEST_EXPORT, RECORD)):
        return
    for leftover in (_PARTIAL, _PREVIOUS):
        path = workdir.path(leftover)
        if tf.io.gfile.exists(path):
            tf.io.gfile.rmtree(path)
            logging.info("Deleted %s, left by a run stopped mid-export.", path)


def read_best(workdir: Workdir) -> dict | None:
    """The record of WORKDIR/export/best/, or None when there is none."""
    path = workdir.path(BEST_EXPORT, RECORD)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)
