"""A TensorBoard profile of the host loops in a window of steps, on the chief.

`config.train.profile_steps = "START:END"` profiles the host loops that run steps START+1 to END
(host loops end at both). The trace lands in WORKDIR/profile/plugins/profile/<time>/, where
TensorBoard's Profile tab (`pip install -e .[profile]`, tensorboard-plugin-profile) reads it:
`tensorboard --logdir WORKDIR`. TensorFlow's profiler works on CPUs, GPUs and TPUs alike.
"""

import tensorflow as tf
from absl import logging

from trainer.errors import HarnessError
from trainer.loop.controller import RunState

PROFILE = "profile"  # Under the workdir.


def parse_window(text: str, *, total_steps: int) -> tuple[int, int] | None:
    """(START, END) from "START:END", or None for ""; HarnessError for anything else."""
    if not text:
        return None
    try:
        start, end = (int(part) for part in text.split(":"))
    except ValueError:
        raise HarnessError(
            f"config.train.profile_steps={text!r} must be START:END, two steps such as 100:120."
        ) from None
    if not 0 <= start < end <= total_steps:
        raise HarnessError(
            f"config.train.profile_steps={text!r} must satisfy 0 <= START < END <= "
            f"config.train.steps={total_steps}: a window of steps inside the run."
        )
    return start, end


class Profile:
    def __init__(self, *, window: tuple[int, int], logdir: str, is_chief: bool, start_step: int):
        self.window, self._logdir, self._is_chief = window, logdir, is_chief
        self._active = False
        self.profiled: tuple[int, int] | None = None  # The steps this run profiled.
        if window[0] <= start_step < window[1]:
            self._start(start_step)

    def __call__(self, state: RunState) -> None:
        start, end = self.window
        if self._active and state.step >= end:
            self.stop(state.step)
        elif not self._active and start <= state.step < end and self.profiled is None:
            self._start(state.step)

    def _start(self, step: int) -> None:
        self._first = step
        if self._is_chief:
            tf.profiler.experimental.start(self._logdir)
            logging.info("Profiling the steps after %d into %s.", step, self._logdir)
        self._active = True

    def stop(self, step: int) -> None:
        """Ends the trace (after the window, or when the run stops inside it)."""
        if not self._active:
            return
        if self._is_chief:
            tf.profiler.experimental.stop()
            logging.info(
                "Profiled steps %d..%d: tensorboard --logdir %s",
                self._first + 1,
                step,
                self._logdir,
            )
        self._active = False
        self.profiled = (self._first, step)
