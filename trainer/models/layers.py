"""Pieces several zoo models share: a Normalization adapted on the train split, and the head."""

import numpy as np

from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras


def adapted_normalization(
    read_train_features, *, model: str, name: str, select=None, flatten=False
):
    """A Normalization layer adapted on the train features (`select` picks a part of them).

    Its mean and variance are weights of the model: they are checkpointed and exported with it.
    """
    layer = keras.layers.Normalization(name=name)
    layer.adapt(features_to_adapt(read_train_features, model=model, select=select, flatten=flatten))
    return layer


def features_to_adapt(read_train_features, *, model: str, select=None, flatten=False):
    """The train features as one float32 array (`select` picks a part of a dict of them)."""
    if read_train_features is None:
        raise HarnessError(
            f"Model {model!r} adapts a Normalization layer on the train split, but no train "
            "features were given: build it through trainer.run.model with a data source."
        )
    features = read_train_features()
    if select is not None:
        features = select(features)
    features = np.asarray(features, dtype=np.float32)
    return features.reshape(len(features), -1) if flatten else features


def head(x, num_classes, *, name: str | None = None):
    """Softmax over `num_classes` ("probs"); one sigmoid unit for num_classes 1 (a binary task
    with binary cross-entropy, "probs"); or one linear output for regression, num_classes None
    ("prediction"). float32 under mixed precision, so the loss is computed in float32.
    """
    return head_layer(num_classes, name=name)(x)


def head_layer(num_classes, *, name: str | None = None) -> keras.layers.Dense:
    """The Dense layer of `head` (for subclassed models, which build layers before calling them)."""
    if num_classes is None:
        return keras.layers.Dense(1, dtype="float32", name=name or "prediction")
    if num_classes == 1:
        return keras.layers.Dense(1, activation="sigmoid", dtype="float32", name=name or "probs")
    return keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name=name or "probs"
    )


def single_input_shape(input_shape, model: str) -> tuple:
    """The shape of a model with one input; a clear error for a source with named inputs."""
    if isinstance(input_shape, dict):
        raise HarnessError(
            f"Model {model!r} takes one input but the data gives named inputs "
            f"{_shapes(input_shape)}: remove config.data.args.inputs or pick a model for them."
        )
    return tuple(input_shape)


def _shapes(input_shape: dict) -> str:
    return ", ".join(f"{name} {tuple(shape)}" for name, shape in input_shape.items())
