"""AveragedWeights: evaluation sees the EMA weights, and the raw weights come back exactly, on
one device and on every replica of 2 mirrored ones."""

import json

import pytest

from tests.support.helpers import run_module

# Under 2 mirrored replicas: each replica holds the averages inside the context and its raw
# weights after it; the evaluation equals one of the same model given the averages.
_MIRRORED = """
import json, sys, tempfile
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from configs import digits_mlp
from trainer.run.experiment import build_experiment
from trainer.modeling.keras_api import moving_averages
from trainer.workdir.directory import Workdir

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
config = digits_mlp.get_config()
config.train.steps, config.train.ema_momentum, config.train.learning_rate = 40, 0.9, 0.01
experiment = build_experiment(
    config, strategy=strategy, workdir=Workdir(tempfile.mkdtemp(), is_chief=True)
)
model = experiment.model
experiment.host_loop.train(experiment.train_iterator(0), 40)


def replicas(variables):
    return [[c.numpy() for c in v.value.values] for v in variables]


def same(a, b):
    return all(np.array_equal(x, y) for u, v in zip(a, b, strict=True) for x, y in zip(u, v))


averages = moving_averages(model)
raw, averaged = replicas(model.trainable_variables), replicas(averages)
checks = {"two_replicas": all(len(r) == 2 for r in raw), "moved": not same(raw, averaged)}
with experiment.averaged_weights.swapped_in():
    checks["averages_in"] = same(replicas(model.trainable_variables), averaged)
results = experiment.evaluate("validation")
checks["raw_back"] = same(replicas(model.trainable_variables), raw)
checks["averages_kept"] = same(replicas(averages), averaged)
for weight, average in zip(model.trainable_variables, averages):
    weight.assign(average.value)
dataset = experiment._evaluation_datasets["validation"]
holder = experiment.host_loop.evaluate(dataset)
print(json.dumps({"checks": checks, "ema": results, "holder": holder}))
"""


def test_under_two_replicas_every_replica_swaps_and_swaps_back():
    process = run_module("tests.support.run_python", _MIRRORED, timeout=240)
    assert process.returncode == 0, process.stderr[-4000:]
    report = json.loads(process.stdout.strip().splitlines()[-1])
    assert report["checks"] == dict.fromkeys(report["checks"], True), report["checks"]
    assert len(report["checks"]) == 5
    for metric, value in report["holder"].items():
        assert report["ema"][metric] == pytest.approx(value, rel=1e-6, abs=1e-7), metric
