"""A user's project as the tests bring it: a DataSource of its own, an action that logs every
call, and the experiment file (`--config=tests/support/user_project.py`).

The splits' sizes are primes, so they divide by no batch size and no number of replicas.
"""

import json
import os

import ml_collections
import numpy as np
import tensorflow as tf

from configs import base
from trainer.data import DataSource

SIZES = {"train": 1009, "validation": 97, "test": 101}
FEATURES, CLASSES = 8, 3
LOG = "calls.jsonl"  # What LogCalls writes in its workdir.


class UserData(DataSource):
    """Features whose label is the argmax of a fixed projection of them, so that it learns."""

    num_classes = CLASSES

    def __init__(self, *, seed: int = 0):
        rng = np.random.default_rng(seed)
        projection = rng.normal(size=(FEATURES, CLASSES))
        self._splits = {}
        for split, size in SIZES.items():
            features = rng.normal(size=(size, FEATURES)).astype(np.float32)
            labels = np.argmax(features @ projection, axis=1).astype(np.int32)
            self._splits[split] = (features, labels)

    def examples(self, split, input_context):
        return tf.data.Dataset.from_tensor_slices(self._splits[split])


class LogCalls:
    """Appends each call's step and validation to WORKDIR/calls.jsonl: a plain action that
    writes wherever its workdir is, without asking whether it runs on the chief."""

    def __init__(self, *, workdir: str):
        self.path = os.path.join(workdir, LOG)

    def __call__(self, state):
        with open(self.path, "a") as f:
            f.write(json.dumps({"step": state.step, "validation": state.validation}) + "\n")


def read_calls(workdir) -> list[tuple[int, dict | None]]:
    """(step, validation) of each call LogCalls logged in `workdir`, in order."""
    with open(os.path.join(workdir, LOG)) as f:
        return [(call["step"], call["validation"]) for call in map(json.loads, f)]


def get_config():
    """25 steps in host loops of 10, evaluated every 10: the last step (25) is not one of them."""
    config = base.get_config(model="mlp", data="tests.support.user_project:UserData")
    config.model.args.hidden_units = (16,)
    config.train.global_batch_size = 64
    config.train.steps = 25
    config.train.steps_per_loop = 10
    config.eval.every_steps = 10
    config.checkpoint.every_steps = 0  # Saved at the end only.
    config.export.saved_model = False
    config.actions = ml_collections.ConfigDict(
        {"log_calls": {"action": "tests.support.user_project:LogCalls"}}
    )
    return config
