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
    missing = [field for field in _leaves(base.get_config()) if field not in commented]
    assert not missing, f"fields without a comment in configs/base.py: {missing}"


def test_an_unknown_field_is_an_error():
    config = digits_mlp.get_config()
    with pytest.raises(AttributeError):
        config.train.stepz = 5


def test_a_field_of_the_wrong_type_is_an_error():
    config = synthetic_mlp.get_config()
    with pytest.raises(TypeError):
        config.train.steps = "many"
