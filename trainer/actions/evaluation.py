"""Evaluates the validation split during training (the final evaluation is the run's own)."""

from trainer.actions import RunState


class Evaluate:
    def __init__(self, evaluate):
        self._evaluate = evaluate  # split -> {metric: value}, written to TensorBoard and logged.

    def __call__(self, state: RunState) -> None:
        if state.step < state.total_steps:  # The run evaluates the last step itself.
            state.set_validation(self._evaluate("validation"))
