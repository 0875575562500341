"""Scales the learning rate down when a validation metric stops improving.

Keras's `ReduceLROnPlateau` as an action: after `patience` evaluations without improvement the
TrainingState's learning-rate scale is multiplied by `factor` (not below `min_scale`), and the
count starts again. The scale multiplies whatever schedule config.schedule defines, and the
checkpoint keeps it.
"""

from absl import logging

from trainer.actions.monitor import Monitor
from trainer.errors import HarnessError
from trainer.loop.controller import RunState
from trainer.workdir.training_state import MonitorState, TrainingState


class ReduceOnPlateau:
    def __init__(
        self,
        *,
        monitor: Monitor,
        patience: int,
        factor: float,
        min_scale: float,
        training_state: TrainingState,
    ):
        if not 0.0 < factor < 1.0:
            raise HarnessError(f"config.reduce_on_plateau.factor={factor} must be in (0, 1).")
        if not 0.0 <= min_scale <= 1.0:
            raise HarnessError(f"config.reduce_on_plateau.min_scale={min_scale} must be in [0, 1].")
        self._monitor, self._patience = monitor, patience
        self._factor, self._min_scale = factor, min_scale
        self._training_state = training_state
        self._state: MonitorState = training_state.reduce_on_plateau
        self.reductions: list[tuple[int, float]] = []  # (step, new scale) in this run.

    def __call__(self, state: RunState) -> None:
        if state.validation is None:
            return
        value = self._monitor.value(state.validation)
        best, best_step, wait = self._monitor.observe(self._state, value, state.step)
        if wait >= self._patience:
            old = self._training_state.scale
            scale = self._training_state.scale_learning_rate(self._factor, minimum=self._min_scale)
            if scale < old:
                self.reductions.append((state.step, scale))
                logging.info(
                    "Plateau: %s not improved for %d evaluation(s); learning rate scale %g -> %g.",
                    self._monitor.describe(),
                    wait,
                    old,
                    scale,
                )
            self._state.write(best=best, best_step=best_step, wait=0)  # Count again.
