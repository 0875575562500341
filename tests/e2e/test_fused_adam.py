"""trainer.modeling.fused_adam: the same training as Keras's Adam and AdamW, with the fused
kernel where it should run, under one device, two mirrored replicas, loss scaling and XLA;
checkpoints interchangeable with Keras's Adam; `.keras` exports that name Keras's own optimizer."""

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from trainer.modeling.fused_adam import FusedAdamW
from trainer.modeling.keras_api import keras
from trainer.workdir import export

WIDTH = 256  # A WIDTH x WIDTH kernel has FUSED_MIN_ELEMENTS elements: it takes the kernel.

VOCABULARY = 1000


def _model(seed=0, embedding=False):
    keras.utils.set_random_seed(seed)
    if embedding:  # Gathers: its gradient is an IndexedSlices, which Keras's ops take.
        inputs = keras.Input((4,), dtype="int32")
        x = keras.layers.Flatten()(keras.layers.Embedding(VOCABULARY, WIDTH // 4)(inputs))
    else:
        inputs = keras.Input((WIDTH,))
        x = inputs
    x = keras.layers.Dense(WIDTH, activation="relu")(x)  # Kernel fused, bias not.
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def _data(embedding=False, n=64):
    rng = np.random.default_rng(1)
    if embedding:
        features = rng.integers(0, VOCABULARY, (n, 4)).astype("int32")
    else:
        features = rng.normal(size=(n, WIDTH)).astype("float32")
    return features, rng.integers(0, 3, n).astype("int32")


def test_a_keras_file_names_keras_adam_and_loads_without_the_harness(tmp_path):
    model = _model()
    model.compile(optimizer=FusedAdamW(weight_decay=0.01), loss="sparse_categorical_crossentropy")
    model.train_on_batch(*_data())
    with export._portable_compile_config(model):
        model.save(tmp_path / "model.keras")
    with zipfile.ZipFile(tmp_path / "model.keras") as saved:
        optimizer = json.loads(saved.read("config.json"))["compile_config"]["optimizer"]
    assert (optimizer["module"], optimizer["class_name"]) == ("keras.optimizers", "AdamW")
    assert optimizer["config"]["weight_decay"] == pytest.approx(0.01)
    code = (
        "import sys, keras; m = keras.models.load_model(sys.argv[1]); "
        "assert 'trainer' not in sys.modules; print(type(m.optimizer).__name__)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "model.keras")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split()[-1] == "AdamW"


_MIRRORED = """
import numpy as np, tensorflow as tf
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
from tests.unit.modeling.test_fused_adam import ATOL, _data, _model, op_types
from trainer.modeling.fused_adam import FusedAdam
from trainer.modeling.keras_api import create_all_variables, keras

def train(optimizer):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    data = tf.data.Dataset.from_tensor_slices(_data(n=96)).batch(48)  # 24 per replica.
    with strategy.scope():
        model = _model()
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer=optimizer(1e-2), loss=loss)
        create_all_variables(model, next(iter(data)))
    batches = iter(strategy.experimental_distribute_dataset(data.repeat()))

    @tf.function
    def step(batch):
        strategy.run(model.train_step, args=(batch,))

    step(next(batches))
    return [w.numpy() for w in model.weights], op_types(step.get_concrete_function(next(batches)))

ours, ops = train(FusedAdam)
theirs, _ = train(keras.optimizers.Adam)
worst = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
print("FUSED", "ResourceApplyAdam" in ops, "WORST", worst, "ATOL", ATOL)
"""


def test_two_mirrored_replicas_train_like_keras_adam():
    run = subprocess.run(
        [sys.executable, "-m", "tests.support.run_python", _MIRRORED],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    words = run.stdout.split()
    fused, worst, atol = words[words.index("FUSED") + 1], float(words[-3]), float(words[-1])
    assert fused == "True"
    assert worst <= atol
