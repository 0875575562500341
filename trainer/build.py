"""Build, compile and fully materialize the model inside the strategy scope.

Optimizers, losses and metrics come from Keras by name; the harness re-implements none of them.
"""

import tensorflow as tf

from trainer.data import DataSource
from trainer.errors import HarnessError
from trainer.keras_api import create_all_variables, keras
from trainer.models import build_model


def build_compiled_model(config, strategy: tf.distribute.Strategy, source: DataSource):
    """The configured model, compiled, with every variable created, under `strategy`."""
    sample = source.sample_batch()
    features = sample[0]
    input_shape = tf.nest.map_structure(lambda array: tuple(array.shape[1:]), features)
    with strategy.scope():
        model = build_model(
            config.model,
            input_shape=input_shape,
            num_classes=source.num_classes,
            train_features=source.train_features(),
        )
        model.compile(
            optimizer=_optimizer(config.train),
            loss=_checked_name(keras.losses.get, config.train.loss, "config.train.loss"),
            metrics=[
                _checked_name(keras.metrics.get, m, "config.train.metrics")
                for m in config.train.metrics
            ],
        )
        try:
            create_all_variables(model, sample)
        except ValueError as e:
            raise HarnessError(
                f"Model {config.model.name!r} does not fit the data of source "
                f"{config.data.source!r} (features {input_shape}, labels "
                f"{tuple(sample[1].shape[1:])}): {str(e).strip().splitlines()[0][:300]}"
            ) from e
    _warn_if_outputs_not_float32(model)
    return model


def _optimizer(train_config):
    identifier = {
        "class_name": train_config.optimizer,
        "config": {"learning_rate": train_config.learning_rate},
    }
    return _by_name(
        keras.optimizers.get, identifier, "config.train.optimizer", shown=train_config.optimizer
    )


# Names that compile() resolves by the loss ("accuracy" -> sparse categorical accuracy, ...).
_COMPILE_ALIASES = ("accuracy", "acc", "crossentropy", "ce")


def _checked_name(getter, name: str, field: str) -> str:
    """Returns `name` for compile() to resolve, after checking that Keras knows it."""
    if name not in _COMPILE_ALIASES:
        _by_name(getter, name, field)
    return name


def _by_name(getter, identifier, field: str, shown=None):
    try:
        return getter(identifier)
    except (ValueError, TypeError) as e:
        raise HarnessError(
            f"{field}={shown if shown is not None else identifier!r} is not a Keras name "
            f"({str(e).strip().splitlines()[0][:120]}). Use a name Keras knows, "
            "such as 'adam', 'mse' or 'accuracy'."
        ) from e


def _warn_if_outputs_not_float32(model):
    from absl import logging

    for output in tf.nest.flatten(getattr(model, "outputs", None) or []):
        if output.dtype not in ("float32", tf.float32):
            logging.warning(
                "Model output %s is %s: give the last layer dtype='float32' so losses are "
                "computed in float32 under mixed precision.",
                output.name,
                output.dtype,
            )
