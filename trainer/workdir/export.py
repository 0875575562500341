"""Export at the end of a run: WORKDIR/export/model.keras and WORKDIR/export/saved_model.

The chief then reloads both and checks that they predict what the trained model predicts on
the same examples: an export that would serve different answers fails the run, loudly, instead
of surfacing at serving time. When the data names its classes (string labels, class folders),
the SavedModel's `serve` returns {"probabilities": ..., "classes": the names} and
export/class_names.json lists them in label order. Reloading a `.keras` file needs
`trainer.models` imported when the model is one of the zoo's subclassed models (it registers
them with Keras).
"""

import contextlib
import json
import os
import tempfile

import numpy as np
import tensorflow as tf
from absl import logging

from trainer.errors import HarnessError, first_line
from trainer.modeling.keras_api import keras
from trainer.workdir.directory import EXPORT, Workdir

# Largest difference between the trained and the reloaded model's outputs, relative to the
# outputs' size: float32 round-off between the eager model and the traced SavedModel, no more.
TOLERANCE = 1e-5
CLASS_NAMES_FILE = "class_names.json"
# trainer.modeling.fused_adam's optimizers (registered names) and the Keras classes they run.
_KERAS_OPTIMIZERS = {"trainer>FusedAdam": "Adam", "trainer>FusedAdamW": "AdamW"}


def export_model(
    model: keras.Model,
    workdir: Workdir,
    *,
    keras_file: bool,
    saved_model: bool,
    check_on=None,
    directory: str = EXPORT,
    class_names=None,
    serving_sample=None,
):
    """Saves the trained model; returns {format: path} of what the chief wrote, and with
    `check_on` (a batch of features) {"max_abs_diff": {format: difference}} after reloading,
    with the largest difference allowed (TOLERANCE times the outputs' size) as "allowed_diff".
    `directory` is relative to the workdir. `class_names` (in label order) are served by the
    SavedModel when the model's one output is a softmax over them or a sigmoid for two;
    `serving_sample` (a batch of features, `check_on` by default) gives its input signature.
    """
    serving_sample = check_on if serving_sample is None else serving_sample
    named = _servable_class_names(model, class_names, serving_sample)
    relative, directory = directory, workdir.write_path(directory)
    tf.io.gfile.makedirs(directory)
    written = {}
    if keras_file:
        written["keras"] = f"{directory}/model.keras"
        with _portable_compile_config(model):
            model.save(written["keras"])
    if saved_model:
        written["saved_model"] = f"{directory}/saved_model"
        if named:
            _export_with_class_names(model, written["saved_model"], named, serving_sample)
        else:
            model.export(written["saved_model"], verbose=False)
    if class_names:
        with tf.io.gfile.GFile(f"{directory}/{CLASS_NAMES_FILE}", "w") as f:
            json.dump(list(class_names), f)
    workdir.discard_scratch(relative)
    if not workdir.is_chief:
        return {}
    for kind, path in written.items():
        logging.info("Exported %s model to %s.", kind, path)
    exported = {
        kind: workdir.path(relative, path.rsplit("/", 1)[1]) for kind, path in written.items()
    }
    if check_on is not None and written:
        exported["max_abs_diff"], exported["allowed_diff"] = check_export(model, written, check_on)
    return exported


def check_export(model: keras.Model, written: dict, features) -> tuple[dict, float]:
    """Reloads each export and compares its predictions on `features` with the model's;
    returns ({format: largest difference}, the largest difference allowed)."""
    expected = _flat(model(features, training=False))
    differences = {}
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in expected))
    for kind, path in written.items():
        # Keep the reloaded object alive while it runs: its functions do not hold its variables.
        try:
            reloaded = load_keras_model(path) if kind == "keras" else tf.saved_model.load(path)
        except (TypeError, ValueError) as e:
            raise HarnessError(
                f"The exported {kind} model at {path} cannot be reloaded ({first_line(e)}). "
                "Decorate the model's own layers and classes with "
                "@keras.saving.register_keras_serializable(), or set "
                f"config.export.{'keras' if kind == 'keras' else 'saved_model'}=False."
            ) from e
        if kind == "keras":
            got = _flat(reloaded(features, training=False))
        else:
            served = reloaded.serve(features)
            if isinstance(served, dict) and "classes" in served:
                _check_classes(served, expected[0], path)
                served = served["probabilities"]
            got = _flat(served)
        difference = max(float(np.max(np.abs(e - g))) for e, g in zip(expected, got, strict=True))
        if not difference <= TOLERANCE * scale:
            raise HarnessError(
                f"The exported {kind} model at {path} predicts differently from the trained "
                f"model (largest difference {difference:.3g}). The checkpoints are intact; "
                "report this with the model's config."
            )
        differences[kind] = difference
    logging.info("Reloaded exports match the trained model: largest differences %s.", differences)
    return differences, TOLERANCE * scale


