"""Labels against the model's outputs and the loss: one line per mismatch, before training."""

import numpy as np
import pytest

from tests.support.helpers import raises_one_line
from trainer.modeling.label_checks import check_labels

TEN = np.full((4, 10), 0.1, dtype=np.float32)  # A softmax over 10 classes, 4 examples.

ONE = np.full((4, 1), 0.5, dtype=np.float32)  # One unit: a regression or a sigmoid head.


@pytest.mark.parametrize(
    "outputs, labels, loss, fragments",
    [
        # Integer labels beyond the output's units.
        (
            TEN,
            np.array([0, 3, 12, 1]),
            "sparse_categorical_crossentropy",
            ["labels 0..12 (integers)", "shape (None, 10)", "config.data.num_classes=13"],
        ),
        # One-hot labels with a sparse loss.
        (
            TEN,
            np.eye(10)[[0, 1, 2, 3]],
            "sparse_categorical_crossentropy",
            ["of shape (10,) per example", "config.train.loss=categorical_crossentropy"],
        ),
        # Float targets with a classification loss.
        (
            TEN,
            np.array([[0.3], [1.7], [2.2], [0.1]]),
            "sparse_categorical_crossentropy",
            ["0.1..2.2 (real numbers)", "config.train.loss=mse"],
        ),
        (
            ONE,
            np.array([[0.3], [1.7], [2.2], [0.1]]),
            "binary_crossentropy",
            ["0.1..2.2 (real numbers)", "takes labels between 0 and 1"],
        ),
        # A 1-unit output with a categorical loss.
        (
            ONE,
            np.array([0, 1, 1, 0]),
            "sparse_categorical_crossentropy",
            [
                "shape (None, 1)",
                "One output unit cannot hold 2 classes",
                "config.data.num_classes=2",
                "config.train.loss=binary_crossentropy",
            ],
        ),
        (
            ONE,
            np.array([[0], [1], [1], [0]]),
            "categorical_crossentropy",
            ["shape (None, 1)", "sparse_categorical_crossentropy"],
        ),
        # Class indices with a one-hot loss, and with a regression loss on 10 outputs.
        (
            TEN,
            np.array([0, 3, 9, 1]),
            "categorical_crossentropy",
            ["these are class indices", "config.train.loss=sparse_categorical_crossentropy"],
        ),
        (
            TEN,
            np.array([[0], [3], [9], [1]]),
            "mse",
            ["compares each of the 10 outputs", "sparse_categorical_crossentropy"],
        ),
        (
            TEN,
            np.array([0, 1, 1, 0]),
            "binary_crossentropy",
            ["output has 10 units", "config.data.num_classes=1"],
        ),
    ],
)
def test_each_mismatch_is_one_line_naming_labels_output_loss_and_field(
    outputs, labels, loss, fragments
):
    raises_one_line(lambda: check_labels(outputs, labels, loss=loss), *fragments)


@pytest.mark.parametrize(
    "outputs, labels, loss",
    [
        (TEN, np.array([0, 3, 9, 1], dtype=np.int32), "sparse_categorical_crossentropy"),
        (TEN, np.eye(10)[[0, 1, 2, 3]], "categorical_crossentropy"),
        (ONE, np.array([0, 1, 1, 0]), "binary_crossentropy"),
        (ONE, np.array([[0.3], [1.7], [2.2], [0.1]]), "mse"),
        (TEN, np.array([0, 3, 12, 1]), "my_project.losses:focal"),  # Unknown: not checked.
        ({"main": ONE, "aux": ONE}, {"main": np.ones((4, 1)), "aux": np.ones((4, 1))}, "mse"),
    ],
)
def test_labels_that_fit_pass(outputs, labels, loss):
    check_labels(outputs, labels, loss=loss)


@pytest.mark.parametrize(
    "outputs, labels, loss, ignore_class",
    [
        # Sequence tagging: a class per step; segmentation: a class per pixel.
        (
            np.full((4, 7, 10), 0.1),
            np.zeros((4, 7), dtype=np.int32),
            "sparse_categorical_crossentropy",
            None,
        ),
        (
            np.full((4, 5, 5, 3), 0.3),
            np.ones((4, 5, 5), dtype=np.int32),
            "sparse_categorical_crossentropy",
            None,
        ),
        # Keras's class names for losses, and a skipped class.
        (TEN, np.array([0, 3, 9, 1]), "SparseCategoricalCrossentropy", None),
        (TEN, np.array([0, -1, 9, -1]), "sparse_categorical_crossentropy", -1),
        # Text labels are for a model's own step: not checked.
        (TEN, np.array(["a", "b", "c", "d"]), "sparse_categorical_crossentropy", None),
    ],
)
def test_labels_of_other_shapes_and_skipped_classes_pass(outputs, labels, loss, ignore_class):
    check_labels(outputs, labels, loss=loss, ignore_class=ignore_class)


def test_a_softmax_over_one_unit_under_binary_cross_entropy_is_named():
    always_one = np.ones((4, 1), dtype=np.float32)
    raises_one_line(
        lambda: check_labels(always_one, np.array([0, 1, 1, 0]), loss="binary_crossentropy"),
        "always 1 (a softmax over one unit, not a sigmoid)",
    )
    with pytest.raises(Exception, match="Class indices must lie in 0..9"):
        check_labels(TEN, np.array([0, 11]), loss="SparseCategoricalCrossentropy")
