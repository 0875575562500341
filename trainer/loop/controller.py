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
    """What the actions see after the host loop that ended at `step`.

    The Controller makes one per host loop and passes it to each due action in turn, so an
    action sees what the actions before it set (trainer/run/schedule.py has the order). Every
    worker sees the same loss, metrics and validation results: they are aggregated across
    replicas and workers.

    Attributes:
      step: the optimizer step the host loop ended at (steps done so far).
      total_steps: the step the run trains to (`config.train.steps`).
      steps_in_loop: the steps this host loop ran.
      seconds: wall time of this host loop.
      examples_per_sec: global examples per second over this host loop.
      train: loss and metrics over this host loop's steps, in Keras's names (`loss`,
        `accuracy`, `main_mae`, ...).
      validation: {metric: value} of the validation split evaluated at this step, else None.
        The evaluation action sets it; the actions after it see it.
      latest_validation: (step, results) of the latest validation so far, this step's
        included; None before the first.
      stop_reason: why an action asked to stop (`request_stop`), else None.
      rolled_back_to: the step an action restored the variables to (divergence recovery);
        the actions after it are skipped for this host loop and training goes on from there.
    """

    step: int
    total_steps: int
    steps_in_loop: int
    seconds: float
    examples_per_sec: float
    train: dict[str, float]
    validation: dict[str, float] | None = None
    latest_validation: tuple[int, dict[str, float]] | None = None
    stop_reason: str | None = None
    rolled_back_to: int | None = None

    def request_stop(self, reason: str) -> None:
        """Ends training after this host loop (on every worker); the run then evaluates, saves
        and exports as at its last step. The first reason given is kept (`results.json` ->
        `stop_reason`)."""
        self.stop_reason = self.stop_reason or reason

    def roll_back(self, step: int) -> None:
        """Tells the Controller that the variables now hold step `step`."""
        self.rolled_back_to = step

    def set_validation(self, results: dict[str, float]) -> None:
        """Records this step's validation results (the evaluation action calls it)."""
        self.validation = results
        self.latest_validation = (self.step, results)


Action = Callable[[RunState], None]


@dataclasses.dataclass(frozen=True)
class Scheduled:
    """`action` after every host loop (`every_steps` 0), or when the step is a multiple of
    `every_steps` (host loops end there: the Controller stops at each interval). Host loops also
    end at each step in `stops`, and the action is due there too (an action that must act at
    given steps, such as the profiler, or the evaluation at the last step).

    Attributes:
      action: a callable that takes the `RunState`.
      every_steps: its interval in steps; 0 runs it after every host loop.
      name: its name in the run (`config.actions` key, or the place in trainer/run/schedule.py).
      stops: steps at which a host loop must end for it, and it acts.
    """

    action: Action
    every_steps: int = 0
    name: str = ""
    stops: tuple[int, ...] = ()

    def due(self, step: int) -> bool:
        return self.every_steps <= 0 or step % self.every_steps == 0 or step in self.stops

    def next_step(self, step: int) -> int | None:
        """The next step after `step` at which this action wants a host loop to end."""
        candidates = [stop for stop in self.stops if stop > step]
        if self.every_steps > 0:
            candidates.append((step // self.every_steps + 1) * self.every_steps)
        return min(candidates) if candidates else None


class Controller:
    """Runs host loops from `start_step` to `total_steps`, calling the due actions after each.

    Args:
      train: `train(steps)` runs that many steps and returns their loss and metrics.
      start_step: the step training starts at (a resumed run's checkpoint step).
      total_steps: the step training ends at.
      steps_per_loop: the most steps one host loop runs; a loop also ends at the next
        multiple of any action's `every_steps` and at its `stops`.
      global_batch_size: examples per step over all replicas (for `examples_per_sec`).
      actions: called in this order after each host loop when `Scheduled.due`.
      agree: `agree(flag)` is True on every worker if `flag` is on any (a collective under
        several workers); it makes a stop request unanimous.

    Raises:
      ValueError: `steps_per_loop` is below 1.
    """

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
