"""Export at the end of a run: WORKDIR/export/model.keras and WORKDIR/export/saved_model."""

import tensorflow as tf
from absl import logging

from trainer.keras_api import keras
from trainer.workdir import Workdir

_SUBDIR = "export"


def export_model(model: keras.Model, workdir: Workdir, *, keras_file: bool, saved_model: bool):
    """Saves the trained model; returns {format: path} of what the chief wrote."""
    directory = workdir.write_path(_SUBDIR)
    tf.io.gfile.makedirs(directory)
    written = {}
    if keras_file:
        written["keras"] = f"{directory}/model.keras"
        model.save(written["keras"])
    if saved_model:
        written["saved_model"] = f"{directory}/saved_model"
        model.export(written["saved_model"], verbose=False)
    workdir.discard_scratch(_SUBDIR)
    if not workdir.is_chief:
        return {}
    for kind, path in written.items():
        logging.info("Exported %s model to %s.", kind, path)
    return {kind: workdir.path(_SUBDIR, path.rsplit("/", 1)[1]) for kind, path in written.items()}
