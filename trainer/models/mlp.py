"""Multi-layer perceptron: [Normalization], Flatten, hidden Dense layers, a float32 head."""

from trainer.modeling.keras_api import keras
from trainer.models.layers import adapted_normalization, head, single_input_shape
from trainer.models.registry import register


@register("mlp")
def mlp(
    *,
    input_shape,
    num_classes,
    hidden_units=(300, 100),
    activation="relu",
    dropout=0.0,
    normalize=False,
    read_train_features=None,
):
    """A softmax head of `num_classes`, or one linear output for regression (num_classes None).

    Args:
      hidden_units: width of each hidden Dense layer, input to output.
      activation: any Keras activation name, for the hidden layers.
      dropout: dropout rate after each hidden layer (0: none).
      normalize: standardize the inputs (a Normalization layer adapted on the train split).
    """
    inputs = keras.Input(shape=single_input_shape(input_shape, "mlp"), name="features")
    x = keras.layers.Flatten()(inputs)
    if normalize:
        x = adapted_normalization(
            read_train_features, model="mlp", name="normalization", flatten=True
        )(x)
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, head(x, num_classes), name="mlp")
