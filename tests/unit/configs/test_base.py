"""The base config documents every field, and rejects unknown ones."""

import ast
import inspect

import pytest

from configs import base, digits_mlp, synthetic_mlp


def _leaves(config, prefix=""):
    for key, value in config.items():
        if hasattr(value, "items"):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_every_field_has_a_one_line_comment_in_base():
    source = inspect.getsource(base)
    commented = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
            line = source.splitlines()[node.lineno - 1]
            target = ast.unparse(node.targets[0]).removeprefix("config.")
            is_section = "ConfigDict()" in line
            if "#" in line or is_section:
                commented.add(target)
    fields = [f for f in _leaves(base.get_config()) if ".args." not in f]  # Plug-ins' own.
    missing = [field for field in fields if field not in commented]
    assert not missing, f"fields without a comment in configs/base.py: {missing}"


def test_an_unknown_field_is_an_error():
    config = digits_mlp.get_config()
    with pytest.raises(AttributeError):
        config.train.stepz = 5


def test_a_field_of_the_wrong_type_is_an_error():
    config = synthetic_mlp.get_config()
    with pytest.raises(TypeError):
        config.train.steps = "many"


def test_every_built_in_plug_in_documents_its_arguments():
    from trainer.data import SOURCES, default_source_args
    from trainer.models import MODELS, default_model_args

    for registry, defaults in ((MODELS, default_model_args), (SOURCES, default_source_args)):
        for name in registry.names():
            plug_in = registry.resolve(name)
            doc = inspect.getdoc(plug_in) or ""
            doc += inspect.getdoc(getattr(plug_in, "__init__", None)) or ""
            undocumented = [arg for arg in defaults(name) if f"{arg}" not in doc]
            assert not undocumented, f"{name}: document {undocumented} in its docstring"


def test_use_model_fills_the_builder_defaults_and_refuses_unknown_arguments():
    config = base.get_config()
    base.use_model(config, "vgg", dense_units=32)
    assert config.model.name == "vgg" and config.model.args.dense_units == 32
    assert config.model.args.head_dropout == 0.5  # From the builder's signature.
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['dense'\]"):
        base.use_model(config, "vgg", dense=32)


def needs_units(units: int, *, input_shape, num_classes, rate: float = 0.1, name="x", shape=()):
    """A builder with one argument without a default (named by import path below)."""
    raise AssertionError("only configured here")


def needs_anything(path, size: "int", *, num_classes):
    """Arguments without defaults: one without an annotation, one annotated as a string."""
    raise AssertionError("only configured here")


HERE = "tests.unit.configs.test_base"


def test_an_argument_without_a_default_is_a_placeholder_of_its_type():
    config = base.get_config(model=f"{HERE}:needs_units")
    args = config.model.args
    assert args.to_dict() == {"units": None, "rate": 0.1, "name": "x", "shape": ()}
    assert args.get_type("units") is int
    args.units = 64  # What an experiment file does.
    assert args.units == 64
    with pytest.raises(TypeError):
        args.units = "many"
    base.use_model(config, f"{HERE}:needs_anything")
    assert config.model.args.get_type("path") is object  # Any literal.
    assert config.model.args.get_type("size") is int
    config.model.args.path = "a.csv"
    assert config.model.args.path == "a.csv"


def test_a_section_set_after_the_lock_is_locked_too():
    config = base.get_config()
    base.use_model(config, "vgg")
    base.use_data(config, "csv", label="y")
    for section in (config.model.args, config.data.args):
        with pytest.raises(AttributeError):
            section.typo = 1


def test_switch_plugin_keeps_the_experiments_values_only_for_its_own_plugin():
    config = digits_mlp.get_config()  # mlp with hidden_units=(256, 128).
    base.switch_plugin(config, "model.name", "mlp")
    assert config.model.args.hidden_units == (256, 128)
    base.switch_plugin(config, "model.name", "wide_deep")
    assert config.model.name == "wide_deep" and config.model.args.hidden_units == (30, 30)
    base.switch_plugin(config, "data.source", "synthetic")
    assert config.data.source == "synthetic" and config.data.args.num_examples == 8192


def test_field_comments_give_every_field_in_get_configs_order():
    comments = base.field_comments()
    assert list(comments)[:4] == ["seed", "precision", "model", "model.name"]
    assert comments["train.steps"] == (
        (),
        "Total optimizer steps; a resumed run stops at exactly this.",
    )
    above, _ = comments["recovery"]
    assert above[0].startswith("On a NaN or infinite training loss")
    fields = [f for f in _leaves(base.get_config()) if ".args." not in f]
    assert all(comments.get(field, ((), ""))[1] for field in fields), [
        field for field in fields if not comments.get(field, ((), ""))[1]
    ]
