"""The Keras loss of config.train, with its arguments and label smoothing.

A loss given with arguments (config.train.loss_args: from_logits, ...) is built from its Keras
class, found by name ('sparse_categorical_crossentropy' or 'SparseCategoricalCrossentropy'), and
the arguments are checked against that class's signature. Keras's sparse cross-entropy takes no
label smoothing; with `label_smoothing` the harness turns the class indices into one-hot rows
and uses Keras's categorical cross-entropy, which does.
"""

import inspect

from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras

ops = keras.ops

# Loss arguments the harness decides, and why.
_OWNED = {
    "label_smoothing": "set config.train.label_smoothing instead",
    "reduction": (
        "the harness keeps Keras's 'sum_over_batch_size', a mean per example whatever the "
        "replicas and micro-batches"
    ),
    "name": "the loss keeps its Keras name (the metric reported is 'loss')",
    "dtype": "config.precision decides the dtype",
}


@keras.saving.register_keras_serializable(package="trainer")
class SparseCategoricalCrossentropyWithSmoothing(keras.losses.Loss):
    """Categorical cross-entropy with label smoothing, on integer class labels."""

    def __init__(
        self,
        *,
        label_smoothing: float = 0.0,
        from_logits: bool = False,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.label_smoothing = label_smoothing
        self.from_logits = from_logits
        self.axis = axis

    def call(self, y_true, y_pred):
        classes = ops.shape(y_pred)[self.axis]
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == len(y_pred.shape):  # (batch, ..., 1): one index per row.
            labels = ops.squeeze(labels, axis=self.axis)
        return keras.losses.categorical_crossentropy(
            ops.one_hot(labels, classes, axis=self.axis, dtype=y_pred.dtype),
            y_pred,
            from_logits=self.from_logits,
            label_smoothing=self.label_smoothing,
            axis=self.axis,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
            "axis": self.axis,
        }


def build_loss(train_config):
    """A loss for compile(): the name itself when nothing is configured, so compile resolves
    it (and metric aliases such as 'accuracy') as Keras always does; else a loss object."""
    name, args = train_config.loss, train_config.loss_args.to_dict()
    smoothing = train_config.label_smoothing
    if not 0.0 <= smoothing < 1.0:
        raise HarnessError(f"config.train.label_smoothing={smoothing} must be in [0, 1).")
    if not args and not smoothing:
        return name
    cls = loss_class(name)
    parameters = inspect.signature(cls.__init__).parameters
    accepted = [
        name
        for name, p in parameters.items()
        if name not in ("self", *_OWNED) and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    owned = sorted(set(args) & set(_OWNED))
    if owned:
        raise HarnessError(
            f"config.train.loss_args sets {owned}: "
            f"{'; '.join(_OWNED[argument] for argument in owned)}."
        )
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        raise HarnessError(
            f"config.train.loss_args {unknown} are not arguments of {cls.__name__}; it "
            f"takes {accepted}."
        )
    if smoothing:
        if cls is keras.losses.SparseCategoricalCrossentropy:
            cls = SparseCategoricalCrossentropyWithSmoothing
            if args.pop("ignore_class", None) is not None:  # Class 0 too.
                raise HarnessError(
                    "config.train.label_smoothing cannot be combined with "
                    "config.train.loss_args.ignore_class: set one of them."
                )
        elif "label_smoothing" not in parameters:
            raise HarnessError(
                f"config.train.label_smoothing is for classification losses; {cls.__name__} "
                "takes none. Set it to 0."
            )
        args["label_smoothing"] = float(smoothing)
    return cls(**args)


def loss_class(name: str) -> type:
    """The Keras loss class named by its own name, its function's name or an alias that
    Keras knows ('SparseCategoricalCrossentropy', 'sparse_categorical_crossentropy', 'mse',
    'kl_divergence' -> KLDivergence)."""
    wanted = {_plain(name)}
    try:
        found = keras.losses.get(name)
    except (ValueError, TypeError):
        found = None
    if isinstance(found, keras.losses.Loss):
        found = type(found)
    if inspect.isclass(found) and issubclass(found, keras.losses.Loss):
        return found
    if callable(found) and getattr(found, "__name__", None):
        wanted.add(_plain(found.__name__))  # An alias's function: 'mse' -> mean_squared_error.
    for attribute in dir(keras.losses):
        candidate = getattr(keras.losses, attribute)
        if (
            inspect.isclass(candidate)
            and issubclass(candidate, keras.losses.Loss)
            and candidate is not keras.losses.Loss
            and _plain(attribute) in wanted
        ):
            return candidate
    raise HarnessError(
        f"config.train.loss={name!r} has no Keras loss class to take arguments: name it by its "
        "class or its function name, e.g. 'SparseCategoricalCrossentropy' or "
        "'sparse_categorical_crossentropy', 'MeanSquaredError' or 'mean_squared_error'."
    )


def _plain(name: str) -> str:
    return name.replace("_", "").lower()
