"""The recipe's state that a checkpoint keeps beside the model and the optimizer.

The learning-rate scale (lowered by reduce-on-plateau and by divergence recovery) and the
progress of early stopping and of the plateau watch. The same variables exist in every run,
whether those actions are on or off, so a run can switch one on and still resume from its
checkpoints. The scale is created in the strategy's scope (the optimizer reads it in each step);
the monitors' variables, read on the host only, outside it.
"""

import contextlib
import math

import tensorflow as tf


class MonitorState(tf.Module):
    """The best value of a monitored metric so far, its step, and evaluations since it."""

    def __init__(self, name: str):
        super().__init__(name=name)
        self.best = tf.Variable(math.nan, trainable=False, dtype=tf.float64, name="best")
        self.best_step = tf.Variable(-1, trainable=False, dtype=tf.int64, name="best_step")
        self.wait = tf.Variable(0, trainable=False, dtype=tf.int64, name="wait")
        # Which metric and mode the values are of (a fingerprint; 0: none yet), so that a run
        # resumed with another monitor starts afresh instead of comparing with another metric.
        self.watching = tf.Variable(0, trainable=False, dtype=tf.int64, name="watching")

    def read(self) -> tuple[float | None, int, int]:
        """(best or None before the first evaluation, its step, evaluations since)."""
        best = float(self.best.numpy())
        return (
            (None if math.isnan(best) else best),
            int(self.best_step.numpy()),
            int(self.wait.numpy()),
        )

    def write(self, *, best: float | None, best_step: int, wait: int) -> None:
        self.best.assign(math.nan if best is None else best)
        self.best_step.assign(best_step)
        self.wait.assign(wait)


class TrainingState(tf.Module):
    def __init__(self, strategy: tf.distribute.Strategy | None = None):
        super().__init__(name="training_state")
        with strategy.scope() if strategy else contextlib.nullcontext():
            self.learning_rate_scale = tf.Variable(
                1.0, trainable=False, dtype=tf.float32, name="learning_rate_scale"
            )
        self.early_stopping = MonitorState("early_stopping")
        self.reduce_on_plateau = MonitorState("reduce_on_plateau")

    @property
    def scale(self) -> float:
        return float(self.learning_rate_scale.numpy())

    def scale_learning_rate(self, factor: float, *, minimum: float = 0.0) -> float:
        """Multiplies the scale by `factor`, not below `minimum` (a scale already below it, set
        by divergence recovery, is kept, never raised); returns the new scale."""
        scale = max(self.scale * factor, min(minimum, self.scale))
        self.learning_rate_scale.assign(scale)
        return scale
