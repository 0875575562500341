"""Model registry: `config.model.name` picks a builder; its config section gives the arguments."""

from trainer.models.registry import MODELS, build_model, register

# Importing a zoo module registers its models.
from trainer.models import deep_selu, mlp, siamese, text_lstm, vgg, wide_deep  # noqa: E402,F401  isort: skip

__all__ = ["MODELS", "build_model", "register"]
