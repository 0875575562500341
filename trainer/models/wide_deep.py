"""Wide & Deep (Cheng et al., 2016): a deep path of Dense layers beside a wide path that goes
straight to the output, so the model learns both deep patterns and simple rules.

`wide_deep` is functional: one input used by both paths, or two named inputs ("wide" and "deep",
from `config.data.args.inputs`), and optionally an auxiliary output on the deep path alone
(outputs "main" and "aux"; weight them with `config.train.loss_weights`). `wide_deep_subclassed`
is the one-input model written as a `keras.Model` subclass with `call`; it is registered with
Keras, so `keras.models.load_model` rebuilds it from a `.keras` file once trainer.models is
imported.
"""

from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.models.layers import (
    adapted_normalization,
    features_to_adapt,
    head,
    head_layer,
    single_input_shape,
)
from trainer.models.registry import register

WIDE, DEEP = "wide", "deep"


@register("wide_deep")
def wide_deep(
    *,
    input_shape,
    num_classes,
    hidden_units=(30, 30),
    activation="relu",
    auxiliary_output=False,
    read_train_features=None,
):
    """Args:
    hidden_units: the deep path's Dense layers.
    activation: their activation.
    auxiliary_output: add output "aux" on the deep path alone, beside "main".
    """
    if isinstance(input_shape, dict):
        if set(input_shape) != {WIDE, DEEP}:
            raise HarnessError(
                "Model 'wide_deep' takes one input or two named 'wide' and 'deep'; the data "
                f"gives inputs {sorted(input_shape)}: name them so in config.data.args.inputs."
            )
        inputs = {name: keras.Input(input_shape[name], name=name) for name in (WIDE, DEEP)}
        wide, deep = (
            adapted_normalization(
                read_train_features,
                model="wide_deep",
                name=f"normalize_{name}",
                select=lambda features, name=name: features[name],
            )(inputs[name])
            for name in (WIDE, DEEP)
        )
    else:
        inputs = keras.Input(single_input_shape(input_shape, "wide_deep"), name="features")
        wide = deep = adapted_normalization(
            read_train_features, model="wide_deep", name="normalization"
        )(inputs)
    for i, units in enumerate(hidden_units):
        deep = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(deep)
    concat = keras.layers.Concatenate(name="wide_and_deep")([wide, deep])
    if not auxiliary_output:
        return keras.Model(inputs, head(concat, num_classes), name="wide_deep")
    outputs = {
        "main": head(concat, num_classes, name="main"),
        "aux": head(deep, num_classes, name="aux"),
    }
    return keras.Model(inputs, outputs, name="wide_deep")


@keras.saving.register_keras_serializable(package="trainer")
class WideAndDeep(keras.Model):
    """The one-input Wide & Deep model as a subclass; adapt `normalization` before training."""

    def __init__(self, *, hidden_units=(30, 30), activation="relu", num_classes=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units, self.activation, self.num_classes = (
            tuple(hidden_units),
            activation,
            num_classes,
        )
        self.normalization = keras.layers.Normalization(name="normalization")
        self.hidden = [
            keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")
            for i, units in enumerate(hidden_units)
        ]
        self.concat = keras.layers.Concatenate(name="wide_and_deep")
        self.out = head_layer(num_classes)

    def call(self, inputs):
        wide = self.normalization(inputs)
        deep = wide
        for layer in self.hidden:
            deep = layer(deep)
        return self.out(self.concat([wide, deep]))

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "num_classes": self.num_classes,
        }


@register("wide_deep_subclassed")
def wide_deep_subclassed(
    *, input_shape, num_classes, hidden_units=(30, 30), activation="relu", read_train_features=None
):
    """Args:
    hidden_units: the deep path's Dense layers.
    activation: their activation.
    """
    shape = single_input_shape(input_shape, "wide_deep_subclassed")
    model = WideAndDeep(
        hidden_units=hidden_units,
        activation=activation,
        num_classes=num_classes,
        name="wide_deep_subclassed",
    )
    model.normalization.adapt(features_to_adapt(read_train_features, model="wide_deep_subclassed"))
    model.build((None, *shape))
    return model
