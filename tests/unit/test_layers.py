"""Imports go down the layers drawn in trainer/__init__.py, never up, and never sideways."""

import ast
import os

import pytest

from tests.support.helpers import REPO

# The layers of trainer/, lowest first (trainer/__init__.py draws them). A unit is a subpackage
# of trainer/ or a module at its top level.
LAYERS = (
    ("errors",),
    ("registry",),
    ("cli", "cloud", "modeling"),
    ("data", "models"),
    ("workdir",),
    ("loop",),
    ("actions",),
    ("run",),
    ("sweep", "bench"),
    ("main", "prepare", "report", "data_bench"),
)

RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}

# What the other top-level packages may import of trainer/.
OUTSIDE = {
    "strategies": ("trainer.errors",),
    "launch": ("trainer.errors", "trainer.cli"),
}


def unit_of(path: str) -> str:
    """trainer/run/training.py -> run; trainer/errors.py -> errors."""
    parts = os.path.relpath(path, os.path.join(REPO, "trainer")).split(os.sep)
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import, those inside functions included; a relative import is
    reported as "." (the layers are checked on absolute names only)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append((node.lineno, "."))
        elif isinstance(node, ast.ImportFrom) and node.module in ("trainer", "configs"):
            # from trainer import cli -> trainer.cli; from configs import base -> configs.base
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module))
    return found


def upward_imports(unit: str, source: str) -> list[str]:
    """The imports of `source` (in trainer unit `unit`) that break the layers."""
    broken = []
    for line, module in imported_modules(source):
        if module == ".":
            broken.append(f"line {line}: a relative import (import by the absolute name)")
            continue
        parts = module.split(".")
        if parts[0] == "configs" and len(parts) > 1 and RANK[unit] < RANK["sweep"]:
            broken.append(f"line {line}: {module} (configs imports data and models)")
        if parts[0] == "launch" and RANK[unit] < RANK["sweep"]:
            broken.append(f"line {line}: {module} (launch is above the run)")
        if parts[0] != "trainer" or len(parts) == 1:
            continue
        target = parts[1]
        if target == unit:
            continue
        if target not in RANK:
            broken.append(f"line {line}: {module} (a unit that has no layer: add it to LAYERS)")
        elif RANK[target] >= RANK[unit]:
            where = "sideways" if RANK[target] == RANK[unit] else "upward"
            broken.append(f"line {line}: {module} ({where}: {target} from {unit})")
    return broken


def python_files(top: str) -> list[str]:
    return [
        os.path.join(folder, name)
        for folder, _, names in os.walk(os.path.join(REPO, top))
        for name in names
        if name.endswith(".py")
    ]


def test_trainer_imports_only_down_its_layers():
    broken = []
    for path in python_files("trainer"):
        if path == os.path.join(REPO, "trainer", "__init__.py"):
            continue
        with open(path) as f:
            problems = upward_imports(unit_of(path), f.read())
        broken += [f"{os.path.relpath(path, REPO)} {problem}" for problem in problems]
    assert not broken, "Imports against the layers of trainer/__init__.py:\n" + "\n".join(broken)


@pytest.mark.parametrize("package", sorted(OUTSIDE))
def test_strategies_and_launch_import_only_what_they_may_of_trainer(package):
    allowed = OUTSIDE[package]
    broken = []
    for path in python_files(package):
        with open(path) as f:
            for line, module in imported_modules(f.read()):
                if module.startswith("trainer.") and not any(
                    module == a or module.startswith(a + ".") for a in allowed
                ):
                    broken.append(f"{os.path.relpath(path, REPO)} line {line}: {module}")
    assert not broken, f"{package}/ may import only {allowed} of trainer:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    ("unit", "source", "fragment"),
    [
        ("loop", "from trainer.run.experiment import Experiment", "upward: run from loop"),
        ("data", "def f():\n    import trainer.models.mlp", "sideways: models from data"),
        ("cli", "from trainer import workdir", "upward: workdir from cli"),
        ("modeling", "import configs.base", "configs imports data and models"),
        ("cli", "from configs import base", "configs imports data and models"),
        ("workdir", "from . import directory", "a relative import"),
        ("run", "from trainer.nowhere import x", "has no layer"),
    ],
)
def test_the_check_finds_what_breaks_the_layers(unit, source, fragment):
    problems = upward_imports(unit, source)
    assert len(problems) == 1 and fragment in problems[0], problems


def test_every_unit_of_trainer_has_a_layer():
    units = {unit_of(path) for path in python_files("trainer")} - {"__init__"}
    assert units <= set(RANK), sorted(units - set(RANK))
    assert set(RANK) <= units, sorted(set(RANK) - units)  # No layer names a unit that is gone.
