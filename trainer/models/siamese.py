"""A siamese network: one shared encoder applied to both inputs, then a same/different head."""

from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.models.registry import register

LEFT, RIGHT = "left", "right"


@register("siamese")
def siamese(*, input_shape, num_classes, encoder_units=(64, 32), head_units=64, activation="relu"):
    """P(same) from the two encodings concatenated; the encoder's weights are shared.

    Args:
      encoder_units: the shared encoder's Dense layers.
      head_units: the Dense layer on the two encodings concatenated.
      activation: activation of both.
    """
    del num_classes  # Always one sigmoid output: the probability that the pair is the same.
    if not isinstance(input_shape, dict) or set(input_shape) != {LEFT, RIGHT}:
        given = sorted(input_shape) if isinstance(input_shape, dict) else tuple(input_shape)
        raise HarnessError(
            "Model 'siamese' takes two inputs named 'left' and 'right' (a pair source such as "
            f"config.data.source='digit_pairs'); the data gives {given}."
        )
    if input_shape[LEFT] != input_shape[RIGHT]:
        raise HarnessError(
            f"Model 'siamese' shares one encoder, so both inputs need one shape; the data gives "
            f"left {input_shape[LEFT]} and right {input_shape[RIGHT]}."
        )
    encoder_input = keras.Input(input_shape[LEFT], name="image")
    x = keras.layers.Flatten()(encoder_input)
    for i, units in enumerate(encoder_units):
        x = keras.layers.Dense(units, activation=activation, name=f"encode_{i}")(x)
    encoder = keras.Model(encoder_input, x, name="encoder")

    inputs = {name: keras.Input(input_shape[name], name=name) for name in (LEFT, RIGHT)}
    pair = keras.layers.Concatenate(name="pair")([encoder(inputs[LEFT]), encoder(inputs[RIGHT])])
    hidden = keras.layers.Dense(head_units, activation=activation, name="compare")(pair)
    same = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="same")(hidden)
    return keras.Model(inputs, same, name="siamese")
