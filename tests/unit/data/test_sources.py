import numpy as np
import pytest
import tensorflow as tf

from configs import base
from trainer.data import DataSource, create_source
from trainer.data.sources import DigitsSource, LabelForEachOutput, SyntheticSource
from trainer.errors import HarnessError


def _all(dataset):
    return list(dataset.as_numpy_iterator())


def _digits():
    return DigitsSource(validation_examples=180, test_examples=360, split_seed=0)


def test_digits_splits_are_fixed_disjoint_and_complete():
    source = _digits()
    ctx = tf.distribute.InputContext()
    sizes = {
        split: len(_all(source.examples(split, ctx))) for split in ("train", "validation", "test")
    }
    assert sizes == {"train": 1257, "validation": 180, "test": 360}
    rows = [tuple(x.tobytes() for x, _ in _all(source.examples(s, ctx))) for s in sizes]
    again = [tuple(x.tobytes() for x, _ in _all(_digits().examples(s, ctx))) for s in sizes]
    assert rows == again  # Fixed: the same split every time.
    x, y = _all(source.examples("train", ctx))[0]
    assert x.shape == (64,) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert y.dtype == np.int32


def test_synthetic_labels_follow_the_features():
    source = SyntheticSource(input_shape=(6, 2), num_classes=3, num_examples=200, seed=1)
    examples = _all(source.examples("test", tf.distribute.InputContext()))
    assert len(examples) == 200 and examples[0][0].shape == (6, 2)
    assert set(int(y) for _, y in examples) == {0, 1, 2}


def test_unknown_source_lists_the_registered_ones():
    config = base.get_config()
    config.data.source = "kaggle"
    with pytest.raises(
        HarnessError,
        match=r"registered name \(csv, digit_pairs, digits, image_folder, npz, parquet",
    ):
        create_source(config.data)


def test_unknown_split_is_named():
    with pytest.raises(HarnessError, match="Split 'dev' does not exist"):
        _digits().examples("dev", tf.distribute.InputContext())


def test_digits_that_hold_out_everything_are_refused():
    with pytest.raises(HarnessError, match="holds out 1800 of 1797"):
        DigitsSource(validation_examples=900, test_examples=900, split_seed=0)


def test_digits_classes_keeps_those_digits_relabelled_in_order():
    everything = _digits()
    source = DigitsSource(validation_examples=180, test_examples=360, split_seed=0, classes=(8, 3))
    assert source.num_classes == 2
    for split in ("train", "validation", "test"):
        x_all, y_all = everything.splits[split]
        x, y = source.splits[split]
        assert set(np.unique(y)) == {0, 1}
        np.testing.assert_array_equal(x, x_all[np.isin(y_all, (8, 3))])
        np.testing.assert_array_equal(y, np.where(y_all[np.isin(y_all, (8, 3))] == 8, 0, 1))
    with pytest.raises(HarnessError, match=r"classes=\(3, 3\) must name distinct digits"):
        DigitsSource(validation_examples=180, test_examples=360, split_seed=0, classes=(3, 3))


def test_label_outputs_gives_every_output_the_label():
    config = base.get_config()
    config.data.label_outputs = ("main", "aux")
    source = create_source(config.data)
    x, y = next(iter(source.examples("test", tf.distribute.InputContext())))
    assert set(y) == {"main", "aux"} and int(y["main"]) == int(y["aux"])
    assert source.num_classes == 10 and source.train_features().shape == (1257, 64)


class _Streamed(DataSource):
    """Examples from a dataset of a known size, read as a stream (or not)."""

    def __init__(self, dataset, *, streams: bool):
        self._dataset, self._streams = dataset, streams

    def examples(self, split, input_context):
        return self._dataset

    def streams(self, split):
        return self._streams


def test_num_examples_counts_what_is_known_without_reading_the_split():
    from tests.support.user_project import SIZES, UserData

    user = UserData()  # A DataSource subclass: the default counts its dataset's cardinality.
    assert {split: user.num_examples(split) for split in SIZES} == SIZES
    assert _digits().num_examples("train") == 1257  # Arrays: their length.
    assert _digits().num_examples("nope") is None
    outputs = create_source(base.get_config(data="digits").data)
    assert LabelForEachOutput(outputs, ("a", "b")).num_examples("validation") == 180

    rows = tf.data.Dataset.range(10).map(lambda i: (tf.cast(i, tf.float32), i))
    assert _Streamed(rows, streams=False).num_examples("train") == 10
    assert _Streamed(rows, streams=True).num_examples("train") is None  # Not counted.
    unknown = rows.filter(lambda x, y: y > 2)  # Its size needs a pass over it.
    assert _Streamed(unknown, streams=False).num_examples("train") is None
    assert _Streamed(rows.repeat(), streams=False).num_examples("train") is None
