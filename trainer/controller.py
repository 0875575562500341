"""The outer loop: host loops up to the last step, and the actions after each.

Orbit's `Controller` in small: it knows nothing of models, data or devices. `train(steps)` runs
that many steps and returns their loss and metrics; each host loop ends at the next multiple of
any action's interval (so evaluations and checkpoints land on exact steps) or after
`steps_per_loop` steps. `agree` makes a stop request unanimous across workers, so that every
worker leaves the loop after the same host loop. An action that restores an earlier checkpoint
(`state.roll_back(step)`) ends that host loop's actions, and training goes on from its step.
"""

import time
from collections.abc import Callable, Sequence

from trainer.actions import RunState, Scheduled


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
