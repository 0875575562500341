"""The outer loop: host loops up to the last step, and the actions after each.

Orbit's `Controller` in small: it knows nothing of models, data or devices. `train(steps)` runs
that many steps and returns their loss and metrics; each host loop ends at the next multiple of
any action's interval (so evaluations and checkpoints land on exact steps) or after
`steps_per_loop` steps. `agree` makes a stop request unanimous across workers, so that every
worker leaves the loop after the same host loop. An action that restores an earlier checkpoint
(`state.roll_back(step)`) ends that host loop's actions, and training goes on from its step.
"""

import dataclasses
import time
from collections.abc import Callable, Sequence


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


class Controller:
    def __init__(
        self,
        *,
        train: Callable[[int], dict[str, float]],
        start_step: int,
        total_steps: int,
        steps_per_loop: int,
        global_batch_size: int,
        actions: Sequence[Scheduled] = (),
        agree: Callable[[bool], bool] = lambda stop: stop,
    ):
        if steps_per_loop < 1:
            raise ValueError(f"steps_per_loop={steps_per_loop} must be at least 1.")
        self._train, self._agree = train, agree
        self._step, self._total = start_step, total_steps
        self._steps_per_loop, self._batch = steps_per_loop, global_batch_size
        self._actions = list(actions)

    def run(self) -> RunState | None:
        """Trains to the last step or a stop request; returns the last host loop's state."""
        state, latest_validation = None, None
        while self._step < self._total:
            stop_at = self._next_stop()
            began = time.perf_counter()
            results = self._train(stop_at - self._step)
            seconds = time.perf_counter() - began
            state = RunState(
                step=stop_at,
                total_steps=self._total,
                steps_in_loop=stop_at - self._step,
                seconds=seconds,
                examples_per_sec=(stop_at - self._step) * self._batch / max(seconds, 1e-9),
                train=results,
                latest_validation=latest_validation,
            )
            self._step = stop_at
            for scheduled in self._actions:
                if scheduled.due(state.step):
                    scheduled.action(state)
                if state.rolled_back_to is not None:  # Later actions would act on old steps.
                    self._step = state.rolled_back_to
                    break
            latest_validation = state.latest_validation
            if self._agree(state.stop_reason is not None):
                state.stop_reason = state.stop_reason or "another worker asked to stop"
                break
        return state

    def _next_stop(self) -> int:
        stops = [self._total, self._step + self._steps_per_loop]
        stops += [s.next_step(self._step) for s in self._actions]
        return min(stop for stop in stops if stop is not None)
