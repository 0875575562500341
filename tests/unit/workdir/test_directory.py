"""Workdir on TensorFlow's in-memory filesystem (ram:// stands in for gs://) and locally."""

import json
import os
import uuid

import numpy as np
import pytest
import tensorflow as tf

from tests.support.helpers import raises_one_line
from trainer.errors import HarnessError
from trainer.modeling.keras_api import create_all_variables, keras
from trainer.workdir.checkpoints import Checkpointer
from trainer.workdir.directory import CHECKPOINTS, CONFIG_FILE, Workdir


@pytest.fixture
def ram_root():
    """A fresh ram:// directory per test (the in-memory filesystem lives as long as the process)."""
    root = f"ram://workdir-test-{uuid.uuid4().hex}/run"
    yield root
    if tf.io.gfile.exists(root):
        tf.io.gfile.rmtree(root)


def test_paths_on_the_chief(ram_root):
    workdir = Workdir(ram_root + "/", is_chief=True)
    assert workdir.root == ram_root  # The trailing slash is dropped.
    assert workdir.path() == ram_root
    assert workdir.path(CHECKPOINTS) == f"{ram_root}/{CHECKPOINTS}"
    assert workdir.path("export", "model.keras") == f"{ram_root}/export/model.keras"
    assert workdir.write_path(CHECKPOINTS) == workdir.path(CHECKPOINTS)
    assert workdir.write_path() == ram_root
    workdir.close()  # Nothing to delete on the chief.


def test_paths_on_a_non_chief(ram_root):
    workdir = Workdir(ram_root, is_chief=False)
    try:
        assert workdir.path(CHECKPOINTS) == f"{ram_root}/{CHECKPOINTS}"  # Reads the chief's.
        scratch = workdir.write_path()
        assert not scratch.startswith("ram://")
        assert os.path.isdir(scratch)
        assert workdir.write_path(CHECKPOINTS) == f"{scratch}/{CHECKPOINTS}"
    finally:
        workdir.close()
    assert not os.path.exists(scratch)


def test_two_non_chiefs_get_different_scratch_directories(ram_root):
    first, second = Workdir(ram_root, is_chief=False), Workdir(ram_root, is_chief=False)
    try:
        assert first.write_path() != second.write_path()
    finally:
        first.close()
        second.close()


def test_ensure_writable_creates_the_workdir_and_leaves_no_probe(ram_root):
    workdir = Workdir(ram_root, is_chief=True)
    assert not tf.io.gfile.exists(ram_root)
    workdir.ensure_writable()
    assert tf.io.gfile.isdir(ram_root)
    assert tf.io.gfile.listdir(ram_root) == []


def test_ensure_writable_on_a_non_chief_writes_only_to_scratch(ram_root):
    workdir = Workdir(ram_root, is_chief=False)
    try:
        workdir.ensure_writable()
        assert not tf.io.gfile.exists(ram_root)
        assert os.listdir(workdir.write_path()) == []
    finally:
        workdir.close()


def test_write_json_reads_back_through_gfile(ram_root):
    workdir = Workdir(ram_root, is_chief=True)
    workdir.ensure_writable()
    value = {"b": [1, 2.5], "a": {"nested": "text"}}
    path = workdir.write_json(CONFIG_FILE, value)
    assert path == f"{ram_root}/{CONFIG_FILE}"
    with tf.io.gfile.GFile(path) as f:
        text = f.read()
    assert json.loads(text) == value
    assert text.endswith("\n")
    assert text.index('"a"') < text.index('"b"')  # Sorted keys: diffable across runs.


def test_write_json_on_a_non_chief_goes_to_scratch(ram_root):
    workdir = Workdir(ram_root, is_chief=False)
    try:
        workdir.ensure_writable()
        path = workdir.write_json("results.json", {"loss": 0.5})
        assert path.startswith(workdir.write_path())
        with open(path) as f:
            assert json.load(f) == {"loss": 0.5}
        assert not tf.io.gfile.exists(ram_root)
    finally:
        workdir.close()
    assert not os.path.exists(path)


def test_discard_scratch_deletes_only_the_named_part(ram_root):
    workdir = Workdir(ram_root, is_chief=False)
    try:
        os.makedirs(workdir.write_path(CHECKPOINTS))
        os.makedirs(workdir.write_path("export"))
        workdir.discard_scratch(CHECKPOINTS)
        assert not os.path.exists(workdir.write_path(CHECKPOINTS))
        assert os.path.isdir(workdir.write_path("export"))
    finally:
        workdir.close()


def test_discard_scratch_on_the_chief_keeps_the_workdir(ram_root):
    workdir = Workdir(ram_root, is_chief=True)
    tf.io.gfile.makedirs(workdir.path(CHECKPOINTS))
    workdir.discard_scratch(CHECKPOINTS)
    assert tf.io.gfile.isdir(workdir.path(CHECKPOINTS))


def test_an_unwritable_workdir_names_the_path(tmp_path):
    regular_file = tmp_path / "a_file"
    regular_file.write_text("not a directory")
    bad = str(regular_file / "run")
    workdir = Workdir(bad, is_chief=True)
    with pytest.raises(HarnessError) as raised:
        workdir.ensure_writable()
    message = str(raised.value)
    assert repr(bad) in message
    assert "Pass a writable --workdir" in message
    assert "\n" not in message
    assert raised.value.exit_code == 2


def test_a_negative_storage_wait_is_bad_input(ram_root):
    workdir = Workdir(ram_root, is_chief=True)
    message = raises_one_line(
        lambda: workdir.ensure_writable(storage_wait_s=-1), "config.checkpoint.storage_wait_s=-1"
    )
    assert ">= 0" in message
    assert not tf.io.gfile.exists(ram_root)  # Refused before anything was written.


def _model(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), loss="mse")
    create_all_variables(model, (np.ones((2, 3), np.float32), np.zeros((2, 2), np.float32)))
    return model


def test_checkpointer_saves_and_restores_under_ram(ram_root):
    workdir = Workdir(ram_root, is_chief=True)
    workdir.ensure_writable()
    model = _model(seed=0)
    model.optimizer.iterations.assign(7)
    checkpointer = Checkpointer(workdir=workdir, model=model, max_to_keep=1)
    checkpointer.save()
    assert checkpointer.last_saved_step == 7
    latest = tf.train.latest_checkpoint(f"{ram_root}/{CHECKPOINTS}")
    assert latest == f"{ram_root}/{CHECKPOINTS}/ckpt-7"

    fresh = _model(seed=1)
    assert Checkpointer(workdir=workdir, model=fresh, max_to_keep=1).restore_latest() == 7
    for got, want in zip(fresh.variables, model.variables, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-7)

    worker = Workdir(ram_root, is_chief=False)  # Every worker reads the chief's checkpoint.
    try:
        other = _model(seed=2)
        assert Checkpointer(workdir=worker, model=other, max_to_keep=1).restore_latest() == 7
        np.testing.assert_allclose(
            other.layers[0].kernel.numpy(), model.layers[0].kernel.numpy(), rtol=0, atol=1e-7
        )
    finally:
        worker.close()
