"""Build, compile and fully materialize the model inside the strategy scope.

Optimizers, losses and metrics come from Keras by name; the harness re-implements none of them.
A model with several outputs gets the loss and the metrics on each output, weighted by
`config.train.loss_weights`.
"""

import numpy as np
import tensorflow as tf

from trainer.data import DataSource
from trainer.errors import HarnessError, first_line
from trainer.modeling.keras_api import create_all_variables, keras
from trainer.modeling.label_checks import check_labels
from trainer.modeling.losses import build_loss
from trainer.modeling.optimizers import build_optimizer, exclude_weight_decay
from trainer.models import build_model
from trainer.run.transfer import freeze, load_matching_weights, read_pretrained_weights
from trainer.workdir.export import keras_file_support

LABEL_SAMPLE = 1024  # Examples whose labels are checked against the model before training.


def build_compiled_model(
    config, strategy: tf.distribute.Strategy, source: DataSource, *, learning_rate_scale=1.0
):
    """The configured model, compiled, with every variable created, under `strategy`.
    `learning_rate_scale` (a variable) multiplies the schedule (trainer/modeling/schedules.py)."""
    sample = source.sample_batch()
    features, labels = sample[0], sample[1]
    input_shape = tf.nest.map_structure(lambda array: tuple(array.shape[1:]), features)
    pretrained = read_pretrained_weights(config.model.init_from) if config.model.init_from else None
    with strategy.scope():
        model = build_model(
            config.model,
            input_shape=input_shape,
            num_classes=source.num_classes,
            read_train_features=source.train_features,
        )
        if config.export.keras:
            _warn_if_keras_file_not_portable(model)
        check_inputs(model, features, name=config.model.name)
        if pretrained is not None:
            load_matching_weights(model, pretrained, source=config.model.init_from)
        freeze(model, config.model.freeze, pretrained=pretrained is not None)
        model.compile(
            optimizer=build_optimizer(config, learning_rate_scale=learning_rate_scale),
            **_losses_and_metrics(model, config),
        )
        _check_labels(model, labels)
        try:
            create_all_variables(model, sample)
        except ValueError as e:
            _check_label_fit(model, config, source, features)  # One line, where it can tell.
            raise HarnessError(
                f"Model {config.model.name!r} does not fit the data of source "
                f"{config.data.source!r} (features {input_shape}, labels "
                f"{tf.nest.map_structure(lambda a: tuple(a.shape[1:]), labels)}): "
                f"{first_line(e, 300)}"
            ) from e
        _check_label_fit(model, config, source, features)
        excluded = exclude_weight_decay(model, config.train)
    if excluded:
        from absl import logging

        logging.info("No weight decay for %d variable(s): %s", len(excluded), excluded)
    _warn_if_outputs_not_float32(model)
    return model


def _warn_if_keras_file_not_portable(model: keras.Model) -> None:
    """Says now, not after training, when the user's classes keep the .keras export from
    reloading anywhere (or from being written at all). The export at the end acts on the same
    finding and only logs a reminder, so that each process logs this warning once."""
    warning = keras_file_support(model).warning
    if warning:
        from absl import logging

        logging.warning(warning)


def check_inputs(model: keras.Model, features, *, name: str) -> None:
    """Says which input and which shapes when the model's inputs do not match the data's."""
    try:
        expected = model.input  # Functional models; a subclassed model checks itself on build.
    except (AttributeError, ValueError):
        return
    if isinstance(expected, (list, tuple)):  # Positional inputs: Keras checks them on build.
        return
    if isinstance(expected, dict) != isinstance(features, dict) or (
        isinstance(features, dict) and set(expected) != set(features)
    ):
        raise HarnessError(
            f"Model {name!r} takes inputs {_describe(expected)} but the data gives "
            f"{_describe(features)}: match config.data (e.g. config.data.args.inputs) to the model."
        )
    pairs = (
        [(key, expected[key], features[key]) for key in sorted(features)]
        if isinstance(features, dict)
        else [(getattr(expected, "name", "features"), expected, features)]
    )
    for key, tensor, array in pairs:
        want, got = tuple(tensor.shape[1:]), tuple(array.shape[1:])
        if len(want) != len(got) or any(
            w is not None and w != g for w, g in zip(want, got, strict=True)
        ):
            raise HarnessError(
                f"Model {name!r} input {key!r} expects shape {want} per example but the data's "
                f"feature {key!r} has shape {got}: fix the model's config or the data source."
            )


