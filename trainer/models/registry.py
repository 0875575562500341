"""Name -> builder. A builder is a function with keyword-only arguments that returns a Keras model.

Every builder receives `input_shape` (a tuple, or a dict of tuples for a source with named
inputs) and `num_classes` (None for regression) from the data, and `read_train_features` (a
function returning the train split's features, to adapt preprocessing layers) if it asks for it,
plus the fields of its own section of the config (`config.model.<name>`); a field the builder
does not take is an error.
"""

import inspect
from collections.abc import Callable

from trainer.errors import HarnessError
from trainer.keras_api import keras

MODELS: dict[str, Callable[..., keras.Model]] = {}
_FROM_DATA = ("input_shape", "num_classes", "read_train_features")


def register(name: str):
    """Decorator: `@register("mlp")` makes the builder available as `config.model.name = "mlp"`."""

    def decorator(builder):
        if name in MODELS:
            raise ValueError(f"Model {name!r} is registered twice.")
        MODELS[name] = builder
        return builder

    return decorator


def build_model(
    model_config, *, input_shape, num_classes, read_train_features: Callable | None = None
) -> keras.Model:
    """Builds `model_config.name` with the fields of `model_config[name]`. Call inside the scope."""
    name = model_config.name
    if name not in MODELS:
        raise HarnessError(
            f"Unknown model {name!r} (config.model.name). "
            f"Registered models: {', '.join(sorted(MODELS))}."
        )
    if name not in model_config:
        raise HarnessError(
            f"config.model has no section {name!r} with the arguments of model {name!r}: "
            "add it to the experiment config."
        )
    builder = MODELS[name]
    fields = model_config[name].to_dict()
    accepted = [p for p in inspect.signature(builder).parameters if p not in _FROM_DATA]
    unknown = sorted(set(fields) - set(accepted))
    missing = sorted(set(accepted) - set(fields) - _defaults(builder))
    if unknown or missing:
        raise HarnessError(
            f"config.model.{name} does not match model {name!r}: "
            + (f"unknown field(s) {unknown}; " if unknown else "")
            + (f"missing field(s) {missing}; " if missing else "")
            + f"it takes {accepted}."
        )
    if "read_train_features" in inspect.signature(builder).parameters:
        fields["read_train_features"] = read_train_features
    return builder(input_shape=input_shape, num_classes=num_classes, **fields)


def _defaults(builder) -> set[str]:
    parameters = inspect.signature(builder).parameters.values()
    return {p.name for p in parameters if p.default is not inspect.Parameter.empty}
