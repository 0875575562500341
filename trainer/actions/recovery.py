"""Rolls back to the last checkpoint when the loss diverges (Model Garden's RecoveryAction).

A host loop whose loss is NaN or infinite, or above `loss_upper_bound` when that is set, has
diverged. With rollbacks left, every variable (model, optimizer, TrainingState) is restored
from the last checkpoint, the learning rate in use at the divergence is scaled by
`learning_rate_factor`, and training goes on from the checkpoint's step with the next batches.
Without rollbacks left the run fails, saving nothing. Run it first among the actions: nothing
may save diverged weights. The loss is all-reduced, so every worker decides alike and rolls
back after the same host loop.
"""

import math

from absl import logging

from trainer.errors import HarnessError, TrainingDiverged
from trainer.loop.controller import RunState


class RecoverFromDivergence:
    def __init__(
        self,
        *,
        checkpointer,
        training_state,
        max_rollbacks: int = 0,
        loss_upper_bound: float = 0.0,
        learning_rate_factor: float = 1.0,
    ):
        if max_rollbacks < 0:
            raise HarnessError(f"config.recovery.max_rollbacks={max_rollbacks} must be >= 0.")
        if loss_upper_bound < 0:
            raise HarnessError(
                f"config.recovery.loss_upper_bound={loss_upper_bound} must be 0 (off) or positive."
            )
        if not 0.0 < learning_rate_factor <= 1.0:
            raise HarnessError(
                f"config.recovery.learning_rate_factor={learning_rate_factor} must be in (0, 1]."
            )
        self._checkpointer, self._training_state = checkpointer, training_state
        self._max, self._bound, self._factor = max_rollbacks, loss_upper_bound, learning_rate_factor
        self.rollbacks: list[dict] = []

    def __call__(self, state: RunState) -> None:
        reason = self._divergence(state)
        if reason is None:
            return
        first = state.step - state.steps_in_loop + 1
        if len(self.rollbacks) >= self._max:
            after = f" after {len(self.rollbacks)} rollback(s)" if self.rollbacks else ""
            raise TrainingDiverged(
                f"Training loss {reason} in steps {first}..{state.step}{after}; stopped "
                f"without saving. The last good checkpoint (step "
                f"{self._checkpointer.last_saved_step or 'none'}) in "
                f"{self._checkpointer.directory} is intact: lower config.train.learning_rate "
                "(or set config.recovery) and rerun to resume from it."
            )
        scale = self._training_state.scale
        step = self._checkpointer.restore_latest()
        new_scale = scale * self._factor  # The rate that diverged, scaled; not the restored.
        self._training_state.learning_rate_scale.assign(new_scale)
        self.rollbacks.append(
            {"at_step": state.step, "to_step": step, "reason": reason, "scale": new_scale}
        )
        logging.warning(
            "Training loss %s in steps %d..%d: rolled back to step %d (rollback %d of %d), "
            "learning rate scale %g.",
            reason,
            first,
            state.step,
            step,
            len(self.rollbacks),
            self._max,
            new_scale,
        )
        state.roll_back(step)

    def _divergence(self, state: RunState) -> str | None:
        losses = {k: v for k, v in state.train.items() if "loss" in k}
        if not all(math.isfinite(v) for v in losses.values()):
            return f"became {state.train.get('loss', losses)}"
        loss = state.train.get("loss")
        if self._bound and loss is not None and loss > self._bound:
            return f"{loss:.6g} exceeded config.recovery.loss_upper_bound={self._bound:g}"
        return None
