"""A VGG-like CNN: blocks of 3x3 convolutions, max pooling and dropout, then a Dense layer."""

from trainer.modeling.keras_api import keras
from trainer.models.layers import head, single_input_shape
from trainer.models.registry import register


@register("vgg")
def vgg(
    *,
    input_shape,
    num_classes,
    blocks=((32, 32), (64, 64)),
    dense_units=256,
    dropout=0.25,
    head_dropout=0.5,
    rescale=1 / 255,
):
    """Each block: one Conv2D(3x3, relu, same) per filter count, MaxPooling 2x2, Dropout.

    Args:
      blocks: Conv 3x3 filter counts per block; max pooling after each block.
      dense_units: the Dense layer after the convolutions.
      dropout: dropout rate after each block.
      head_dropout: dropout rate before the head.
      rescale: pixel values are multiplied by this inside the model (1/255: bytes -> [0, 1]).
    """
    shape = single_input_shape(input_shape, "vgg")
    inputs = keras.Input(shape=shape, name="image")
    x = keras.layers.Rescaling(rescale, name="rescale")(inputs)
    if len(shape) == 2:  # Grayscale images without a channel axis.
        x = keras.layers.Reshape((*shape, 1))(x)
    for b, filters in enumerate(blocks):
        for c, count in enumerate(filters):
            x = keras.layers.Conv2D(
                count, 3, padding="same", activation="relu", name=f"conv{b + 1}_{c + 1}"
            )(x)
        x = keras.layers.MaxPooling2D(name=f"pool{b + 1}")(x)
        x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(head_dropout)(x)
    return keras.Model(inputs, head(x, num_classes), name="vgg")
