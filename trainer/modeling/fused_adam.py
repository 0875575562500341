"""Keras's Adam and AdamW, updating large variables with TensorFlow's fused Adam kernel.

Keras 3's Adam updates each variable with about ten elementwise ops (two assign_adds, a
square, a sqrt, a division, ...), each a pass over the variable's memory. TensorFlow's
`ResourceApplyAdam` kernel does the same update in one pass, by the same formula (the
`epsilon_hat` form: var -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)),
on the same slot variables, so checkpoints are interchangeable with Keras's Adam. On a CPU it
was 2.4x faster per variable from 2**16 elements up, and slower below 2**15 (a fixed cost of
about 20 microseconds per call to spread the work over threads): small variables keep Keras's
ops. benchmarks/README.md has the figures; `trainer.bench`'s `harness_keras_adam` contender
measures the difference on a whole model.

`config.train.fused_optimizer` (on by default) makes `config.train.optimizer="adam"` or
`"adamw"` build these. They serialize as Keras's own Adam and AdamW in exported `.keras` files
(trainer/workdir/export.py), so loading one needs nothing from this package. Where XLA compiles the
step (TPUs; `jit_compile` on GPUs) it fuses Keras's ops itself; the kernel changes nothing
there and TPUs keep Keras's ops.
"""

import tensorflow as tf

from trainer.modeling.keras_api import keras

# Variables of at least this many elements take the fused kernel (see the module docstring).
FUSED_MIN_ELEMENTS = 2**16
_FUSED_DTYPES = (tf.float32, tf.float64)


class _FusedAdamUpdate:
    """`update_step` of Keras's Adam with the fused kernel where it is faster."""

    def update_step(self, gradient, variable, learning_rate):
        if not self._fuses(gradient, variable):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable),
            m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]),
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )

    def _fuses(self, gradient, variable) -> bool:
        size = variable.shape.num_elements()
        return (
            not self.amsgrad
            and not isinstance(gradient, tf.IndexedSlices)  # Embeddings' sparse gradients.
            and variable.dtype in _FUSED_DTYPES
            and size is not None
            and size >= FUSED_MIN_ELEMENTS
            and not isinstance(self._distribution_strategy, tf.distribute.TPUStrategy)
        )


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (inside `strategy.extended.update`,
    a mirrored variable's handle is the copy on the device being updated)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle


@keras.saving.register_keras_serializable(package="trainer")
class FusedAdam(_FusedAdamUpdate, keras.optimizers.Adam):
    """keras.optimizers.Adam; large variables are updated by TensorFlow's fused kernel."""


@keras.saving.register_keras_serializable(package="trainer")
class FusedAdamW(_FusedAdamUpdate, keras.optimizers.AdamW):
    """keras.optimizers.AdamW; large variables are updated by TensorFlow's fused kernel (the
    decoupled weight decay is applied before, as in Keras)."""


FUSED = {keras.optimizers.Adam: FusedAdam, keras.optimizers.AdamW: FusedAdamW}
