"""The Keras loss of config.train, with its arguments and label smoothing.

A loss given with arguments (config.train.loss_args: from_logits, ...) is built from its Keras
class, found by name ('sparse_categorical_crossentropy' or 'SparseCategoricalCrossentropy'), and
the arguments are checked against that class's signature. Keras's sparse cross-entropy takes no
label smoothing; with `label_smoothing` the harness turns the class indices into one-hot rows
and uses Keras's categorical cross-entropy, which does.
"""

import inspect

from trainer.errors import HarnessError
from trainer.keras_api import keras

ops = keras.ops


@keras.saving.register_keras_serializable(package="trainer")
class SparseCategoricalCrossentropyWithSmoothing(keras.losses.Loss):
    """Categorical cross-entropy with label smoothing, on integer class labels."""

    def __init__(
        self,
        *,
        label_smoothing: float = 0.0,
        from_logits: bool = False,
        reduction="sum_over_batch_size",
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.label_smoothing = label_smoothing
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        classes = ops.shape(y_pred)[-1]
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == len(y_pred.shape):
            labels = ops.squeeze(labels, axis=-1)
        return keras.losses.categorical_crossentropy(
            ops.one_hot(labels, classes, dtype=y_pred.dtype),
            y_pred,
            from_logits=self.from_logits,
            label_smoothing=self.label_smoothing,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
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
    accepted = [
        p for p in inspect.signature(cls.__init__).parameters
        if p not in ("self", "name", "reduction", "dtype", "kwargs", "label_smoothing")
    ]
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        hint = " (set config.train.label_smoothing)" if "label_smoothing" in unknown else ""
        raise HarnessError(
            f"config.train.loss_args {unknown} are not arguments of {cls.__name__}{hint}; it "
            f"takes {accepted}."
        )
    if smoothing:
        if cls is keras.losses.SparseCategoricalCrossentropy:
            cls = SparseCategoricalCrossentropyWithSmoothing
            args.pop("ignore_class", None) and _no_ignore_class()
        elif "label_smoothing" not in inspect.signature(cls.__init__).parameters:
            raise HarnessError(
                f"config.train.label_smoothing is for classification losses; {cls.__name__} "
                "takes none. Set it to 0."
            )
        args["label_smoothing"] = float(smoothing)
    return cls(**args)


def loss_class(name: str) -> type:
    """The Keras loss class named by its function's or its own name."""
    candidates = [name, "".join(part[:1].upper() + part[1:] for part in name.split("_"))]
    for candidate in candidates:
        found = getattr(keras.losses, candidate, None)
        if inspect.isclass(found) and issubclass(found, keras.losses.Loss):
            return found
    raise HarnessError(
        f"config.train.loss={name!r} has no Keras loss class to take arguments: name it by its "
        "class or its full function name, e.g. 'SparseCategoricalCrossentropy' or "
        "'sparse_categorical_crossentropy', 'MeanSquaredError' or 'mean_squared_error'."
    )


def _no_ignore_class():
    raise HarnessError(
        "config.train.label_smoothing cannot be combined with loss_args.ignore_class."
    )
