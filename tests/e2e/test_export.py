"""A `.keras` export compiles in plain Keras, with a schedule and label smoothing, in a process that
never imported the harness."""

import numpy as np
import pytest

from trainer.modeling.keras_api import keras
from trainer.workdir.directory import EXPORT, Workdir
from trainer.workdir.export import export_model

# Keras's own model.save converts its variables with np.array(x), which NumPy 2 warns about.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

FEATURES = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)


def _model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="features")
    x = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def test_the_keras_file_compiles_in_plain_keras_with_a_schedule_and_smoothing(tmp_path):
    import subprocess
    import sys

    from trainer.modeling.losses import SparseCategoricalCrossentropyWithSmoothing
    from trainer.modeling.schedules import Constant, WarmupThenDecay

    model = _model()
    schedule = WarmupThenDecay(peak=0.01, decay=Constant(0.01), warmup_steps=10, scale=0.5)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=SparseCategoricalCrossentropyWithSmoothing(label_smoothing=0.1),
    )
    model.fit(FEATURES, np.array([0, 1, 2, 0, 1]), epochs=1, verbose=0)
    workdir = Workdir(str(tmp_path), is_chief=True)
    export_model(model, workdir, keras_file=True, saved_model=False)
    # A fresh Python with Keras only: every object in the file must be Keras's own.
    load = (
        "import sys, keras\n"
        "model = keras.models.load_model(sys.argv[1])\n"
        "print(type(model.loss).__name__, float(model.optimizer.learning_rate))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", load, str(tmp_path / EXPORT / "model.keras")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    loss, rate = process.stdout.split()
    assert loss == "SparseCategoricalCrossentropy"
    assert float(rate) == pytest.approx(0.01 * 0.5 * 1 / 10, rel=1e-5)  # Step 1 of warmup.
    assert not hasattr(model, "get_compile_config") or "get_compile_config" not in vars(model)
