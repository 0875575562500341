"""Stops a run whose training loss became NaN or infinite, before anything is saved."""

import math

from trainer.actions import RunState
from trainer.errors import TrainingDiverged


class NanGuard:
    """Run it first: the checkpoint action after it must not save diverged weights."""

    def __init__(self, checkpointer):
        self._checkpointer = checkpointer

    def __call__(self, state: RunState) -> None:
        losses = {k: v for k, v in state.train.items() if "loss" in k}
        if all(math.isfinite(v) for v in losses.values()):
            return
        first = state.step - state.steps_in_loop + 1
        raise TrainingDiverged(
            f"Training loss became {state.train.get('loss', losses)} in steps {first}.."
            f"{state.step}; stopped without saving. The last good checkpoint (step "
            f"{self._checkpointer.last_saved_step or 'none'}) in "
            f"{self._checkpointer.directory} is intact: lower config.train.learning_rate and "
            "rerun to resume from it."
        )
