"""A workdir root for the export tests, local and on ram:// (TensorFlow's in-memory filesystem,
which stands in for gs://: the same tf.io.gfile calls, no bucket)."""

import uuid

import pytest
import tensorflow as tf


@pytest.fixture(params=["local", "ram"])
def root(request, tmp_path):
    if request.param == "local":
        yield str(tmp_path / "run")
        return
    root = f"ram://export-{uuid.uuid4().hex}/run"
    yield root
    if tf.io.gfile.exists(root):
        tf.io.gfile.rmtree(root)
