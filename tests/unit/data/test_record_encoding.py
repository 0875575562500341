"""Records encoded a batch at a time: each feature's bytes equal tf.io.serialize_tensor's, and
every record parses back to its example's values."""

import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf

from trainer.data.record_encoding import _tensor_proto, encode_batch


@pytest.mark.parametrize(
    "value",
    [
        np.float32(1.5),
        np.arange(8, dtype=np.float32),
        np.arange(300, dtype=np.float64).reshape(10, 30),
        np.zeros((2, 0, 3), np.uint8),
        np.int64(-7),
        np.array([True, False]),
        np.float16(0.5),
        np.array([1.0, -2.5], ml_dtypes.bfloat16),
        np.complex64(1 + 2j),
        np.array(b"ab"),
        np.array([b"a", b""]),
        np.array("h\u00e9llo"),
    ],
)
def test_a_feature_is_what_serialize_tensor_writes(value):
    assert _tensor_proto(value) == tf.io.serialize_tensor(value).numpy()


def _parsed(record, dtypes):
    raw = tf.io.parse_single_example(
        record, {name: tf.io.FixedLenFeature([], tf.string) for name in dtypes}
    )
    return {name: tf.io.parse_tensor(raw[name], dtype).numpy() for name, dtype in dtypes.items()}


def test_a_numeric_batch_parses_back_row_by_row():
    rng = np.random.default_rng(0)
    columns = {
        "features": rng.standard_normal((37, 3, 5)).astype(np.float32),
        "ids": rng.integers(0, 1 << 40, (37, 2)),
        "label": rng.integers(0, 10, 37).astype(np.int32),
    }
    records = encode_batch(columns)
    assert len(records) == 37
    dtypes = {"features": tf.float32, "ids": tf.int64, "label": tf.int32}
    for i, record in enumerate(records):
        values = _parsed(record, dtypes)
        for name in columns:
            np.testing.assert_array_equal(values[name], columns[name][i])


def test_a_batch_with_strings_parses_back_row_by_row():
    columns = {
        "city": np.array([b"Paris", b"", b"San Jos\xc3\xa9"], dtype=object),
        "numeric": np.arange(6, dtype=np.float32).reshape(3, 2),
    }
    for i, record in enumerate(encode_batch(columns)):
        values = _parsed(record, {"city": tf.string, "numeric": tf.float32})
        assert values["city"] == columns["city"][i]
        np.testing.assert_array_equal(values["numeric"], columns["numeric"][i])
    assert encode_batch({"x": np.zeros((0, 4), np.float32)}) == []


def test_batched_records_hold_what_one_example_at_a_time_held():
    """The reference: tfrecord_source.encode, one tf.train.Example per example, as prepare wrote
    them before it encoded batches. Compared as messages: protobuf does not fix the order in
    which a map's entries (the features) are serialized."""
    from trainer.data.tfrecord_source import encode

    rng = np.random.default_rng(0)
    columns = {
        "features": rng.standard_normal((7, 8)).astype(np.float32),
        "label": rng.integers(0, 10, 7).astype(np.int32),
    }
    records = encode_batch(columns)
    assert len(records) == 7
    for i, record in enumerate(records):
        expected = encode({name: values[i] for name, values in columns.items()})
        assert tf.train.Example.FromString(record) == tf.train.Example.FromString(expected)