def _servable_class_names(model, class_names, features) -> list[str] | None:
    """The class names if the model's output can be read as them; None (and why) if not."""
    if not class_names or features is None:
        return None
    outputs = model(features, training=False)
    if not tf.is_tensor(outputs) or outputs.shape.rank != 2:
        logging.warning("Class names not served: the model has %s outputs.", type(outputs))
        return None
    units = outputs.shape[-1]
    if units == len(class_names) or (units == 1 and len(class_names) == 2):
        return [str(name) for name in class_names]
    logging.warning(
        "Class names not served: %d names for an output of %d units.", len(class_names), units
    )
    return None


def _export_with_class_names(model, path: str, class_names: list[str], features) -> None:
    """A SavedModel whose `serve` returns the probabilities and each example's most likely
    class name (a sigmoid unit: the second name above 0.5); its inputs keep the model's names."""
    if isinstance(features, dict):
        signature = {
            key: tf.TensorSpec((None, *x.shape[1:]), x.dtype, name=key)
            for key, x in features.items()
        }
    else:
        inputs = getattr(model, "inputs", None) or []
        name = inputs[0].name.split(":")[0] if len(inputs) == 1 else "inputs"
        signature = tf.TensorSpec((None, *features.shape[1:]), features.dtype, name=name)
    names = tf.constant(class_names)

    def serve(inputs):
        probabilities = model(inputs, training=False)
        if probabilities.shape[-1] == 1:
            index = tf.cast(probabilities[:, 0] > 0.5, tf.int32)
        else:
            index = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {"probabilities": probabilities, "classes": tf.gather(names, index)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serve, input_signature=[signature])
    archive.write_out(path, verbose=False)


def _check_classes(served: dict, expected: np.ndarray, path: str) -> None:
    names = [name.decode() for name in np.asarray(served["classes"])]
    probabilities = np.asarray(served["probabilities"])
    if probabilities.shape[-1] == 1:
        index = (probabilities[:, 0] > 0.5).astype(int)
    else:
        index = np.argmax(probabilities, axis=-1)
    agree = np.argmax(expected, axis=-1) == index if expected.shape[-1] > 1 else True
    if not np.all(agree) or len(names) != len(index):
        raise HarnessError(
            f"The SavedModel at {path} serves classes that do not follow its probabilities: "
            "report this with the model's config."
        )


@contextlib.contextmanager
def _portable_compile_config(model: keras.Model):
    """Saves the .keras file's compile config with Keras's own objects only, so that
    `keras.models.load_model` compiles it without importing the harness:
    trainer.modeling.fused_adam's optimizers become Keras's Adam and AdamW, the learning-rate
    schedule its last value, and the harness's sparse loss with label smoothing Keras's sparse
    cross-entropy (its smoothing is a training choice; re-compile to train on)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:  # Not compiled: nothing to convert.
        yield
        return
    learning_rate = float(tf.convert_to_tensor(optimizer.learning_rate).numpy())

    def keras_only(value):
        if isinstance(value, dict):
            registered = value.get("registered_name") or ""
            if registered.startswith("trainer>"):
                config = value.get("config", {})
                keras_class = _KERAS_OPTIMIZERS.get(registered)
                if keras_class:  # The fused Adam's: Keras's own optimizer, run differently.
                    return {
                        "module": "keras.optimizers",
                        "class_name": keras_class,
                        "config": keras_only(config),
                        "registered_name": None,
                    }
                if "label_smoothing" in config:  # trainer.modeling.losses' sparse smoothing.
                    return keras.losses.serialize(
                        keras.losses.SparseCategoricalCrossentropy(
                            from_logits=config.get("from_logits", False),
                            axis=config.get("axis", -1),
                        )
                    )
                return learning_rate  # A trainer.modeling.schedules schedule.
            return {key: keras_only(item) for key, item in value.items()}
        if isinstance(value, list):
            return [keras_only(item) for item in value]
        return value

    own = model.get_compile_config
    model.get_compile_config = lambda: keras_only(own())
    try:
        yield
    finally:
        del model.get_compile_config


def load_keras_model(path: str) -> keras.Model:
    """Loads a `.keras` file from any tf.io.gfile path (Keras itself reads local files)."""
    import trainer.models  # noqa: F401  Registers the zoo's subclassed models with Keras.

    if "://" not in path:
        return keras.models.load_model(path, compile=False)
    with tempfile.TemporaryDirectory() as scratch:
        local = os.path.join(scratch, "model.keras")
        tf.io.gfile.copy(path, local)
        return keras.models.load_model(local, compile=False)


def _flat(outputs) -> list[np.ndarray]:
    return [np.asarray(output) for output in tf.nest.flatten(outputs)]
