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