def _describe(structure) -> str:
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k}: {_shape(v)}" for k, v in sorted(structure.items())) + "}"
    return f"one input of shape {_shape(structure)}"


def _shape(value) -> tuple:
    return tuple(value.shape[1:])


def _losses_and_metrics(model: keras.Model, config) -> dict:
    train = config.train
    loss = build_loss(train)
    if isinstance(loss, str):
        loss = _checked_name(keras.losses.get, loss, "config.train.loss")
    metrics = [_checked_name(keras.metrics.get, m, "config.train.metrics") for m in train.metrics]
    weights = train.loss_weights.to_dict()
    outputs = _output_names(model)
    if not outputs:
        if weights:
            raise HarnessError(
                f"config.train.loss_weights={weights} is for a model with several outputs; "
                f"{model.name!r} has one. Remove it."
            )
        return {"loss": loss, "metrics": metrics}
    unknown = sorted(set(weights) - set(outputs))
    if unknown:
        raise HarnessError(
            f"config.train.loss_weights names output(s) {unknown}; model {model.name!r} has "
            f"outputs {outputs}."
        )
    return {
        "loss": {name: loss for name in outputs},
        "loss_weights": {name: float(weights.get(name, 1.0)) for name in outputs},
        "metrics": {name: list(metrics) for name in outputs},
    }


def _output_names(model: keras.Model) -> list[str]:
    """The names of a functional model's outputs when it has several; [] otherwise."""
    outputs = getattr(model, "outputs", None) or []
    return list(model.output_names) if len(outputs) > 1 else []


def _check_labels(model: keras.Model, labels) -> None:
    outputs = _output_names(model)
    if outputs and not (isinstance(labels, dict) and set(labels) == set(outputs)):
        raise HarnessError(
            f"Model {model.name!r} has outputs {outputs} but the data gives "
            f"{'labels ' + str(sorted(labels)) if isinstance(labels, dict) else 'one label'}: "
            f"set config.data.label_outputs={tuple(outputs)} to train every output on the label."
        )


def _check_label_fit(model: keras.Model, config, source: DataSource, features) -> None:
    """The labels of the first LABEL_SAMPLE examples against the model's outputs and the loss
    (trainer/modeling/label_checks.py)."""
    try:
        outputs = model(features, training=False)
    except Exception:  # noqa: BLE001 - a model that cannot run yet: its own error follows.
        return
    try:
        labels = source.sample_labels(LABEL_SAMPLE)
    except tf.errors.OpError:  # A corrupt record: training reads it and names its file.
        return
    as_numpy = lambda structure: tf.nest.map_structure(np.asarray, structure)  # noqa: E731
    ignore_class = config.train.loss_args.to_dict().get("ignore_class")
    check_labels(
        as_numpy(outputs), as_numpy(labels), loss=config.train.loss, ignore_class=ignore_class
    )


# Names that compile() resolves by the loss ("accuracy" -> sparse categorical accuracy, ...).
_COMPILE_ALIASES = ("accuracy", "acc", "crossentropy", "ce")


def _checked_name(getter, name: str, field: str) -> str:
    """Returns `name` for compile() to resolve, after checking that Keras knows it."""
    if name not in _COMPILE_ALIASES:
        _by_name(getter, name, field)
    return name


def _by_name(getter, identifier, field: str):
    try:
        return getter(identifier)
    except (ValueError, TypeError) as e:
        raise HarnessError(
            f"{field}={identifier!r} is not a Keras name "
            f"({first_line(e, 120)}). Use a name Keras knows, "
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
