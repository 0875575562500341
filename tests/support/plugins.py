"""Plug-ins that the tests name by import path (`tests.support.plugins:...`)."""

import os
import signal
import time

import numpy as np
import tensorflow as tf

from trainer.data import DataSource


class StopOnOneWorker:
    """Asks to stop at `at_step` on the non-chief worker only: the harness must make it
    unanimous."""

    def __init__(self, *, at_step: int, is_chief: bool):
        self.at_step, self.is_chief = at_step, is_chief

    def __call__(self, state):
        if not self.is_chief and state.step >= self.at_step:
            state.request_stop(f"worker 1 asked at step {state.step}")


class KillSelf:
    """SIGKILLs the run at `at_step`, once per workdir (a marker file remembers it), so that
    the same command run again resumes and finishes: a crash with nothing saved on the way."""

    def __init__(self, *, at_step: int, workdir: str):
        self.at_step = at_step
        self.marker = os.path.join(workdir, f"killed_at_step_{at_step}")

    def __call__(self, state):
        if state.step >= self.at_step and not os.path.exists(self.marker):
            with open(self.marker, "w") as f:
                f.write(str(state.step))
            os.kill(os.getpid(), signal.SIGKILL)


class Explode:
    def __init__(self, *, at_step: int):
        self.at_step = at_step

    def __call__(self, state):
        if state.step >= self.at_step:
            raise RuntimeError("the user's action broke")


def arrays(*, rows: int = 60, seed: int):
    rng = np.random.default_rng(seed)

    def split(n):
        x = rng.normal(size=(n, 4)).astype(np.float32)
        return x, (x[:, 0] > 0).astype(np.int32)

    return {"train": split(rows), "validation": split(rows // 3), "test": split(rows // 3)}


def flat_dataset(split, *, rows: int = 40):
    """Returns whole batches instead of (features, label) examples: a structure error."""
    return tf.data.Dataset.from_tensor_slices(np.zeros((rows, 4), np.float32))


def not_a_dataset(split):
    return [1, 2, 3]


def pairs_of_arrays(*, rows: int = 10):
    return {"train": (np.zeros((rows, 2)), np.zeros(rows + 1))}


class CountingSource(DataSource):
    num_classes = 2

    def __init__(self, *, rows: int = 32, seed: int):
        self.rows, self.seed = rows, seed

    def examples(self, split, input_context):
        x = np.arange(self.rows * 3, dtype=np.float32).reshape(self.rows, 3)
        return tf.data.Dataset.from_tensor_slices((x, np.arange(self.rows) % 2))


class SigtermWhileLoading(CountingSource):
    """Sends its own process SIGTERM as the data is first read (while the run starts up), as a
    pod evicted during start-up gets it, then waits to be ended by it."""

    def __init__(self, **digits_args):  # Takes the default config's data.args, unused.
        super().__init__(seed=0)

    def examples(self, split, input_context):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # Interrupted by the handler, which exits.
        raise AssertionError("SIGTERM during start-up did not end the run")


NOT_CALLABLE = 42


def not_compilable(*, input_shape, num_classes):
    """An MLP with a NumPy op in its forward pass: XLA has no kernel for it."""
    from trainer.modeling.keras_api import keras

    class NumpyIdentity(keras.layers.Layer):
        def call(self, x):
            y = tf.numpy_function(lambda a: a, [x], tf.float32)
            y.set_shape(x.shape)
            return y

    inputs = keras.Input(input_shape)
    hidden = keras.layers.Dense(32, activation="relu")(keras.layers.Flatten()(inputs))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(NumpyIdentity()(hidden))
    return keras.Model(inputs, outputs)


def mlp_of_width(units: int, *, input_shape, num_classes):
    """An MLP whose width has no default: it must be set (or drawn by a sweep)."""
    from trainer.modeling.keras_api import keras

    inputs = keras.Input(input_shape)
    hidden = keras.layers.Dense(units, activation="relu")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(hidden))
