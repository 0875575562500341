"""Plug-ins by import path: resolving them, checking their arguments, and user data functions."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import base
from trainer import registry as plugins
from trainer.data import create_source
from trainer.errors import HarnessError

TESTS = "tests.plugins_for_tests"


def _data_config(source, **args):
    config = base.get_config()
    with config.unlocked():
        config.data.source = source
        config.data.args = ml_collections.ConfigDict(args)
    return config.data


def test_a_registered_name_or_an_import_path_resolves():
    registry = {"mine": len}
    assert plugins.resolve("mine", registry, field="f") is len
    assert plugins.resolve("os.path:join", registry, field="f").__name__ == "join"


@pytest.mark.parametrize(
    "name, fragments",
    [
        ("nope", ("Unknown f='nope'", "registered name (mine)", "my_project.models:build")),
        ("no_such_module:x", ("cannot import module 'no_such_module'", "No module named")),
        (f"{TESTS}:missing", ("has nothing named 'missing'", "not a callable")),
        (f"{TESTS}:NOT_CALLABLE", ("has a int named 'NOT_CALLABLE'",)),
        (f"{TESTS}:", ("not a callable",)),
    ],
)
def test_a_bad_name_says_what_is_wrong(name, fragments):
    with pytest.raises(HarnessError) as error:
        plugins.resolve(name, {"mine": len}, field="f")
    for fragment in fragments:
        assert fragment in str(error.value)


def test_arguments_are_checked_against_the_signature():
    def build(*, input_shape, width, depth=2):
        return input_shape, width, depth

    provided = {"input_shape": (3,), "num_classes": 4}
    assert plugins.call_with_args(build, {"width": 5}, provided=provided, field="a") == (
        (3,),
        5,
        2,
    )
    with pytest.raises(HarnessError) as error:
        plugins.call_with_args(build, {"wdth": 5}, provided=provided, field="config.model.args")
    message = str(error.value)
    assert "unknown argument(s) ['wdth']" in message and "missing argument(s) ['width']" in message
    assert "(*, input_shape, width, depth=2)" in message  # The signature, to fix it by.
    with pytest.raises(HarnessError, match=r"provides itself \['input_shape'\]"):
        plugins.call_with_args(build, {"width": 1, "input_shape": 2}, provided=provided, field="a")


def test_defaults_come_from_the_signature_without_the_provided_arguments():
    def build(*, input_shape, width=8, names=("a",)):
        del input_shape

    assert plugins.default_args(build, provided=("input_shape",)) == {"width": 8, "names": ("a",)}


def test_a_data_function_of_arrays_is_an_in_memory_source_with_its_classes():
    source = create_source(_data_config(f"{TESTS}:arrays", rows=30), seed=3)
    assert source.num_classes == 2  # Integer labels 0..1.
    x, y = source.splits["train"]
    assert x.shape == (30, 4) and y.shape == (30,)
    again = create_source(_data_config(f"{TESTS}:arrays", rows=30), seed=3)
    np.testing.assert_array_equal(x, again.splits["train"][0])  # The seed reached it.


def test_a_data_source_class_gets_its_arguments_and_the_seed():
    source = create_source(_data_config(f"{TESTS}:CountingSource", rows=8), seed=5)
    assert (source.rows, source.seed, source.num_classes) == (8, 5, 2)


@pytest.mark.parametrize(
    "name, args, fragments",
    [
        (f"{TESTS}:flat_dataset", {}, ("elements of structure tensor(4,)", "(features, label)")),
        (f"{TESTS}:not_a_dataset", {}, ("returned list", "tf.data.Dataset")),
        (f"{TESTS}:pairs_of_arrays", {}, ("returned ['train']", "'validation', 'test'")),
        (f"{TESTS}:arrays", {"cols": 3}, ("unknown argument(s) ['cols']", "rows: int = 60")),
        (f"{TESTS}:StopOnOneWorker", {}, ("is the class StopOnOneWorker, not a DataSource",)),
    ],
)
def test_a_data_plug_in_that_gives_the_wrong_thing_says_what_was_expected(name, args, fragments):
    with pytest.raises(HarnessError) as error:
        source = create_source(_data_config(name, **args), seed=0)
        source.examples("train", tf.distribute.InputContext())
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)
