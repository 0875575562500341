"""export_model in-process: both formats written, reloaded and checked, locally and on ram://."""

import os

import numpy as np
import pytest
import tensorflow as tf

from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.workdir.directory import EXPORT, Workdir
from trainer.workdir.export import TOLERANCE, check_export, export_model, load_keras_model

# Keras's own model.save converts its variables with np.array(x), which NumPy 2 warns about.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

FEATURES = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
KERAS_ONLY = dict(keras_file=True, saved_model=False, check_on=FEATURES)


def _model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="features")
    x = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def test_the_chief_writes_both_formats_and_checks_them(root):
    model = _model()
    exported = export_model(
        model, Workdir(root, is_chief=True), keras_file=True, saved_model=True, check_on=FEATURES
    )
    assert exported["keras"] == f"{root}/{EXPORT}/model.keras"
    assert exported["saved_model"] == f"{root}/{EXPORT}/saved_model"
    assert not tf.io.gfile.isdir(exported["keras"]) and tf.io.gfile.exists(exported["keras"])
    assert tf.io.gfile.exists(f"{exported['saved_model']}/saved_model.pb")
    assert set(exported["max_abs_diff"]) == {"keras", "saved_model"}
    # Softmax outputs are at most 1: the allowed difference is TOLERANCE itself.
    assert exported["allowed_diff"] == pytest.approx(TOLERANCE, rel=1e-9)
    for kind, difference in exported["max_abs_diff"].items():
        assert 0.0 <= difference <= exported["allowed_diff"], kind

    reloaded = load_keras_model(exported["keras"])
    np.testing.assert_allclose(
        reloaded(FEATURES, training=False).numpy(),
        model(FEATURES, training=False).numpy(),
        rtol=0,
        atol=TOLERANCE,
    )
    served = tf.saved_model.load(exported["saved_model"])
    np.testing.assert_allclose(
        served.serve(FEATURES).numpy(), model(FEATURES).numpy(), rtol=0, atol=TOLERANCE
    )


def test_without_check_on_nothing_is_compared(root):
    exported = export_model(
        _model(), Workdir(root, is_chief=True), keras_file=True, saved_model=False
    )
    assert exported == {
        "keras": f"{root}/{EXPORT}/model.keras",
        "skipped": {"saved_model": "config.export.saved_model=False"},
    }
    assert tf.io.gfile.listdir(f"{root}/{EXPORT}") == ["model.keras"]


def test_only_the_saved_model(root):
    exported = export_model(
        _model(),
        Workdir(root, is_chief=True),
        keras_file=False,
        saved_model=True,
        check_on=FEATURES,
    )
    assert set(exported) == {"saved_model", "max_abs_diff", "allowed_diff", "skipped"}
    assert exported["skipped"] == {"keras": "config.export.keras=False"}
    assert set(exported["max_abs_diff"]) == {"saved_model"}
    assert [p.rstrip("/") for p in tf.io.gfile.listdir(f"{root}/{EXPORT}")] == ["saved_model"]


def test_a_non_chief_returns_nothing_and_writes_nothing(root):
    workdir = Workdir(root, is_chief=False)
    try:
        exported = export_model(
            _model(), workdir, keras_file=True, saved_model=True, check_on=FEATURES
        )
        assert exported == {}
        assert not tf.io.gfile.exists(root)
        assert not os.path.exists(workdir.write_path(EXPORT))  # The scratch export is gone.
    finally:
        workdir.close()


def test_check_export_fails_when_a_reloaded_model_differs(tmp_path):
    model = _model()
    exported = export_model(
        model, Workdir(str(tmp_path), is_chief=True), keras_file=True, saved_model=True
    )
    differences, allowed = check_export(model, exported, FEATURES)  # Same weights: passes.
    assert max(differences.values()) <= allowed

    for variable in model.trainable_variables:  # The in-memory model moves on; the files don't.
        variable.assign(variable.numpy() + 0.5)
    with pytest.raises(HarnessError) as raised:
        check_export(model, exported, FEATURES)
    message = str(raised.value)
    assert exported["keras"] in message  # The first format checked is named.
    assert "predicts differently" in message

    with pytest.raises(HarnessError, match="saved_model"):
        check_export(model, {"saved_model": exported["saved_model"]}, FEATURES)


def test_an_unregistered_layer_reloads_with_its_class_and_is_one_error_without(tmp_path):
    class Unregistered(keras.layers.Layer):  # Not registered with Keras: found by name only.
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((4,), name="features")
    model = keras.Model(inputs, keras.layers.Dense(3)(Unregistered()(inputs)))
    exported = export_model(model, Workdir(str(tmp_path), is_chief=True), **KERAS_ONLY)
    # The run's own check passes the class; a reload without it fails in one line.
    assert exported["keras_custom_objects"] == ["Unregistered"]
    with pytest.raises(HarnessError, match="cannot be reloaded.*register_keras_serializable"):
        check_export(model, {"keras": exported["keras"]}, FEATURES)
    differences, allowed = check_export(
        model,
        {"keras": exported["keras"]},
        FEATURES,
        custom_objects={"Unregistered": Unregistered},
    )
    assert differences["keras"] <= allowed
