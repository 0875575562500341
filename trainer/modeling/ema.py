"""The exponential moving average of the weights (config.train.ema_momentum), swapped in.

Keras's optimizer keeps the average (`use_ema`) and a checkpoint keeps it with the optimizer,
so a resumed run continues it. Evaluation, the exports and the best export see the averaged
weights: `swapped_in()` exchanges the model's weights with the averages and back, on every
replica, without touching what training continues from.
"""

import contextlib

import tensorflow as tf

from trainer.modeling.keras_api import keras, moving_averages


class AveragedWeights:
    def __init__(self, model: keras.Model, strategy: tf.distribute.Strategy):
        self._strategy = strategy
        averages = moving_averages(model)
        self.enabled = averages is not None
        if not self.enabled:
            return
        pairs = list(zip(model.trainable_variables, averages, strict=True))

        @tf.function
        def swap():
            for weight, average in pairs:
                kept = tf.identity(weight.value)
                weight.assign(average.value)
                average.assign(kept)

        self._swap = swap

    @contextlib.contextmanager
    def swapped_in(self):
        """Within it the model holds the averaged weights (nothing changes without EMA)."""
        if not self.enabled:
            yield
            return
        with self._strategy.scope():
            self._swap()
        try:
            yield
        finally:
            with self._strategy.scope():
                self._swap()
