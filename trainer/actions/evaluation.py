"""Evaluates the validation split during training; the run reuses it at the last step."""

from trainer.loop.controller import RunState


class Evaluate:
    def __init__(self, evaluate):
        self._evaluate = evaluate  # split -> {metric: value}, written to TensorBoard and logged.

    def __call__(self, state: RunState) -> None:
        state.set_validation(self._evaluate("validation"))
