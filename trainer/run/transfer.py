"""Transfer learning: start from another model's weights, and freeze layers.

`config.model.init_from` names a `.keras` file (local, gs:// or any tf.io.gfile path). Its
weights are copied into the configured model layer by layer, matched by name, wherever the
weight shapes agree; a layer whose shapes differ (a new head for a new number of classes) keeps
its fresh initialization. `config.model.freeze` lists layers that training leaves unchanged
(frozen BatchNormalization layers also run in inference mode), or is ("all_but_head",).
"""

import numpy as np
import tensorflow as tf
from absl import logging

from trainer.errors import HarnessError, first_line
from trainer.modeling.keras_api import keras
from trainer.workdir.export import load_keras_model

ALL_BUT_HEAD = "all_but_head"


def read_pretrained_weights(path: str) -> dict[str, list[np.ndarray]]:
    """{layer name: its weights} of every layer with weights in the `.keras` file at `path`."""
    if not tf.io.gfile.exists(path):
        raise HarnessError(
            f"config.model.init_from={path!r} does not exist: point it at a .keras file, such "
            "as WORKDIR/export/model.keras of an earlier run."
        )
    try:
        pretrained = load_keras_model(path)
    except (ValueError, OSError, TypeError) as e:
        raise HarnessError(
            f"config.model.init_from={path!r} is not a Keras model file: {first_line(e, 200)}"
        ) from e
    return {layer.name: layer.get_weights() for layer in _with_weights(pretrained)}


def load_matching_weights(model: keras.Model, pretrained: dict, *, source: str) -> list[str]:
    """Copies `pretrained` weights into `model`'s layers of the same name and shapes."""
    loaded, fresh = [], []
    for layer in _with_weights(model):
        weights = pretrained.get(layer.name)
        shapes = [tuple(w.shape) for w in layer.weights]
        if weights is not None and [w.shape for w in weights] == shapes:
            layer.set_weights(weights)
            loaded.append(layer.name)
        else:
            fresh.append(layer.name)
    if not loaded:
        raise HarnessError(
            f"No layer of {source} (config.model.init_from) matches the model by name and "
            f"weight shapes: it has {sorted(pretrained)}, the model has "
            f"{[layer.name for layer in _with_weights(model)]}."
        )
    logging.info("Loaded %s from %s; freshly initialized: %s.", loaded, source, fresh or "none")
    return loaded


def freeze(model: keras.Model, names, *, pretrained: bool) -> list[str]:
    """Sets `trainable = False` on the named layers (before compile); returns their names."""
    names = list(names)
    if not names:
        return []
    if not pretrained:
        raise HarnessError(
            f"config.model.freeze={tuple(names)} without config.model.init_from would freeze "
            "randomly initialized layers: set init_from to a .keras file, or clear freeze."
        )
    with_weights = [layer.name for layer in _with_weights(model)]
    if names == [ALL_BUT_HEAD]:
        names = with_weights[:-1]
    all_names = [layer.name for layer in model.layers]
    unknown = [name for name in names if name not in all_names]
    if unknown:
        raise HarnessError(
            f"config.model.freeze names layer(s) {unknown} that model {model.name!r} does not "
            f"have; its layers with weights are {with_weights} (or use ({ALL_BUT_HEAD!r},))."
        )
    for name in names:
        model.get_layer(name).trainable = False
    logging.info("Frozen: %s; %d trainable weights remain.", names, len(model.trainable_weights))
    return names


def _with_weights(model: keras.Model) -> list:
    return [layer for layer in model.layers if layer.weights]
