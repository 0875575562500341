"""Saves a checkpoint (every worker takes part; only the chief writes the workdir)."""

from trainer.loop.controller import RunState


class SaveCheckpoint:
    def __init__(self, checkpointer):
        self._checkpointer = checkpointer

    def __call__(self, state: RunState) -> None:
        if self._checkpointer.last_saved_step != state.step:
            self._checkpointer.save()
