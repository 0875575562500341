"""Models by name or import path: `config.model.name` picks a builder, `config.model.args` holds
its keyword arguments.

A builder is any callable that returns an uncompiled Keras model: a function, or a `keras.Model`
subclass. The harness passes it, when it declares them, `input_shape` (a tuple, or a dict of
tuples for a source with named inputs), `num_classes` (None for regression) and
`read_train_features` (a function returning the train split's features, to adapt preprocessing
layers). Every other argument comes from `config.model.args`; the builder's own keyword defaults
are the defaults, in one place (`configs.base.get_config` copies them into the config so that
each can be overridden on the command line).
"""

from collections.abc import Callable

from trainer import registry
from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras

MODELS = registry.Registry("model", "config.model.name")
# Decorator: `@register("mlp")` makes the builder available as `config.model.name = "mlp"`.
register = MODELS.register
FROM_DATA = ("input_shape", "num_classes", "read_train_features")


def default_model_args(name: str) -> dict:
    """The builder's keyword defaults, without the arguments that come from the data."""
    return registry.default_args(MODELS.resolve(name), provided=FROM_DATA)


def model_argument_names(name: str) -> list[str]:
    """The builder's keyword arguments that config.model.args may set."""
    return registry.argument_names(MODELS.resolve(name), provided=FROM_DATA)


def build_model(
    model_config, *, input_shape, num_classes, read_train_features: Callable | None = None
) -> keras.Model:
    """Builds `model_config.name` with `model_config.args`. Call inside the strategy scope."""
    name = model_config.name
    model = registry.call_with_args(
        MODELS.resolve(name),
        model_config.args.to_dict(),
        provided={
            "input_shape": input_shape,
            "num_classes": num_classes,
            "read_train_features": read_train_features,
        },
        field="config.model.args",
    )
    if not isinstance(model, keras.Model):
        raise HarnessError(
            f"Model builder {name!r} (config.model.name) returned {type(model).__name__}, "
            "not a keras.Model: return the model, uncompiled (the harness compiles it)."
        )
    return model
