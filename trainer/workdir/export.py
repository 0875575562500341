"""Export at the end of a run: WORKDIR/export/model.keras and WORKDIR/export/saved_model.

The chief then reloads both and checks that they predict what the trained model predicts on
the same examples: an export that would serve different answers fails the run, loudly, instead
of surfacing at serving time. When the data names its classes (string labels, class folders),
the SavedModel's `serve` returns {"probabilities": ..., "classes": the names} and
export/class_names.json lists them in label order. Reloading a `.keras` file needs
`trainer.models` imported when the model is one of the zoo's subclassed models (it registers
them with Keras).

A user's class that is not registered with Keras (`keras_file_support` reads the config Keras
would save) does not fail the run: a .keras file Keras can rebuild is written and checked with
the model's own classes as custom_objects; one it cannot rebuild (no usable get_config) is
skipped, and results.json's export section says why. Every export is written under a temporary
name beside its place and renamed into place when whole; an export this run does not write is
removed, so that none from an earlier run passes for this run's.
"""

import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import uuid

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
FILES = {"keras": "model.keras", "saved_model": "saved_model"}  # Each format's name.
# Starts the name of an export being written: it is renamed into place only when whole, and
# the chief deletes what a run killed mid-export left. A prefix, so that a temporary name never
# starts with the final one (ram:// takes a path for a directory of every name it begins).
TEMPORARY = ".tmp-"
# trainer.modeling.fused_adam's optimizers (registered names) and the Keras classes they run.
_KERAS_OPTIMIZERS = {"trainer>FusedAdam": "Adam", "trainer>FusedAdamW": "AdamW"}
# Packages whose classes Keras finds by their module when it loads a file: never the user's.
_KERAS_PACKAGES = ("keras", "keras_hub", "keras_cv", "keras_nlp")


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
    A format not written is under "skipped" with the reason; a .keras file that reloads only
    with the user's classes names them under "keras_custom_objects".
    `directory` is relative to the workdir. `class_names` (in label order) are served by the
    SavedModel when the model's one output is a softmax over them or a sigmoid for two;
    `serving_sample` (a batch of features, `check_on` by default) gives its input signature.
    """
    serving_sample = check_on if serving_sample is None else serving_sample
    named = _servable_class_names(model, class_names, serving_sample)
    relative, directory = directory, workdir.write_path(directory)
    tf.io.gfile.makedirs(directory)
    if workdir.is_chief:
        _remove_leftovers(directory)
    support = keras_file_support(model) if keras_file else None
    skipped = {} if keras_file else {"keras": "config.export.keras=False"}
    if not saved_model:
        skipped["saved_model"] = "config.export.saved_model=False"
    if support and support.not_rebuildable:
        skipped["keras"] = support.not_rebuildable
        logging.info("No .keras export: %s.", support.not_rebuildable)
    written = _write(model, directory, skipped, named=named, serving_sample=serving_sample)
    if class_names:
        with _in_place(f"{directory}/{CLASS_NAMES_FILE}") as temporary:
            with tf.io.gfile.GFile(temporary, "w") as f:
                json.dump(list(class_names), f)
    workdir.discard_scratch(relative)
    if not workdir.is_chief:
        return {}
    for kind, path in written.items():
        logging.info("Exported %s model to %s.", kind, path)
    checks = _checked(model, written, check_on, support, skipped) if check_on is not None else {}
    _remove_stale(directory, skipped)
    exported = {kind: workdir.path(relative, FILES[kind]) for kind in written}
    exported.update(checks)
    if skipped:
        exported["skipped"] = skipped
    if "keras" in exported and support.custom_objects:
        exported["keras_custom_objects"] = sorted(support.custom_objects)
    return exported


def _write(model, directory: str, skipped: dict, *, named, serving_sample) -> dict:
    """Writes each format not in `skipped`, each whole before it takes its place; returns
    {format: path}."""
    written = {}
    if "keras" not in skipped:
        written["keras"] = f"{directory}/{FILES['keras']}"
        with _in_place(written["keras"]) as temporary, _portable_compile_config(model):
            model.save(temporary)
    if "saved_model" not in skipped:
        written["saved_model"] = f"{directory}/{FILES['saved_model']}"
        with _in_place(written["saved_model"], last="saved_model.pb") as temporary:
            if named:
                _export_with_class_names(model, temporary, named, serving_sample)
            else:
                model.export(temporary, verbose=False)
    return written


def _checked(model, written: dict, check_on, support, skipped: dict) -> dict:
    """check_export's results; a .keras file that does not reload because of the user's own
    classes is removed and recorded in `skipped` (the SavedModel does not need them)."""
    if not written:
        return {}
    custom_objects = support.custom_objects if support else None
    try:
        differences, allowed = check_export(model, written, check_on, custom_objects=custom_objects)
    except _NotReloadable as e:
        if e.kind != "keras" or not (support and support.user_classes):
            raise
        logging.warning(
            "The .keras export of a model with the user's classes %s does not reload (%s): "
            "deleted; the SavedModel is kept. Check that from_config(get_config()) rebuilds "
            "each class.",
            ", ".join(support.user_classes),
            e.reason,
        )
        tf.io.gfile.remove(written.pop("keras"))
        skipped["keras"] = f"it does not reload: {e.reason}"
        return _checked(model, written, check_on, None, skipped)
    return {"max_abs_diff": differences, "allowed_diff": allowed}


class _NotReloadable(HarnessError):
    def __init__(self, message: str, *, kind: str, reason: str):
        super().__init__(message)
        self.kind, self.reason = kind, reason


def check_export(
    model: keras.Model, written: dict, features, *, custom_objects=None
) -> tuple[dict, float]:
    """Reloads each export and compares its predictions on `features` with the model's;
    returns ({format: largest difference}, the largest difference allowed). `custom_objects`
    ({name: class}): the user's classes a .keras file needs to reload."""
    expected = _flat(model(features, training=False))
    differences = {}
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in expected))
    for kind, path in written.items():
        # Keep the reloaded object alive while it runs: its functions do not hold its variables.
        try:
            if kind == "keras":
                reloaded = load_keras_model(path, custom_objects=custom_objects)
            else:
                reloaded = tf.saved_model.load(path)
        except (TypeError, ValueError) as e:
            raise _NotReloadable(
                f"The exported {kind} model at {path} cannot be reloaded ({first_line(e)}). "
                "Decorate the model's own layers and classes with "
                "@keras.saving.register_keras_serializable(), or set "
                f"config.export.{'keras' if kind == 'keras' else 'saved_model'}=False.",
                kind=kind,
                reason=first_line(e),
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


def load_keras_model(path: str, *, custom_objects=None) -> keras.Model:
    """Loads a `.keras` file from any tf.io.gfile path (Keras itself reads local files).
    `custom_objects` ({name: class}) resolves classes not registered with Keras."""
    import trainer.models  # noqa: F401  Registers the zoo's subclassed models with Keras.

    if "://" not in path:
        return keras.models.load_model(path, compile=False, custom_objects=custom_objects)
    with tempfile.TemporaryDirectory() as scratch:
        local = os.path.join(scratch, "model.keras")
        tf.io.gfile.copy(path, local)
        return keras.models.load_model(local, compile=False, custom_objects=custom_objects)


def _flat(outputs) -> list[np.ndarray]:
    return [np.asarray(output) for output in tf.nest.flatten(outputs)]


@dataclasses.dataclass(frozen=True)
class KerasFileSupport:
    """What a .keras file of a model needs, read from the config Keras would save in it."""

    user_classes: tuple[str, ...] = ()  # The user's classes in the config (not Keras's).
    custom_objects: dict = dataclasses.field(default_factory=dict)  # Unregistered: {name: class}.
    not_rebuildable: str | None = None  # Why Keras cannot rebuild the model; None: it can.
    warning: str | None = None  # One line for the log, None when the file reloads anywhere.


def keras_file_support(model: keras.Model) -> KerasFileSupport:
    """Serializes the model's config as `model.save` does (weights aside, so it is cheap) and
    reads which of the user's classes a .keras file depends on.

    Keras writes an unregistered class under its bare name and finds it again only in
    custom_objects; a class without get_config has one only when Keras could record every
    __init__ argument (str, int, float, bool, None), else saving raises NotImplementedError."""
    try:
        with _portable_compile_config(model):
            config = keras.saving.serialize_keras_object(model)
    except Exception as e:  # noqa: BLE001 - a user's get_config may raise anything.
        return _not_rebuildable(model, e)
    registered = keras.saving.get_custom_objects()
    entries = {(module, name): registered_name for module, name, registered_name in _custom(config)}
    unregistered = {key for key, name in entries.items() if name not in registered}
    classes = {type(obj).__name__: type(obj) for obj in _objects(model)}
    custom_objects = {}
    for module, name in sorted(unregistered, key=lambda key: key[1]):
        found = classes.get(name) or getattr(sys.modules.get(module or ""), name, None)
        if found is not None:  # Else the check after saving tells.
            custom_objects[name] = found
    user = sorted({name for module, name in entries if not (module or "").startswith("trainer.")})
    keys = sorted(unregistered, key=lambda key: key[1])
    warning = _unregistered_warning(keys, classes, custom_objects) if keys else None
    return KerasFileSupport(tuple(user), custom_objects, None, warning)


def _unregistered_warning(keys, classes: dict, custom_objects: dict) -> str:
    subject, verb = _subject(keys, classes)
    mapping = ", ".join(f"{name!r}: {name}" for name in custom_objects)
    fix = "decorate it" if len(keys) == 1 else "decorate each"
    fix += " with @keras.saving.register_keras_serializable()"
    if not all(_has_own_config(classes.get(name)) for _, name in keys):
        fix += " (and give it a get_config() if its __init__ takes arguments)"
    return (
        f"{subject} {verb} not registered with Keras: the .keras export reloads only with "
        f"custom_objects={{{mapping}}}. To make it portable, {fix}."
    )


def _has_own_config(cls) -> bool:
    """Whether `cls` (or a class of the user's it derives from) defines get_config."""
    return cls is not None and any(
        "get_config" in vars(k) for k in cls.__mro__ if not k.__module__.startswith(_KERAS_PACKAGES)
    )


def _not_rebuildable(model: keras.Model, error: Exception) -> KerasFileSupport:
    """Names the class whose config Keras cannot get, and what to do about it."""
    culprit, error = _culprit(model, error)
    cls = type(culprit)
    subject, _ = _subject([(cls.__module__, cls.__name__)], {cls.__name__: cls})
    own_config = _has_own_config(cls)
    registered = keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is cls
    if own_config:
        reason = f"its get_config() raised {type(error).__name__}: {first_line(error, 120)}"
        fix = "make get_config() return its __init__ arguments"
    else:
        reason = "it has no get_config() and its __init__ takes arguments Keras cannot record"
        fix = "give it a get_config() that returns its __init__ arguments"
    if not registered:
        fix = f"decorate it with @keras.saving.register_keras_serializable() and {fix}"
    why = f"Keras cannot rebuild {cls.__name__} from a .keras file: {reason}"
    warning = (
        f"{subject} cannot be saved as .keras: {reason}. The .keras export is skipped and the "
        f"SavedModel is exported. To export a .keras file too, {fix}."
    )
    return KerasFileSupport((cls.__name__,), {}, why, warning)


def _culprit(model: keras.Model, error: Exception):
    """The first of the user's objects, outermost first, whose own get_config fails, with its
    error; the model and `error` when none does alone."""
    for obj in _objects(model):
        if type(obj).__module__.startswith(_KERAS_PACKAGES):
            continue
        try:
            obj.get_config()
        except Exception as e:  # noqa: BLE001 - the user's code: any error says it.
            return obj, e
    return model, error


def _objects(model: keras.Model):
    """The model, then its layers and theirs, outermost first (public `layers` of models)."""
    seen, queue = set(), [model]
    while queue:
        obj = queue.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        queue.extend(getattr(obj, "layers", None) or [])


def _custom(config):
    """(module, class name, registered name) of each class in a serialized config that Keras
    would not find by its module: the user's, registered or not."""
    if isinstance(config, (list, tuple)):
        for item in config:
            yield from _custom(item)
        return
    if not isinstance(config, dict):
        return
    module, registered = config.get("module"), config.get("registered_name")
    class_name = config.get("class_name")
    if registered and class_name not in (None, "function", "__typespec__"):
        if not (module or "").startswith(_KERAS_PACKAGES):
            yield module, class_name, registered
    for value in config.values():
        yield from _custom(value)


def _subject(keys, classes: dict) -> tuple[str, str]:
    """("Model class Name (module)", "is"), or ("Classes A (m), B (m)", "are") for several."""
    named = ", ".join(f"{name} ({module or '__main__'})" for module, name in keys)
    if len(keys) > 1:
        return f"Classes {named}", "are"
    cls = classes.get(keys[0][1])
    kind = "Model" if cls and issubclass(cls, keras.Model) else "Layer"
    return f"{kind} class {named}", "is"


@contextlib.contextmanager
def _in_place(path: str, *, last: str | None = None):
    """Yields a temporary name beside `path` to write to; once written without an error, it is
    moved into place (`move_into_place`), else deleted: never an empty or partial export."""
    temporary = _temporary_name(path)
    try:
        yield temporary
    except BaseException:
        _delete(temporary)
        raise
    move_into_place(temporary, path, last=last)


def _temporary_name(path: str) -> str:
    """A new name beside `path` that ends like it (Keras saves only to names ending in .keras)."""
    head, _, name = path.rpartition("/")
    return f"{head}/{TEMPORARY}{uuid.uuid4().hex[:8]}-{name}"


def move_into_place(source: str, target: str, *, last: str | None = None) -> None:
    """Renames `source`, a file or a directory written whole, to `target`, replacing it.

    A file's rename is atomic (locally, and for one object on gs://: the new object appears
    whole). So is a local directory's, once the old one is set aside: `target` is the old export,
    the new one or, for an instant, none, never part of one. On gs:// a directory cannot be
    renamed atomically (TensorFlow copies and deletes each object): the old one is deleted rather
    than copied aside, and `rename_directory` moves `last`, the file that makes the directory
    loadable, last."""
    if not tf.io.gfile.isdir(source):
        tf.io.gfile.rename(source, target, overwrite=True)
        return
    if "://" in target:
        _delete(target)
        rename_directory(source, target, last=last)
        return
    aside = _temporary_name(target)  # The next run deletes one a killed run left.
    if tf.io.gfile.exists(target):
        rename_directory(target, aside)
    rename_directory(source, target)
    _delete(aside)


def rename_directory(source: str, target: str, *, last: str | None = None) -> None:
    """Renames the directory `source` to `target`, which must not exist. Locally one rename;
    on a remote filesystem (gs://: no atomic directory rename) file by file, `last` (a name in
    `source`) last, so that a run killed midway leaves a `target` without it, which does not
    load, rather than one that loads half of the files."""
    if "://" not in source:
        tf.io.gfile.rename(source, target)
        return
    files = []
    for root, _, names in tf.io.gfile.walk(source):
        relative = root.rstrip("/")[len(source.rstrip("/")) :]
        tf.io.gfile.makedirs(f"{target}{relative}")
        files += [f"{relative}/{name}" for name in names]
    files.sort(key=lambda name: name == f"/{last}")  # Stable: only `last` moves to the end.
    for name in files:
        tf.io.gfile.rename(f"{source}{name}", f"{target}{name}", overwrite=True)
    _delete(source)


def _delete(path: str) -> None:
    if tf.io.gfile.isdir(path):
        tf.io.gfile.rmtree(path)
    elif tf.io.gfile.exists(path):
        tf.io.gfile.remove(path)


def _remove_leftovers(directory: str) -> None:
    """Deletes the temporary exports a run killed mid-export left in `directory`."""
    for name in tf.io.gfile.listdir(directory):
        if TEMPORARY in name:
            _delete(f"{directory}/{name.rstrip('/')}")
            logging.info("Deleted %s/%s, left by a run stopped mid-export.", directory, name)


def _remove_stale(directory: str, skipped: dict) -> None:
    """Deletes an export of an earlier run that this run does not write, so that none in the
    workdir can pass for this run's."""
    for kind, reason in skipped.items():
        path = f"{directory}/{FILES[kind]}"
        if tf.io.gfile.exists(path):
            _delete(path)
            logging.info(
                "Deleted %s from an earlier run: this run does not write it (%s).", path, reason
            )
