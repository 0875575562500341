"""Every console script the installed project declares names a function its module defines."""

import ast
import importlib.util
from importlib import metadata

import pytest

SCRIPTS = {  # pyproject.toml's [project.scripts], as pip installed them.
    entry.name: entry.value
    for entry in metadata.distribution("keras-distribute-trainer").entry_points
    if entry.group == "console_scripts"
}


def test_every_command_has_a_console_script():
    assert SCRIPTS, "No console scripts installed: pip install -e '.[dev]' again (pyproject.toml)."
    targets = set(SCRIPTS.values())
    for module in ("trainer.main", "trainer.data.prepare", "trainer.workdir.curves"):
        assert any(target.startswith(module + ":") for target in targets), module
    assert {"trainer", "trainer-prepare", "trainer-sweep", "trainer-launch"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_the_script_names_a_function_of_its_module(script):
    module, _, function = SCRIPTS[script].partition(":")
    spec = importlib.util.find_spec(module)  # Imports the parents only, never runs the command.
    assert spec is not None and spec.origin, module
    with open(spec.origin) as f:
        tree = ast.parse(f.read())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert function in defined, f"{module} defines no {function}() for console script {script}"
