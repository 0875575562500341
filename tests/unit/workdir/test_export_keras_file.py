"""The .keras export of a user's classes: what Keras can rebuild is written and checked with the
classes as custom_objects, what it cannot is skipped and said why; and every export is written
whole under a temporary name, then moved into place, with nothing stale or partial left."""

import uuid

import numpy as np
import pytest
import tensorflow as tf

from tests.support.subclass_models import ConfigOnly, NoConfig, Registered
from trainer.modeling.keras_api import keras
from trainer.workdir import export
from trainer.workdir.directory import EXPORT, Workdir
from trainer.workdir.export import (
    TEMPORARY,
    TOLERANCE,
    export_model,
    keras_file_support,
    load_keras_model,
    rename_directory,
)

# Keras's own model.save converts its variables with np.array(x), which NumPy 2 warns about.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

FEATURES = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
BOTH = dict(keras_file=True, saved_model=True, check_on=FEATURES)
MODULE = "tests.support.subclass_models"


def _built(model):
    keras.utils.set_random_seed(0)
    model(FEATURES)
    return model


def _no_config():
    return _built(NoConfig(num_classes=3, read_train_features=lambda: FEATURES))


def _files(root: str) -> dict[str, int]:
    """{path under root: size} of every file."""
    return {
        f"{top}/{name}"[len(root) + 1 :]: tf.io.gfile.stat(f"{top}/{name}").length
        for top, _, names in tf.io.gfile.walk(root)
        for name in names
    }


def _assert_whole(root: str) -> None:
    files = _files(root)
    assert not [path for path in files if TEMPORARY in path or "tmp" in path], files
    assert not [path for path, size in files.items() if size == 0], files


def test_what_each_of_the_users_models_needs_of_a_keras_file():
    no_config = keras_file_support(_no_config())
    assert no_config.not_rebuildable and "NoConfig" in no_config.not_rebuildable
    assert no_config.warning == (
        f"Model class NoConfig ({MODULE}) cannot be saved as .keras: it has no get_config() and "
        "its __init__ takes arguments Keras cannot record. The .keras export is skipped and the "
        "SavedModel is exported. To export a .keras file too, decorate it with "
        "@keras.saving.register_keras_serializable() and give it a get_config() that returns "
        "its __init__ arguments."
    )
    config_only = keras_file_support(_built(ConfigOnly(num_classes=3)))
    assert config_only.not_rebuildable is None
    assert config_only.custom_objects == {"ConfigOnly": ConfigOnly}
    assert config_only.warning == (
        f"Model class ConfigOnly ({MODULE}) is not registered with Keras: the .keras export "
        "reloads only with custom_objects={'ConfigOnly': ConfigOnly}. To make it portable, "
        "decorate it with @keras.saving.register_keras_serializable()."
    )
    registered = keras_file_support(_built(Registered(num_classes=3)))
    assert registered.warning is None and registered.custom_objects == {}
    assert registered.user_classes == ("Registered",)
    zoo = keras_file_support(_built(_functional(keras.layers.Dense(3))))
    assert zoo == export.KerasFileSupport()  # Keras's own classes only: nothing to say.


def _functional(layer):
    inputs = keras.Input((4,), name="features")
    return keras.Model(inputs, keras.layers.Dense(3)(layer(inputs)))


def test_a_users_layer_in_a_functional_model_is_named_as_a_layer():
    class Doubled(keras.layers.Layer):  # No get_config, no arguments: Keras records it.
        def call(self, x):
            return x * 2.0

    support = keras_file_support(_functional(Doubled()))
    assert support.custom_objects == {"Doubled": Doubled}
    assert support.warning.startswith(f"Layer class Doubled ({__name__}) is not registered")
    assert support.warning.endswith("(and give it a get_config() if its __init__ takes arguments).")

    @keras.saving.register_keras_serializable(package="test_export_keras_file")
    class Scaled(keras.layers.Layer):  # Registered, but a function argument has no config.
        def __init__(self, scale):
            super().__init__()
            self.scale = scale

        def call(self, x):
            return self.scale(x)

    support = keras_file_support(_functional(Scaled(tf.nn.relu)))
    assert support.not_rebuildable.startswith("Keras cannot rebuild Scaled")
    assert support.warning.startswith(f"Layer class Scaled ({__name__}) cannot be saved")
    assert "decorate" not in support.warning  # It is registered: only get_config is missing.
    assert support.warning.endswith("give it a get_config() that returns its __init__ arguments.")


