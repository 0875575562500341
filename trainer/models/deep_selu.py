"""A deep self-normalizing network: many Dense SELU layers, BatchNormalization, AlphaDropout.

SELU with LeCun-normal initialization keeps activations near zero mean and unit variance through
many layers when the inputs are standardized; AlphaDropout is the dropout that preserves that.
"""

from trainer.modeling.keras_api import keras
from trainer.models.layers import adapted_normalization, head, single_input_shape
from trainer.models.registry import register


@register("deep_selu")
def deep_selu(
    *,
    input_shape,
    num_classes,
    depth=20,
    units=100,
    batch_norm=True,
    alpha_dropout=0.5,
    read_train_features=None,
):
    """Dense SELU layers on inputs standardized inside the model, then the head.

    Args:
      depth: Dense SELU layers (LeCun-normal initialization).
      units: width of each of them.
      batch_norm: BatchNormalization after each of them.
      alpha_dropout: AlphaDropout rate before the head (0: none).
    """
    inputs = keras.Input(shape=single_input_shape(input_shape, "deep_selu"), name="features")
    x = keras.layers.Flatten()(inputs)
    x = adapted_normalization(
        read_train_features, model="deep_selu", name="normalization", flatten=True
    )(x)
    for i in range(depth):
        x = keras.layers.Dense(
            units, activation="selu", kernel_initializer="lecun_normal", name=f"selu_{i}"
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
    if alpha_dropout:
        x = keras.layers.AlphaDropout(alpha_dropout, name="alpha_dropout")(x)
    return keras.Model(inputs, head(x, num_classes), name="deep_selu")
