"""Every config in configs/ is trained by an end-to-end test (tests/e2e/test_zoo.py and others)."""

import os

from tests.e2e.test_zoo import CSV_CONFIGS, OTHER_CONFIGS, TFDS_CONFIGS
from tests.support.helpers import REPO


def test_every_config_is_covered():
    names = {
        os.path.splitext(f)[0]
        for f in os.listdir(os.path.join(REPO, "configs"))
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