def test_a_model_keras_cannot_rebuild_exports_the_saved_model_and_says_why(root):
    model = _no_config()
    exported = export_model(model, Workdir(root, is_chief=True), **BOTH)
    assert set(exported) == {"saved_model", "max_abs_diff", "allowed_diff", "skipped"}
    assert exported["skipped"]["keras"].startswith("Keras cannot rebuild NoConfig")
    assert exported["max_abs_diff"]["saved_model"] <= exported["allowed_diff"]
    assert [p.rstrip("/") for p in tf.io.gfile.listdir(f"{root}/{EXPORT}")] == ["saved_model"]
    saved_model = tf.saved_model.load(exported["saved_model"])  # Alive while it serves.
    np.testing.assert_allclose(saved_model.serve(FEATURES), model(FEATURES), rtol=0, atol=TOLERANCE)
    _assert_whole(root)


def test_an_unregistered_model_with_get_config_is_written_and_checked_with_its_class(root):
    model = _built(ConfigOnly(num_classes=3))
    exported = export_model(model, Workdir(root, is_chief=True), **BOTH)
    assert exported["keras_custom_objects"] == ["ConfigOnly"] and "skipped" not in exported
    assert set(exported["max_abs_diff"]) == {"keras", "saved_model"}
    reloaded = load_keras_model(exported["keras"], custom_objects={"ConfigOnly": ConfigOnly})
    assert type(reloaded) is ConfigOnly
    np.testing.assert_allclose(reloaded(FEATURES), model(FEATURES), rtol=0, atol=TOLERANCE)
    _assert_whole(root)


def test_a_keras_file_that_does_not_rebuild_the_users_class_is_removed(tmp_path):
    class Forgetful(ConfigOnly):  # get_config without hidden_units: rebuilt with 16, not 8.
        def get_config(self):
            config = super().get_config()
            del config["hidden_units"]
            return config

    model = _built(Forgetful(num_classes=3, hidden_units=8))
    exported = export_model(model, Workdir(str(tmp_path), is_chief=True), **BOTH)
    assert "keras" not in exported and exported["skipped"]["keras"].startswith("it does not")
    assert set(exported["max_abs_diff"]) == {"saved_model"}
    assert not (tmp_path / EXPORT / "model.keras").exists()
    _assert_whole(str(tmp_path))


def test_an_export_this_run_does_not_write_is_removed_with_a_killed_runs_leftovers(root):
    workdir = Workdir(root, is_chief=True)
    export_model(_built(ConfigOnly(num_classes=3)), workdir, **BOTH)
    directory = f"{root}/{EXPORT}"
    for leftover in (f"{TEMPORARY}0123abcd-model.keras", f"{TEMPORARY}0123abcd-saved_model"):
        with tf.io.gfile.GFile(f"{directory}/{leftover}", "w") as f:
            f.write("")  # What a run killed mid-export left.
    exported = export_model(_no_config(), workdir, **BOTH)
    assert "keras" in exported["skipped"]
    assert [p.rstrip("/") for p in tf.io.gfile.listdir(directory)] == ["saved_model"]
    exported = export_model(_no_config(), workdir, keras_file=False, saved_model=False)
    assert exported == {
        "skipped": {
            "keras": "config.export.keras=False",
            "saved_model": "config.export.saved_model=False",
        }
    }
    assert tf.io.gfile.listdir(directory) == []


def test_a_save_that_fails_leaves_the_last_whole_export_and_no_partial_file(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    model = _built(Registered(num_classes=3))
    before = export_model(model, workdir, keras_file=True, saved_model=False)
    keras_file = tmp_path / EXPORT / "model.keras"
    content = keras_file.read_bytes()

    def save_half(path):
        with open(path, "wb") as f:
            f.write(b"PK")  # A zip archive's first bytes, then the disk fills.
        raise OSError("No space left on device")

    model.save = save_half
    with pytest.raises(OSError, match="No space"):
        export_model(model, workdir, keras_file=True, saved_model=False)
    assert keras_file.read_bytes() == content and before["keras"] == str(keras_file)
    assert sorted(p.name for p in (tmp_path / EXPORT).iterdir()) == ["model.keras"]


def test_on_a_remote_filesystem_a_directory_moves_file_by_file_its_marker_last(monkeypatch):
    root = f"ram://rename-{uuid.uuid4().hex}"
    source, target = f"{root}/{TEMPORARY}x-saved_model", f"{root}/saved_model"
    for name in ("saved_model.pb", "fingerprint.pb", "variables/variables.index"):
        tf.io.gfile.makedirs(f"{source}/{name}".rsplit("/", 1)[0])
        with tf.io.gfile.GFile(f"{source}/{name}", "w") as f:
            f.write(name)
    moved, rename = [], tf.io.gfile.rename
    monkeypatch.setattr(
        tf.io.gfile,
        "rename",
        lambda a, b, overwrite=False: (moved.append(b), rename(a, b, overwrite)),
    )
    try:
        rename_directory(source, target, last="saved_model.pb")
        assert moved[-1] == f"{target}/saved_model.pb" and len(moved) == 3
        assert not tf.io.gfile.exists(source)
        with tf.io.gfile.GFile(f"{target}/variables/variables.index") as f:
            assert f.read() == "variables/variables.index"
    finally:
        tf.io.gfile.rmtree(root)
