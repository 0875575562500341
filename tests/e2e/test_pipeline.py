import json
import math
import os
import subprocess
import sys

from tests.support.helpers import REPO

# The same weights evaluated under 2 mirrored replicas and under the default strategy.
_MIRRORED_EVALUATION = """
import json, sys
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from trainer.data import make_dataset_fn
from trainer.data.sources import InMemorySource
from trainer.modeling.keras_api import create_all_variables, keras
from trainer.loop.host_loop import HostLoop


class MeanOutput(keras.Model):  # A user's test_step that averages over the batch.

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mean_output = keras.metrics.Mean(name="mean_output")

    def test_step(self, data):
        x, _ = data
        self.mean_output.update_state(tf.reduce_mean(self(x, training=False)))
        return {"mean_output": self.mean_output.result()}


def build(strategy, model_class, weights=None):
    with strategy.scope():
        inputs = keras.Input((6, 6, 1))
        x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
        # The second Conv2D is the one that fails on an empty batch on CPU (oneDNN).
        x = keras.layers.Conv2D(4, 3, activation="relu")(x)
        outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
        model = model_class(inputs, outputs)
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        create_all_variables(model, source.sample_batch())
    if weights is not None:
        model.set_weights(weights)
    return model


rng = np.random.default_rng(0)
splits = {
    "train": (rng.standard_normal((4, 6, 6, 1), np.float32), np.zeros(4, np.int32)),
    "test": (rng.standard_normal((181, 6, 6, 1), np.float32), rng.integers(0, 3, 181, np.int32)),
    "small": (rng.standard_normal((5, 6, 6, 1), np.float32), np.arange(5, dtype=np.int32) % 3),
}
source = InMemorySource(splits, num_classes=3)
weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.3 for w in
           build(tf.distribute.get_strategy(), keras.Model).get_weights()]
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
results = {}
for name, strategy in (("default", tf.distribute.get_strategy()), ("mirrored", mirrored)):
    for model_class in (keras.Model, MeanOutput):
        model = build(strategy, model_class, weights)
        loop = HostLoop(strategy=strategy, model=model, jit_compile=False)
        for split, batch in (("test", 16), ("test", 256), ("small", 16)):
            dataset = strategy.distribute_datasets_from_function(make_dataset_fn(
                source, split, global_batch_size=batch, training=False, seed=0))
            key = f"{name} {model_class.__name__} {split} {batch}"
            results[key] = loop.evaluate(dataset)
print(json.dumps(results))
"""


def test_mirrored_evaluation_equals_one_replica_and_never_sees_an_empty_batch():
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    process = subprocess.run(
        [sys.executable, "-c", _MIRRORED_EVALUATION],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    results = json.loads(process.stdout.strip().splitlines()[-1])
    for key, mirrored in results.items():
        if not key.startswith("mirrored"):
            continue
        single = results[key.replace("mirrored", "default")]
        assert mirrored.keys() == single.keys(), key
        for metric, value in mirrored.items():
            assert math.isfinite(value), (key, metric)
            assert abs(value - single[metric]) <= 1e-6, (key, metric, value, single[metric])
        if "MeanOutput" in key:  # The mean of softmax outputs over 3 classes.
            assert abs(mirrored["mean_output"] - 1 / 3) <= 1e-6, key
        else:
            assert {"loss", "accuracy"} <= mirrored.keys(), key
