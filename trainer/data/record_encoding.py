"""Whole batches as tf.train.Example records, encoded with numpy instead of a TensorFlow call per
example.

`trainer.prepare` stores each feature as one serialized TensorProto (the bytes
`tf.io.serialize_tensor` returns) in a BytesList; trainer/data/tfrecord_source.py parses them
back with `tf.io.parse_tensor`. Calling TensorFlow for every example and feature held prepare
to a few thousand examples/s. Here the protobuf wire format is written directly: in a batch
whose features are all numeric, every record has the same bytes except each feature's raw
values, so the batch is one uint8 array whose constant columns are broadcast and whose value
columns are copied from the features at once. String features (variable length) take a
per-example path in plain Python. Each TensorProto equals `tf.io.serialize_tensor`'s bytes
(tests/unit/data/test_record_encoding.py); features are written in the order given.
"""

import numpy as np
import tensorflow as tf


def encode_batch(columns: dict[str, np.ndarray]) -> list[bytes]:
    """One serialized tf.train.Example per row of `columns` ({feature name: batch array})."""
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    count = len(next(iter(arrays.values())))
    if any(_is_string(a) for a in arrays.values()):
        return [
            _example([(name, _tensor_proto(a[i])) for name, a in arrays.items()])
            for i in range(count)
        ]
    if count == 0:
        return []
    parts = []  # (width, constant bytes or a (count, width) uint8 array of values)
    for name, batch in arrays.items():
        row = np.ascontiguousarray(batch).reshape(count, -1)
        content = row.view(np.uint8).reshape(count, -1) if row.size else row.reshape(count, 0)
        header = _numeric_header(batch.dtype, batch.shape[1:], content.shape[1])
        parts.append(_entry_prefix(name, len(header) + content.shape[1]) + header)
        parts.append(content)
    body = sum(len(p) if isinstance(p, bytes) else p.shape[1] for p in parts)
    parts.insert(0, b"\x0a" + _varint(body))
    width = sum(len(p) if isinstance(p, bytes) else p.shape[1] for p in parts)
    records = np.empty((count, width), np.uint8)
    start = 0
    for part in parts:
        if isinstance(part, bytes):
            records[:, start : start + len(part)] = np.frombuffer(part, np.uint8)
            start += len(part)
        else:
            records[:, start : start + part.shape[1]] = part
            start += part.shape[1]
    flat = records.tobytes()
    return [flat[i * width : (i + 1) * width] for i in range(count)]


def _is_string(array: np.ndarray) -> bool:
    return array.dtype.kind in "SUO"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field: its tag byte, the payload's length, the payload."""
    return bytes([tag]) + _varint(len(payload)) + payload


def _shape(shape) -> bytes:
    """TensorShapeProto: one `dim` (field 2) per dimension, its size (field 1) left out when 0."""
    return b"".join(_field(0x12, b"\x08" + _varint(int(d)) if d else b"") for d in shape)


def _numeric_header(dtype, shape, content_length: int) -> bytes:
    """TensorProto up to its tensor_content's bytes: dtype, shape, the content's tag and length."""
    header = b"\x08" + _varint(tf.as_dtype(dtype).as_datatype_enum) + _field(0x12, _shape(shape))
    return header + (b"\x22" + _varint(content_length) if content_length else b"")


def _tensor_proto(value) -> bytes:
    """One example's feature as serialize_tensor writes it (strings in string_val, field 8)."""
    array = np.asarray(value)
    if not _is_string(array):
        content = np.ascontiguousarray(array).tobytes()
        return _numeric_header(array.dtype, array.shape, len(content)) + content
    strings = [s.encode() if isinstance(s, str) else bytes(s) for s in array.reshape(-1)]
    header = b"\x08" + _varint(tf.string.as_datatype_enum) + _field(0x12, _shape(array.shape))
    return header + b"".join(_field(0x42, s) for s in strings)


def _entry_prefix(name: str, tensor_length: int) -> bytes:
    """Features.feature map entry {key: name, value: Feature{bytes_list{value: [tensor]}}} up to
    the tensor's own bytes."""
    bytes_list = b"\x0a" + _varint(tensor_length)  # BytesList.value, its length
    feature = b"\x0a" + _varint(len(bytes_list) + tensor_length)  # Feature.bytes_list
    value = b"\x12" + _varint(len(feature) + len(bytes_list) + tensor_length)  # entry value
    entry = _field(0x0A, name.encode()) + value
    entry_length = len(entry) + len(feature) + len(bytes_list) + tensor_length
    return b"\x0a" + _varint(entry_length) + entry + feature + bytes_list


def _example(tensors: list[tuple[str, bytes]]) -> bytes:
    body = b"".join(_entry_prefix(name, len(t)) + t for name, t in tensors)
    return _field(0x0A, body)
