"""The progress action: one line per host loop, step / total, loss and metrics, examples/s, ETA.

Modes: `line` (a log line), `json` (one JSON object per loop on stdout, for log pipelines) and
`quiet` (nothing per loop; the start and the final results are still logged).
"""

import datetime
import json
import sys
import time

from absl import logging

from trainer.cli.formatting import format_metrics
from trainer.loop.controller import RunState

MODES = ("line", "json", "quiet")


class Progress:
    """Measures throughput and ETA. The first loop (tracing) is timed apart from the rest."""

    def __init__(
        self,
        *,
        start_step: int,
        total_steps: int,
        global_batch_size: int,
        mode: str = "line",
        learning_rate=None,
    ):
        """`learning_rate`: () -> the optimizer's current rate, shown after each loop."""
        if mode not in MODES:
            raise ValueError(f"Unknown progress mode {mode!r}: use one of {', '.join(MODES)}.")
        self._mode = mode
        self._learning_rate = learning_rate
        self._total = total_steps
        self._batch = global_batch_size
        self._steady_steps = 0
        self._steady_seconds = 0.0
        self.first_loop_seconds: float | None = None
        self._started = time.perf_counter()
        self.start_step = start_step

    def __call__(self, state: RunState) -> None:
        self.loop_done(steps=state.steps_in_loop, seconds=state.seconds)
        metrics = dict(state.train)
        if self._learning_rate is not None:
            metrics["lr"] = self._learning_rate()
        self.report(step=state.step, metrics=metrics, examples_per_sec=state.examples_per_sec)

    def loop_done(self, *, steps: int, seconds: float) -> float:
        """Records a host loop of `steps` steps; returns its examples/s."""
        if self.first_loop_seconds is None:
            self.first_loop_seconds = seconds
        else:
            self._steady_steps += steps
            self._steady_seconds += seconds
        return steps * self._batch / max(seconds, 1e-9)

    @property
    def examples_per_sec(self) -> float | None:
        """Training throughput after the first (tracing) loop; None before a second loop."""
        if not self._steady_steps:
            return None
        return self._steady_steps * self._batch / self._steady_seconds

    def report(self, *, step: int, metrics: dict[str, float], examples_per_sec: float) -> None:
        """Shows the progress of the host loop that ended at `step`, in this Progress's mode."""
        if self._mode == "line":
            logging.info(
                "%s", self.line(step=step, metrics=metrics, examples_per_sec=examples_per_sec)
            )
        elif self._mode == "json":
            record = {
                "step": step,
                "total_steps": self._total,
                **metrics,
                "examples_per_sec": examples_per_sec,
                "eta_s": self._eta_seconds(step),
            }
            print(json.dumps(record), file=sys.stdout, flush=True)

    def line(self, *, step: int, metrics: dict[str, float], examples_per_sec: float) -> str:
        percent = 100.0 * step / max(self._total, 1)
        shown = format_metrics(metrics, separator=" ")
        return (
            f"step {step}/{self._total} ({percent:.0f}%) | {shown} | "
            f"{examples_per_sec:,.0f} ex/s | ETA {self._eta(step)}"
        )

    def _eta(self, step: int) -> str:
        seconds = self._eta_seconds(step)
        return "?" if seconds is None else str(datetime.timedelta(seconds=round(seconds)))

    def _eta_seconds(self, step: int) -> float | None:
        left = self._total - step
        if left <= 0:
            return 0.0
        if self._steady_steps:
            return left * self._steady_seconds / self._steady_steps
        if self.first_loop_seconds:
            return left * self.first_loop_seconds / max(step - self.start_step, 1)
        return None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._started
