"""Host loops around Keras's own `train_step` and `test_step`.

`model.fit` is broken under MultiWorkerMirroredStrategy (keras-team/keras#20585), so the harness
runs the loop: `steps` train steps inside one `tf.function`, with nothing per step in Python.
Keras still owns the step, so a model that overrides `train_step` keeps working. Metrics are read
outside the loop with `get_metrics_result()`, already aggregated across replicas and workers.
"""

import contextlib

import tensorflow as tf

from strategies.precision import device_type, mirrors_variables
from trainer.loop.accumulation import GradientAccumulator
from trainer.modeling.keras_api import keras


class HostLoop:
    """Runs train steps in host loops of `steps` steps, one `tf.function` call per loop.

    With `fetch_ahead` (by default on GPUs and TPUs without XLA: `fetches_ahead`), each loop
    fetches the next batch before it runs the current step, the way Keras's own `fit` with
    `steps_per_execution` does: the two touch different resources, so TensorFlow overlaps the
    input and its copy to the device with the step. With XLA, and on a CPU, the overlap only
    took time from the step, so there the loop fetches each batch when it needs it. Either way a
    loop reads exactly `steps` batches.

    `jit_compile` runs the steps with XLA, `jit_steps` of them in one XLA computation: the launch
    of each computation costs about as much as the fused optimizer update saves. The steps are
    the same `train_step`s, in the same order. The measurements behind both choices are in
    benchmarks/README.md.

    With an `accumulator` (trainer/loop/accumulation.py) each optimizer step takes its N
    micro-batches; `steps` always counts optimizer steps.
    """

    def __init__(
        self,
        *,
        strategy: tf.distribute.Strategy,
        model: keras.Model,
        jit_compile: bool,
        jit_steps: int = 1,
        fetch_ahead: bool | None = None,
        accumulator: GradientAccumulator | None = None,
    ):
        if fetch_ahead is None:
            fetch_ahead = fetches_ahead(strategy, jit_compile)
        if fetch_ahead and jit_compile:
            raise ValueError("fetch_ahead is for loops without XLA (see fetches_ahead).")
        self._model = model
        micro = accumulator.steps if accumulator else 1  # Batches per optimizer step.
        self._steps_per_run = jit_steps if jit_compile else 1
        run = _make_step_runner(strategy, model, jit_compile=jit_compile, accumulator=accumulator)
        self._train_loop = _make_train_loop(
            model, run, fetch_ahead=fetch_ahead, micro=micro, steps_per_run=self._steps_per_run
        )
        self._eval_loop = _make_eval_loop(strategy, model)
        self._any_replica = _make_any_replica(strategy)
        # Only several workers can disagree: one process decides for all of its replicas.
        self._across_workers = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)

    def train(self, iterator, steps: int) -> dict[str, float]:
        """Runs `steps` train steps; returns the mean loss and metrics over them."""
        self._model.reset_metrics()
        if steps <= 0:
            return scalar_results(self._model.get_metrics_result())
        runs, singles = divmod(steps, self._steps_per_run)
        counts = (tf.constant(n, dtype=tf.int32) for n in (runs, singles))
        return scalar_results(self._train_loop(iterator, *counts))

    def evaluate(self, dataset) -> dict[str, float]:
        """One pass over a distributed evaluation dataset; returns loss and metrics."""
        self._model.reset_metrics()
        self._eval_loop(dataset)
        results = scalar_results(self._model.get_metrics_result())
        self._model.reset_metrics()
        return results

    def any_worker(self, flag: bool) -> bool:
        """True on every worker if `flag` is True on any (a collective under several workers);
        call it at the same point on every worker."""
        if not self._across_workers:
            return flag
        return bool(self._any_replica(tf.constant(int(flag), dtype=tf.int32)).numpy() > 0)


def fetches_ahead(strategy: tf.distribute.Strategy, jit_compile: bool) -> bool:
    """Whether host loops should fetch the next batch while a step runs (see HostLoop)."""
    return device_type(strategy) != "CPU" and not jit_compile


