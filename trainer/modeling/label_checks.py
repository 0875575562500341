"""The data's labels against the model's outputs and the loss, before the first step.

A label that does not fit surfaces otherwise inside the first host loop as a multi-line
TensorFlow error ("Received a label value of 1 which is outside the valid range of [0, 1)"),
or not at all (mse broadcasts class indices against ten outputs and trains on garbage). Each
mismatch here is one line naming the labels' range or shape, the output's shape and the loss,
and the config field to change. Losses the harness does not know by name are not checked.
"""

import dataclasses

import numpy as np

from trainer.errors import HarnessError
from trainer.modeling.loss_labels import loss_kind

_SIGNED = ("hinge", "squared_hinge", "categorical_hinge")  # Take -1/1 labels as well as 0/1.
_SIGMOID_HINT = (
    "for one sigmoid unit on two classes, set config.data.num_classes=1 and "
    "config.train.loss=binary_crossentropy"
)


def check_labels(outputs, labels, *, loss, ignore_class=None) -> None:
    """`outputs`: the model's outputs on a sample batch ({name: array} for several outputs);
    `labels`: labels of the same source (more examples than the batch give a truer range);
    `ignore_class`: a label value the loss skips (its `ignore_class` argument)."""
    kind = loss_kind(loss)
    if kind is None:
        return
    if ignore_class is not None:
        labels = _without(labels, ignore_class)
    if isinstance(outputs, dict):
        if isinstance(labels, dict):
            for name in sorted(set(outputs) & set(labels)):
                _check(outputs[name], labels[name], loss, kind, f"output {name!r}")
        return
    if not isinstance(outputs, list | tuple) and not isinstance(labels, dict):
        _check(outputs, labels, loss, kind, "the model's output")


@dataclasses.dataclass(frozen=True)
class _Facts:
    """One output's labels against its shape and the loss, as each kind's check reads them."""

    output: object  # The model's output on the sample batch.
    loss: str
    units: int
    per_example: tuple  # The labels' shape per example.
    low: float
    high: float
    integers: bool  # Whole numbers, whatever the dtype.
    # One value per output unit (a sequence's or an image's labels have the output's shape
    # without its units, and are class indices too).
    one_hot: bool
    described: str  # The labels, the output and the loss, for the error's first half.

    def fail(self, advice: str):
        raise HarnessError(
            f"The labels do not fit the model and the loss: {self.described}. {advice}"
        )


def _check(output, labels, loss: str, kind: str, where: str) -> None:
    output_shape = (None, *np.shape(output)[1:])
    units = output_shape[-1] if len(output_shape) > 1 else 1
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iubf" or not labels.size:  # Text labels: a model's own step.
        return
    per_example = tuple(labels.shape[1:])
    low, high = (float(labels.min()), float(labels.max())) if labels.size else (0.0, 0.0)
    integers = labels.dtype.kind in "iub" or bool(np.all(labels == np.round(labels)))
    facts = _Facts(
        output=output,
        loss=loss,
        units=units,
        per_example=per_example,
        low=low,
        high=high,
        integers=integers,
        one_hot=units > 1 and per_example == output_shape[1:],
        described=(
            f"labels {_range(low, high, integers)} of shape {per_example} per example; "
            f"{where} has shape {output_shape}; config.train.loss={loss!r}"
        ),
    )
    check = _CHECKS.get(kind)
    if check is not None:
        check(facts)


def _check_sparse(f: _Facts) -> None:
    if f.one_hot:
        f.fail(
            "These look one-hot (or several values per example): set "
            "config.train.loss=categorical_crossentropy, or give class indices."
        )
    if not f.integers:
        f.fail(
            "Real-valued labels are a regression target: set config.train.loss=mse (the "
            "source then needs no classes), or give class indices."
        )
    if f.units == 1:
        f.fail(
            f"One output unit cannot hold {int(f.high) + 1} classes: the data source reports "
            f"no classes; set config.data.num_classes={int(f.high) + 1} (or, for a CSV, "
            f"config.data.args.task=classification); {_SIGMOID_HINT}."
        )
    if f.low < 0 or f.high >= f.units:
        f.fail(
            f"Class indices must lie in 0..{f.units - 1}: set "
            f"config.data.num_classes={max(int(f.high) + 1, f.units)}, or fix the labels."
        )


def _check_categorical(f: _Facts) -> None:
    if f.units == 1:
        f.fail(
            f"{f.loss} over one output unit is always 0: for classes, give the model one unit "
            "per class (config.data.num_classes) with "
            f"config.train.loss=sparse_categorical_crossentropy; {_SIGMOID_HINT}."
        )
    if f.per_example[-1:] != (f.units,):
        if f.integers and not f.one_hot:
            f.fail(
                f"{f.loss} takes one-hot labels of {f.units} values; these are class indices: "
                "set config.train.loss=sparse_categorical_crossentropy."
            )
        f.fail(f"{f.loss} takes labels of shape ({f.units},) per example, like the output.")
    _check_unit_range(f.low, f.high, f.loss, f.fail)


def _check_binary(f: _Facts) -> None:
    if f.units == 1 and np.all(np.asarray(f.output) == 1.0):
        f.fail(
            "The one output unit is always 1 (a softmax over one unit, not a sigmoid): give "
            "the model a sigmoid output, or use the zoo's head (trainer/models/layers.head)."
        )
    if f.units != 1 and f.per_example[-1:] != (f.units,):
        f.fail(
            f"{f.loss} takes a 0/1 label per output unit, and the output has {f.units} units "
            f"(a softmax over classes): set config.train.loss=sparse_categorical_crossentropy; "
            f"{_SIGMOID_HINT}."
        )
    _check_unit_range(f.low, f.high, f.loss, f.fail)


def _check_regression(f: _Facts) -> None:
    if f.units > 1 and f.per_example[-1:] != (f.units,):
        f.fail(
            f"{f.loss} compares each of the {f.units} outputs with the label, which has another "
            "shape: for classes, set config.train.loss=sparse_categorical_crossentropy; for a "
            "target, give the model one output."
        )


_CHECKS = {  # By loss_kind.
    "sparse": _check_sparse,
    "categorical": _check_categorical,
    "binary": _check_binary,
    "regression": _check_regression,
}


def _without(labels, ignored):
    if isinstance(labels, dict):
        return {name: _without(value, ignored) for name, value in labels.items()}
    labels = np.asarray(labels)
    return labels[labels != ignored] if labels.dtype.kind in "iubf" else labels


def _check_unit_range(low: float, high: float, loss: str, fail) -> None:
    least = -1.0 if loss in _SIGNED else 0.0
    if low < least or high > 1.0:
        fail(
            f"{loss} takes labels between {least:g} and 1: for class indices set "
            "config.train.loss=sparse_categorical_crossentropy; for a target, mse."
        )


def _range(low: float, high: float, integers: bool) -> str:
    if integers:
        return f"{int(low)}..{int(high)} (integers)"
    return f"{low:.4g}..{high:.4g} (real numbers)"
