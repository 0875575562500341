"""The project's action: stop training once the validation metric reaches a target.

Named in the experiment file as `config.actions.stop_at_target = {"action":
"examples.my_project.actions:StopAtTarget", "metric": "accuracy", "target": 0.99}`. The harness
constructs it once with those arguments and calls it after each host loop with the run state.
Every worker sees the same (all-reduced) validation results, and the harness makes any stop
request unanimous, so all workers stop after the same step.
"""

from absl import logging


class StopAtTarget:
    def __init__(self, *, metric: str = "accuracy", target: float = 0.99, mode: str = "max"):
        if mode not in ("max", "min"):
            raise ValueError(f"mode={mode!r}: use 'max' (higher is better) or 'min'.")
        self.metric, self.target, self.mode = metric, target, mode

    def __call__(self, state) -> None:
        if state.validation is None:  # No evaluation at this step.
            return
        if self.metric not in state.validation:
            raise KeyError(
                f"validation has no metric {self.metric!r}; it has {sorted(state.validation)}"
            )
        value = state.validation[self.metric]
        reached = value >= self.target if self.mode == "max" else value <= self.target
        if reached:
            logging.info("Validation %s %.4f reached %s.", self.metric, value, self.target)
            state.request_stop(f"validation {self.metric} {value:.4f} reached {self.target}")
