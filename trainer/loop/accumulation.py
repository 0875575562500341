"""Gradient accumulation owned by the harness: N micro-batches for each optimizer step.

Keras's own `gradient_accumulation_steps` decides inside a `cond` whether a step applies, and
the optimizer's cross-replica update cannot run there under tf.distribute ("merge_call called
while defining a new graph", keras-team/keras#20582). Here the host loop decides while it traces:
it runs the model's own `train_step` N times per optimizer step, the first N-1 with the
optimizer's `apply` replaced by adding the gradients to a per-replica sum, the last with the
mean of the N gradients applied by the optimizer's real `apply` (which reduces them across
replicas once). A model that overrides `train_step` keeps working as long as it updates its
weights through `optimizer.apply` or `apply_gradients`.

Each micro-batch is global_batch_size / N examples, so an optimizer step sees the configured
global batch; for a model without batch statistics N micro-batches give the step that one batch
of N times the size gives.
"""

import contextlib

import tensorflow as tf

from trainer.modeling.keras_api import keras

ACCUMULATE, APPLY = "accumulate", "apply"


class GradientAccumulator:
    """Create inside the strategy scope, after the optimizer is built."""

    def __init__(self, model: keras.Model, steps: int):
        if steps < 2:
            raise ValueError(f"Accumulate over at least 2 micro-batches, not {steps}.")
        self.steps = steps
        self._optimizer = model.optimizer
        self._sums = {}
        for variable in model.trainable_variables:
            self._sums[id(variable)] = tf.Variable(
                tf.zeros(variable.shape, dtype=variable.dtype),
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.SUM,
                name="gradient_sum",
            )

    def modes(self, batches: int) -> list[str]:
        """What each of `batches` consecutive micro-batches does; ends each N with APPLY."""
        return [APPLY if (i + 1) % self.steps == 0 else ACCUMULATE for i in range(batches)]

    @contextlib.contextmanager
    def mode(self, mode: str):
        """While tracing within it, the optimizer's `apply` accumulates or applies the mean."""
        replacement = self._accumulate if mode == ACCUMULATE else self._apply_mean
        real_apply = self._optimizer.apply
        self._real_apply = real_apply
        self._optimizer.__dict__["apply"] = replacement
        try:
            yield
        finally:
            del self._optimizer.__dict__["apply"]

    def _pairs(self, grads, trainable_variables):
        variables = (
            list(trainable_variables)
            if trainable_variables is not None
            else list(self._optimizer._trainable_variables)
        )
        pairs = []
        for gradient, variable in zip(grads, variables, strict=True):
            if id(variable) not in self._sums:
                raise ValueError(
                    f"Gradient accumulation got a gradient for {variable.path}, which is not "
                    "among the model's trainable variables when it was built."
                )
            pairs.append((gradient, variable, self._sums[id(variable)]))
        return pairs

    def _accumulate(self, grads, trainable_variables=None):
        for gradient, _, total in self._pairs(grads, trainable_variables):
            if gradient is not None:
                total.assign_add(tf.cast(tf.convert_to_tensor(gradient), total.dtype))

    def _apply_mean(self, grads, trainable_variables=None):
        pairs = self._pairs(grads, trainable_variables)
        means = [
            None
            if gradient is None
            else (total.read_value() + tf.cast(tf.convert_to_tensor(gradient), total.dtype))
            / self.steps
            for gradient, _, total in pairs
        ]
        self._real_apply(means, [variable for _, variable, _ in pairs])
        for _, _, total in pairs:
            total.assign(tf.zeros_like(total))
