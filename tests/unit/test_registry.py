"""Plug-ins by name or import path: the Registry type, the argument checks against a callable's
signature, and the three registries that use them (models, data sources, actions)."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import base
from trainer import registry
from trainer.actions.recipes import RECIPES
from trainer.actions.user import ACTIONS, user_actions
from trainer.data import SOURCES, create_source
from trainer.data.sources import DigitsSource
from trainer.errors import HarnessError
from trainer.loop.controller import RunState
from trainer.modeling.keras_api import keras
from trainer.models import MODELS, build_model, register
from trainer.models.mlp import mlp

TESTS = "tests.support.plugins"


def _registry():
    things = registry.Registry("thing", "config.thing.name")

    @things.register("mine")
    def mine():
        return "built"

    things.register("also")(len)
    return things, mine


def test_the_decorator_registers_by_name_and_returns_the_callable():
    things, mine = _registry()
    assert mine() == "built"  # The decorator hands the function back unchanged.
    assert things.resolve("mine") is mine and things.resolve("also") is len
    assert things.names() == ["also", "mine"]
    assert "mine" in things and "other" not in things


def test_a_name_registered_twice_is_refused_and_the_first_stays():
    things, mine = _registry()
    with pytest.raises(ValueError, match=r"thing 'mine' is registered twice: .*mine and .*len"):
        things.register("mine")(len)
    assert things.resolve("mine") is mine


def test_a_name_with_a_colon_is_refused():
    with pytest.raises(ValueError, match="would read as an import path"):
        registry.Registry("thing", "f").register("a:b")


def test_registries_are_separate():
    first, _ = _registry()
    second = registry.Registry("thing", "config.thing.name")
    assert second.names() == [] and "mine" not in second
    assert "mlp" in MODELS and "mlp" not in SOURCES and "digits" in SOURCES


def test_an_import_path_resolves_to_the_callable_there():
    things, _ = _registry()
    assert things.resolve("os.path:join").__name__ == "join"
    assert things.resolve(f"{TESTS}:CountingSource").__name__ == "CountingSource"
    assert things.resolve("os:path.join").__name__ == "join"  # Attributes after the colon.


@pytest.mark.parametrize(
    "name, fragments",
    [
        (
            "nope",
            (
                "Unknown config.thing.name='nope'",
                "registered name (also, mine)",
                "import path 'package.module:callable' for your own thing",
            ),
        ),
        ("no_such_module:x", ("cannot import module 'no_such_module'", "PYTHONPATH")),
        (f"{TESTS}:missing", ("has nothing named 'missing'", "not a callable")),
        (f"{TESTS}:NOT_CALLABLE", ("has a int named 'NOT_CALLABLE'",)),
        (f"{TESTS}:", ("not a callable",)),
    ],
)
def test_a_bad_name_says_what_is_wrong_and_how_to_fix_it(name, fragments):
    things, _ = _registry()
    with pytest.raises(HarnessError) as error:
        things.resolve(name)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_the_field_in_errors_can_be_the_entry_s_own():
    things, _ = _registry()
    with pytest.raises(HarnessError, match=r"^Unknown config.actions.stop.action='nope'"):
        things.resolve("nope", field="config.actions.stop.action")
    with pytest.raises(HarnessError, match=r"registered name \(none yet\)"):
        registry.Registry("thing", "f").resolve("nope")


def test_arguments_are_checked_against_the_signature():
    def build(*, input_shape, width, depth=2):
        return input_shape, width, depth

    provided = {"input_shape": (3,), "num_classes": 4}  # num_classes: not declared, not passed.
    assert registry.call_with_args(build, {"width": 5}, provided=provided, field="a") == (
        (3,),
        5,
        2,
    )
    with pytest.raises(HarnessError) as error:
        registry.call_with_args(build, {"wdth": 5}, provided=provided, field="config.model.args")
    message = str(error.value)
    assert "unknown argument(s) ['wdth']" in message and "missing argument(s) ['width']" in message
    assert "(*, input_shape, width, depth=2)" in message  # The signature, to fix it by.
    assert "in the file (config.model.args.NAME = VALUE)" in message
    assert "command line (--config.model.args.NAME=VALUE)" in message
    with pytest.raises(HarnessError, match=r"provides itself \['input_shape'\]"):
        registry.call_with_args(build, {"width": 1, "input_shape": 2}, provided=provided, field="a")


def test_a_callable_with_kwargs_takes_any_argument_but_not_the_provided_ones():
    def build(*, width, **rest):
        return width, rest

    given = registry.call_with_args(build, {"width": 1, "x": 2}, provided={"seed": 3}, field="a")
    assert given == (1, {"x": 2})  # `seed` is not declared by name: never put into **rest.


def test_defaults_and_names_come_from_the_signature_without_the_provided_arguments():
    def build(*, input_shape, width=8, names=("a",)):
        del input_shape

    assert registry.default_args(build, provided=("input_shape",)) == {"width": 8, "names": ("a",)}
    assert registry.argument_names(build, provided=("input_shape",)) == ["width", "names"]


def test_models_register_through_the_public_decorator():
    assert MODELS.resolve("mlp") is mlp
    assert MODELS.register == register  # trainer.models.register registers in MODELS.
    with pytest.raises(ValueError, match="model 'mlp' is registered twice"):
        register("mlp")(lambda: None)


def test_mlp_is_built_from_its_config_section():
    config = base.get_config()
    config.model.args.hidden_units = (7, 5)
    model = build_model(config.model, input_shape=(8, 8), num_classes=4)
    assert model.output_shape == (None, 4)
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)] == [
        7,
        5,
        4,
    ]


def test_the_head_stays_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model(base.get_config().model, input_shape=(4,), num_classes=3)
        assert model.layers[1].compute_dtype == "bfloat16"
        assert model.output.dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_unknown_model_lists_the_registered_ones():
    config = base.get_config()
    config.model.name = "resnet"
    with pytest.raises(HarnessError) as error:
        build_model(config.model, input_shape=(4,), num_classes=3)
    message = str(error.value)
    assert message.startswith("Unknown config.model.name='resnet'")
    assert f"registered name ({', '.join(MODELS.names())})" in message
    assert "deep_selu, mlp, siamese, text_lstm, vgg, wide_deep" in message
    assert "for your own model" in message


def test_a_field_the_model_does_not_take_is_named():
    config = base.get_config()
    with config.unlocked():
        config.model.args.widths = (3,)
    with pytest.raises(HarnessError, match=r"unknown argument\(s\) \['widths'\]"):
        build_model(config.model, input_shape=(4,), num_classes=3)


def _data_config(source, **args):
    config = base.get_config()
    with config.unlocked():
        config.data.source = source
        config.data.args = ml_collections.ConfigDict(args)
    return config.data


def test_the_built_in_sources_are_registered():
    assert SOURCES.resolve("digits") is DigitsSource
    assert SOURCES.names() == [
        "csv",
        "digit_pairs",
        "digits",
        "image_folder",
        "npz",
        "parquet",
        "synthetic",
        "text_folder",
        "tfds",
        "tfrecord",
    ]
    with pytest.raises(HarnessError, match=r"^Unknown config.data.source='kaggle'.*data source"):
        create_source(_data_config("kaggle"))


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


def _user_actions(**actions):
    return user_actions(ml_collections.ConfigDict(actions), workdir="/tmp/run", is_chief=False)


def test_the_recipe_actions_are_registered_apart_from_users_actions():
    assert ACTIONS.names() == []  # None built in: a user's action is named by import path.
    assert RECIPES.names() == ["best_export", "early_stopping", "recovery", "reduce_on_plateau"]


def test_a_user_action_by_import_path_gets_its_fields_and_what_the_harness_provides():
    [scheduled] = _user_actions(
        stop={"action": f"{TESTS}:StopOnOneWorker", "every_steps": 10, "at_step": 3}
    )
    assert (scheduled.name, scheduled.every_steps) == ("stop", 10)
    early, late = (
        RunState(
            step=step, total_steps=20, steps_in_loop=1, seconds=1.0, examples_per_sec=1.0, train={}
        )
        for step in (2, 3)
    )
    scheduled.action(early)
    scheduled.action(late)
    # `at_step` came from its fields, `is_chief=False` from the harness.
    assert (early.stop_reason, late.stop_reason) == (None, "worker 1 asked at step 3")


def test_an_unknown_action_lists_the_registered_ones():
    with pytest.raises(HarnessError) as error:
        _user_actions(stop={"action": "stop_early"})
    message = str(error.value)
    assert message.startswith("Unknown config.actions.stop.action='stop_early'")
    assert "registered name (none yet)" in message and "early_stopping" not in message


def test_a_recipe_action_in_config_actions_points_to_its_section():
    with pytest.raises(HarnessError) as error:
        _user_actions(stop={"action": "early_stopping", "monitor": "loss"})
    assert str(error.value) == (
        "config.actions.stop.action='early_stopping' is a recipe action, built from "
        "config.early_stopping: set config.early_stopping instead of config.actions.stop."
    )


def test_a_user_action_s_arguments_are_checked_against_its_signature():
    with pytest.raises(HarnessError) as error:
        _user_actions(boom={"action": f"{TESTS}:Explode", "at_stp": 5})
    message = str(error.value)
    assert "config.actions.boom does not match tests.support.plugins:Explode" in message
    assert "unknown argument(s) ['at_stp']; missing argument(s) ['at_step']" in message
