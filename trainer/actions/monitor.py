"""A watched validation metric: its direction, what counts as better, and a check that it exists.

Shared by early stopping, reduce-on-plateau and the best export (Keras's `monitor`, `mode` and
`min_delta`; Orbit's `NewBestMetric`).
"""

import zlib

from absl import logging

from trainer.errors import HarnessError

MODES = ("min", "max", "auto")
# With mode "auto", a metric whose name contains one of these is better when higher (Keras's
# EarlyStopping guesses from "acc" alike); every other metric (loss, mse, mae) when lower.
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou")


class Monitor:
    def __init__(
        self,
        *,
        metric: str,
        mode: str,
        min_delta: float = 0.0,
        field: str,
        metric_name: str = "monitor",
        mode_name: str = "mode",
    ):
        """`field`: the config section; `metric_name` and `mode_name`: its fields that hold
        the metric and the mode (config.export names them best_metric and best_mode)."""
        self._metric_field, mode_field = f"{field}.{metric_name}", f"{field}.{mode_name}"
        if mode not in MODES:
            raise HarnessError(f"{mode_field}={mode!r} must be one of {', '.join(MODES)}.")
        if min_delta < 0:
            raise HarnessError(f"{field}.min_delta={min_delta} must be 0 or positive.")
        if mode == "auto":
            mode = "max" if any(word in metric.lower() for word in _HIGHER_IS_BETTER) else "min"
        self.metric, self.mode, self.min_delta, self.field = metric, mode, min_delta, field

    def check(self, available) -> None:
        """Raises unless the model reports the metric (`available`: its metric names)."""
        if self.metric not in available:
            raise HarnessError(
                f"{self._metric_field}={self.metric!r} is not a metric of this model; it "
                f"reports {sorted(available)}."
            )

    def value(self, results: dict[str, float]) -> float:
        return results[self.metric]

    def improves(self, value: float, best: float | None) -> bool:
        """Whether `value` beats `best` by more than min_delta (any value beats None)."""
        if best is None:
            return True
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta

    def read(self, record) -> tuple[float | None, int, int]:
        """`record` (a MonitorState) as (best, its step, evaluations since), reset first if it
        holds another metric's values (a run resumed with another monitor or mode)."""
        fingerprint = zlib.crc32(f"{self.metric}:{self.mode}".encode()) + 1
        if int(record.watching.numpy()) != fingerprint:
            if record.read()[0] is not None:
                logging.warning(
                    "%s: the checkpoint's progress is of another metric or mode; starting "
                    "afresh on %s.",
                    self._metric_field,
                    self.describe(),
                )
            record.write(best=None, best_step=-1, wait=0)
            record.watching.assign(fingerprint)
        return record.read()

    def observe(self, record, value: float, step: int) -> tuple[float, int, int]:
        """Records `value` at `step` in `record` (a MonitorState); returns the best value, its
        step and the evaluations since it."""
        best, best_step, wait = self.read(record)
        if self.improves(value, best):
            best, best_step, wait = value, step, 0
        else:
            wait += 1
        record.write(best=best, best_step=best_step, wait=wait)
        return best, best_step, wait

    def describe(self) -> str:
        return f"validation {self.metric} ({self.mode})"
