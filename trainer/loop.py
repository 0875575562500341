"""Host loops around Keras's own `train_step` and `test_step`.

`model.fit` is broken under MultiWorkerMirroredStrategy (DESIGN.md), so the harness runs the loop:
`steps` train steps inside one `tf.function`, with nothing per step in Python. Keras still owns the
step, so a model that overrides `train_step` keeps working. Metrics are read outside the loop with
`get_metrics_result()`, already aggregated across replicas and workers.
"""

import math

import tensorflow as tf

from trainer.keras_api import keras


class HostLoop:
    """`jit_compile` runs the steps with XLA, `jit_steps` of them in one XLA computation: on a CPU
    the launch of each computation costs about as much as the fused optimizer update saves, so
    the MLP of the benchmark ran at 99k examples/s with one step per computation and 109k with 3
    to 5 (benchmarks/README.md). The steps are the same `train_step`s, in the same order.
    """

    def __init__(
        self,
        *,
        strategy: tf.distribute.Strategy,
        model: keras.Model,
        jit_compile: bool,
        jit_steps: int = 1,
    ):
        self._model = model

        @tf.function(jit_compile=True)
        def xla_steps(*batches):
            for batch in batches:
                model.train_step(batch)

        @tf.function
        def train_loop(iterator, steps):
            if not jit_compile:
                for _ in tf.range(steps):
                    strategy.run(model.train_step, args=(next(iterator),))
                return
            for _ in tf.range(steps // jit_steps):
                batches = tuple(next(iterator) for _ in range(jit_steps))
                strategy.run(xla_steps, args=batches)
            for _ in tf.range(steps % jit_steps):
                strategy.run(xla_steps, args=(next(iterator),))

        @tf.function
        def eval_loop(dataset):
            for batch in dataset:
                strategy.run(model.test_step, args=(batch,))

        self._train_loop = train_loop
        self._eval_loop = eval_loop

    def train(self, iterator, steps: int) -> dict[str, float]:
        """Runs `steps` train steps; returns the mean loss and metrics over them."""
        self._model.reset_metrics()
        self._train_loop(iterator, tf.constant(steps, dtype=tf.int32))
        return scalar_results(self._model)

    def evaluate(self, dataset) -> dict[str, float]:
        """One pass over a distributed evaluation dataset; returns loss and metrics."""
        self._model.reset_metrics()
        self._eval_loop(dataset)
        results = scalar_results(self._model)
        self._model.reset_metrics()
        return results


def scalar_results(model: keras.Model) -> dict[str, float]:
    """The model's metrics as Python floats, in Keras's names (`loss`, `accuracy`, ...)."""
    results = {}
    for name, value in model.get_metrics_result().items():
        value = tf.convert_to_tensor(value)
        if value.shape.rank == 0:
            results[name] = float(value.numpy())
    return results


def is_finite(results: dict[str, float]) -> bool:
    return all(math.isfinite(v) for k, v in results.items() if "loss" in k)
