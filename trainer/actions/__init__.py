"""Actions: what the run does after a host loop, each a small callable in its own module.

The Controller (trainer/controller.py) runs host loops and, after each, calls the actions whose
interval has come, in order, with the `RunState`. Orbit's `Controller` and `orbit.actions` are
the model: an action is any callable taking the state; `Scheduled` separates when from what.
An action can ask the run to stop with `state.request_stop(reason)`; every worker then stops
after the same host loop.
"""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass
class RunState:
    """What the actions see after the host loop that ended at `step`."""

    step: int
    total_steps: int
    steps_in_loop: int
    seconds: float  # Wall time of this host loop.
    examples_per_sec: float
    train: dict[str, float]  # Loss and metrics over this host loop's steps.
    # {metric: value} of the validation split evaluated at this step, else None (an evaluation
    # action sets it; the actions after it see it).
    validation: dict[str, float] | None = None
    # (step, results) of the latest validation so far, this step's included.
    latest_validation: tuple[int, dict[str, float]] | None = None
    stop_reason: str | None = None
    # The step the variables were restored to by an action (divergence recovery); the actions
    # after it are skipped for this host loop and training goes on from there.
    rolled_back_to: int | None = None

    def request_stop(self, reason: str) -> None:
        """Ends training after this host loop (on every worker); the run then evaluates, saves
        and exports as at its last step."""
        self.stop_reason = self.stop_reason or reason

    def roll_back(self, step: int) -> None:
        """Tells the Controller that the variables now hold step `step`."""
        self.rolled_back_to = step

    def set_validation(self, results: dict[str, float]) -> None:
        self.validation = results
        self.latest_validation = (self.step, results)


Action = Callable[[RunState], None]


@dataclasses.dataclass(frozen=True)
class Scheduled:
    """`action` after every host loop (`every_steps` 0), or when the step is a multiple of
    `every_steps` (host loops end there: the Controller stops at each interval). Host loops also
    end at each step in `stops` (an action that must act at given steps, such as the profiler)."""

    action: Action
    every_steps: int = 0
    name: str = ""
    stops: tuple[int, ...] = ()

    def due(self, step: int) -> bool:
        return self.every_steps <= 0 or step % self.every_steps == 0

    def next_step(self, step: int) -> int | None:
        """The next step after `step` at which this action wants a host loop to end."""
        candidates = [stop for stop in self.stops if stop > step]
        if self.every_steps > 0:
            candidates.append((step // self.every_steps + 1) * self.every_steps)
        return min(candidates) if candidates else None
