"""Multi-layer perceptron: [Normalization], Flatten, hidden Dense layers, a float32 head."""

import numpy as np

from trainer.errors import HarnessError
from trainer.keras_api import keras
from trainer.models.registry import register


@register("mlp")
def mlp(
    *,
    input_shape,
    num_classes,
    hidden_units,
    activation="relu",
    dropout=0.0,
    normalize=False,
    train_features=None,
):
    """A softmax head of `num_classes`, or one linear output for regression (num_classes None)."""
    inputs = keras.Input(shape=input_shape, name="features")
    x = keras.layers.Flatten()(inputs)
    if normalize:
        if train_features is None:
            raise HarnessError(
                "model.mlp.normalize needs a data source that holds its train "
                "split in memory, to adapt the Normalization layer."
            )
        normalization = keras.layers.Normalization(name="normalization")
        normalization.adapt(np.reshape(train_features, (len(train_features), -1)))
        x = normalization(x)
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    if num_classes is None:  # Regression: one linear output.
        outputs = keras.layers.Dense(1, dtype="float32", name="prediction")(x)
    else:
        head = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")
        outputs = head(x)
    return keras.Model(inputs, outputs, name="mlp")
