"""After each host loop: if any worker has a termination notice, all save at this step, exit 42.

A worker whose own notice came from the GCE metadata server exits 44 instead: its host is going
away (`TerminationWatcher.exit_code`). The others exit 42: their hosts are fine.

Orbit's `SaveCheckpointIfPreempted` in harness form. The watcher (trainer/cloud/preemption.py)
records SIGTERM and GCE notices; this action, called at the same point on every worker, makes the
decision unanimous with one all-reduce, so every worker saves the same step (saving runs
collectives: a worker that saved alone would hang the others).
"""

import sys
from collections.abc import Callable

from absl import logging

from trainer.cloud.preemption import TerminationWatcher, elapsed_since_notice, rerun_advice
from trainer.errors import process_exit_code
from trainer.loop.controller import RunState


class SaveIfPreempted:
    def __init__(self, watcher: TerminationWatcher, checkpointer, agree: Callable[[bool], bool]):
        self._watcher, self._checkpointer, self._agree = watcher, checkpointer, agree

    def __call__(self, state: RunState) -> None:
        if not self._agree(self._watcher.notice is not None):
            return
        self._checkpointer.save()
        elapsed = elapsed_since_notice(self._watcher)
        code = process_exit_code(self._watcher.exit_code())
        logging.warning(
            "Preempted (%s): saved a checkpoint at step %d%s. Exiting with code %d: %s",
            self._watcher.notice or "another worker's notice",
            state.step,
            "" if elapsed is None else f", {elapsed:.1f} s after the notice",
            code,
            rerun_advice(self._watcher),
        )
        sys.exit(code)