def scalar_results(metrics: dict) -> dict[str, float]:
    """`model.get_metrics_result()`'s scalars as Python floats, in Keras's names (`loss`,
    `accuracy`, ...)."""
    results = {}
    for name, value in metrics.items():
        value = tf.convert_to_tensor(value)
        if value.shape.rank == 0:
            results[name] = float(value.numpy())
    return results


def _make_step_runner(
    strategy: tf.distribute.Strategy,
    model: keras.Model,
    *,
    jit_compile: bool,
    accumulator: GradientAccumulator | None,
):
    """`run(batches)`, traced inside the train loop: the batches' train steps, in one XLA
    computation when `jit_compile`."""
    # Under a strategy that mirrors variables, strategy.run goes inside the XLA function, as
    # in Keras's fit: on GPUs TensorFlow runs an XLA function given to strategy.run as is,
    # and the optimizer's step counter then needs a merge_call that a nested function cannot
    # make (seen on an H100). Under the other strategies (default, one device, TPU) the XLA
    # function stays inside strategy.run, the form measured first; on a CPU both forms ran
    # the MLP of the benchmark at the same speed (0.98x).
    run_inside_xla = mirrors_variables(strategy)

    def steps(batches, *, replicated: bool):
        """One train_step per batch; with accumulation, N batches per optimizer step."""
        modes = accumulator.modes(len(batches)) if accumulator else [None] * len(batches)
        for batch, mode in zip(batches, modes, strict=True):
            with accumulator.mode(mode) if accumulator else contextlib.nullcontext():
                if replicated:
                    strategy.run(model.train_step, args=(batch,))
                else:
                    model.train_step(batch)

    @tf.function(jit_compile=True)
    def xla_steps(*batches):
        steps(batches, replicated=run_inside_xla)

    def run(batches):
        if not jit_compile:
            steps(batches, replicated=True)
        elif run_inside_xla:
            xla_steps(*batches)
        else:
            strategy.run(xla_steps, args=batches)

    return run


def _make_train_loop(model: keras.Model, run, *, fetch_ahead: bool, micro: int, steps_per_run: int):
    """The train host loop, one `tf.function` call per loop; `run` runs a tuple of batches."""

    def fetch(iterator, count):
        return tuple(next(iterator) for _ in range(count))

    @tf.function
    def train_loop(iterator, runs, singles):
        """`runs` runs of `steps_per_run` optimizer steps (1 without XLA), then `singles`
        runs of 1; each optimizer step takes `micro` batches. Returns the metrics, read
        in the same call, as Keras's train_step reads them (read eagerly after the call,
        they took 0.13 ms per host loop on a CPU, 2% of 50 steps of Wide & Deep). The
        reset stays eager, as in Keras's fit: a metric's reset_state may do more than
        assign its variables."""
        if fetch_ahead:  # No XLA: runs of one step, runs >= 1, singles == 0.
            batches = fetch(iterator, micro)
            for _ in tf.range(runs - 1):
                following = fetch(iterator, micro)
                run(batches)
                batches = following
            run(batches)
        else:
            for _ in tf.range(runs):
                run(fetch(iterator, steps_per_run * micro))
            for _ in tf.range(singles):
                run(fetch(iterator, micro))
        return model.get_metrics_result()

    return train_loop


def _make_eval_loop(strategy: tf.distribute.Strategy, model: keras.Model):
    """The evaluation loop: one `test_step` per batch of a distributed dataset."""

    @tf.function
    def eval_loop(dataset):
        for batch in dataset:
            strategy.run(model.test_step, args=(batch,))

    return eval_loop


def _make_any_replica(strategy: tf.distribute.Strategy):
    """A `tf.function` that sums an int flag over every replica (HostLoop.any_worker)."""

    @tf.function
    def any_replica(flag):
        per_replica = strategy.run(lambda: tf.identity(flag))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return any_replica
