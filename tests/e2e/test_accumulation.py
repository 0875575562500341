"""Gradient accumulation: N micro-batches per optimizer step give the weights that one batch of
the same examples gives (models without batch statistics), under 1 and 2 replicas, with and
without XLA, for compiled models and one that writes its own train_step; bad settings are
one-line errors."""

import json

import numpy as np
import pytest

from tests.support.helpers import assert_one_line_error, run_module, train

ATOL, RTOL = 2e-6, 1e-5


def _assert_same_training(got, want):
    assert got["step"] == want["step"] == 4
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    for a, b in zip(got["weights"], want["weights"], strict=True):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=ATOL, rtol=RTOL)


_MIRRORED = """
import json, sys, tempfile
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from tests.unit.loop.test_accumulation import trained

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
runs = {}
for model, micro in (("mlp", 4), ("custom_step", 2)):
    for steps in (1, micro):
        runs[f"{model} {steps}"] = trained(strategy, model, steps, tempfile.mkdtemp())
print(json.dumps(runs))
"""


def test_two_replicas_accumulating_train_as_one_batch():
    """Each replica sums its micro-batches' gradients; the optimizer reduces the mean once."""
    process = run_module("tests.support.run_python", _MIRRORED, timeout=300)
    assert process.returncode == 0, process.stderr[-4000:]
    runs = json.loads(process.stdout.strip().splitlines()[-1])
    _assert_same_training(runs["mlp 4"], runs["mlp 1"])
    _assert_same_training(runs["custom_step 2"], runs["custom_step 1"])


def test_accumulation_that_does_not_divide_the_batch_on_the_command_line(workdir):
    assert_one_line_error(
        train(f"--workdir={workdir}", "--config.train.accumulation_steps=3"),
        "config.train.accumulation_steps=3",
        "(128 / 1 replicas = 128)",
    )
