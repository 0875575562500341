"""Every zoo config trains a few steps under MirroredStrategy on 2 logical CPUs, and its exports
reload with the trained model's predictions (tfds data mocked; a small housing-like CSV)."""

import os

TFDS_CONFIGS = {
    "fashion_mnist_mlp": (),
    "fashion_mnist_deep": (),
    "cifar10_vgg": ("--config.model.args.dense_units=32",),
    "imdb_lstm": (
        "--config.model.args.sequence_length=16",
        "--config.model.args.lstm_units=8",
    ),
}

CSV_CONFIGS = (
    "california_mlp",
    "california_wide_deep",
    "california_wide_deep_subclassed",
    "california_wide_deep_two_inputs",
    "california_wide_deep_two_outputs",
    "california_wide_deep_recipe",
)

OTHER_CONFIGS = ("digits_mlp", "digits_siamese")


def test_every_config_is_covered():
    names = {
        os.path.splitext(f)[0]
        for f in os.listdir("configs")
        if f.endswith(".py") and f not in ("__init__.py", "base.py")
    }
    covered = set(TFDS_CONFIGS) | set(CSV_CONFIGS) | set(OTHER_CONFIGS)
    # These need files written first, and run where those are: digits_tfrecord in
    # test_tfrecord_source, csv_classifier in test_csv_source and test_label_checks,
    # imdb_text_folder in test_text_folder.
    elsewhere = {
        "synthetic_mlp",
        "digits_transfer",
        "digits_tfrecord",
        "csv_classifier",
        "imdb_text_folder",
    }
    assert names - covered <= elsewhere, names - covered
