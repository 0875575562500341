"""Stops training when a validation metric has not improved for `patience` evaluations.

Keras's `EarlyStopping` as an action. Its progress (best value, its step, evaluations since)
lives in the checkpoint's TrainingState, so a resumed run keeps counting. Every worker sees the
same all-reduced validation metrics, decides alike, and the stop request is agreed across
workers, so every worker stops after the same host loop.
"""

from trainer.actions.monitor import Monitor
from trainer.loop.controller import RunState
from trainer.workdir.training_state import MonitorState


class EarlyStopping:
    def __init__(self, *, monitor: Monitor, patience: int, state: MonitorState):
        self._monitor, self._patience, self._state = monitor, patience, state
        self.stopped_at: int | None = None

    def stopped_before(self, step: int) -> bool:
        """Whether the state restored at `step` says an earlier run stopped there."""
        if self._monitor.read(self._state)[2] < self._patience:
            return False
        self.stopped_at = step
        return True

    def __call__(self, state: RunState) -> None:
        if state.validation is None:
            return
        value = self._monitor.value(state.validation)
        best, best_step, wait = self._monitor.observe(self._state, value, state.step)
        if wait >= self._patience:
            self.stopped_at = state.step
            state.request_stop(
                f"early stopping: {self._monitor.describe()} has not improved by more than "
                f"{self._monitor.min_delta:g} for {wait} evaluation(s); best {best:.6g} at "
                f"step {best_step}"
            )

    def summary(self) -> dict:
        """For results.json: whether it stopped the run, where, and on what."""
        best, best_step, wait = self._monitor.read(self._state)
        return {
            "stopped": self.stopped_at is not None,
            "step": self.stopped_at,
            "monitor": self._monitor.metric,
            "mode": self._monitor.mode,
            "best": best,
            "best_step": best_step if best is not None else None,
            "evaluations_without_improvement": wait,
        }
