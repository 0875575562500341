"""Models: the zoo's builders, registered by name, and users' builders by import path."""

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
