"""Models: the zoo's builders, registered by name, and users' builders by import path.

A builder is any callable that returns an uncompiled `keras.Model` (trainer/models/registry.py
has the contract); `config.model.name` names it, `config.model.args` holds its keyword
arguments. `@register("name")` adds one to `MODELS`. Importing this package registers the zoo's
builders (`MODELS.names()` lists them) and the zoo's `keras.Model` subclasses with Keras, which
reloading their `.keras` files needs.
"""

from trainer.models.registry import (
    MODELS,
    build_model,
    default_model_args,
    model_argument_names,
    register,
)

# Importing a zoo module registers its models.
from trainer.models import deep_selu, mlp, siamese, text_lstm, vgg, wide_deep  # noqa: E402,F401  isort: skip

__all__ = ["MODELS", "build_model", "default_model_args", "model_argument_names", "register"]
