"""Multi-layer perceptron: Flatten, hidden Dense layers, a float32 softmax head."""

from trainer.keras_api import keras
from trainer.models.registry import register


@register("mlp")
def mlp(*, input_shape, num_classes, hidden_units, activation="relu", dropout=0.0):
    inputs = keras.Input(shape=input_shape, name="features")
    x = keras.layers.Flatten()(inputs)
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(
        x
    )
    return keras.Model(inputs, outputs, name="mlp")
