"""Keeps WORKDIR/export/best/ at the best validation metric so far (Orbit's `NewBestMetric`).

After each evaluation that beats the best so far, the model (its averaged weights under EMA)
is exported to export/best/ beside best.json, which names the step, the metric and its value.
The best so far is read back from best.json when a run resumes, so a worse model never
replaces a better one, across restarts too. The new export is written to best.partial/ and
swapped in by renames (best -> best.previous, best.partial -> best, then best.previous is
deleted); a run killed between them leaves a complete export in one of the three, which the
next run moves back to best/ before reading it. (On gs:// a directory rename copies objects,
so a kill during one can still leave a partial copy; best.json is written last.)
"""

import json

import tensorflow as tf
from absl import logging

from trainer.actions.monitor import Monitor
from trainer.loop.controller import RunState
from trainer.workdir.directory import BEST_EXPORT, Workdir

RECORD = "best.json"
_PARTIAL, _PREVIOUS = f"{BEST_EXPORT}.partial", f"{BEST_EXPORT}.previous"


class ExportBest:
    def __init__(self, *, monitor: Monitor, export, workdir: Workdir, averaged_weights):
        """`export(directory)` exports the model under the workdir-relative `directory`."""
        self._monitor, self._export, self._workdir = monitor, export, workdir
        self._averaged = averaged_weights
        if workdir.is_chief:
            _recover_interrupted_swap(workdir)
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
        with self._averaged.swapped_in():
            exported = self._export(partial)
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
                tf.io.gfile.rename(final, previous)
            tf.io.gfile.rename(self._workdir.path(partial), final)
            if tf.io.gfile.exists(previous):
                tf.io.gfile.rmtree(previous)
            logging.info(
                "New best validation %s %.6g at step %d: exported to %s (%s).",
                self._monitor.metric,
                value,
                state.step,
                final,
                ", ".join(sorted(exported)),
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
            tf.io.gfile.rename(path, final)
            logging.warning("Recovered the best export from %s (a run stopped mid-swap).", path)
            return


def read_best(workdir: Workdir) -> dict | None:
    """The record of WORKDIR/export/best/, or None when there is none."""
    path = workdir.path(BEST_EXPORT, RECORD)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)
