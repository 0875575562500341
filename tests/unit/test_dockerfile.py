"""The Dockerfile read as text: pinned, cached by layer, and it ships every package pyproject.toml
installs (hadolint and the entrypoint's SIGTERM are tests/e2e/test_dockerfile.py)."""

import os
import re

from tests.support.helpers import REPO

DOCKERFILE = os.path.join(REPO, "Dockerfile")


def test_every_installed_package_is_copied_into_the_image():
    with open(os.path.join(REPO, "pyproject.toml")) as f:
        include = re.search(r"include = \[(.*?)\]", f.read()).group(1)
    packages = {name.strip('" *') for name in include.split(",")}
    with open(DOCKERFILE) as f:
        copied = set(re.findall(r"^COPY (\w+) \1$", f.read(), flags=re.MULTILINE))
    assert packages == copied
    with open(os.path.join(REPO, ".dockerignore")) as f:
        ignored = f.read().split()
    assert not packages & set(ignored)


def _instructions() -> list[tuple[str, str]]:
    with open(DOCKERFILE) as f:
        text = re.sub(r"\\\n", " ", f.read())  # Continuation lines joined, as Docker does.
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_the_base_image_is_pinned_by_digest():
    bases = [argument for instruction, argument in _instructions() if instruction == "FROM"]
    assert bases and all(re.fullmatch(r"\S+@sha256:[0-9a-f]{64}", base) for base in bases)


def test_the_dependency_layer_is_built_from_pyproject_alone():
    # What is copied before the dependencies install invalidates their layer when it changes.
    instructions = _instructions()
    first_install = next(
        i for i, (name, argument) in enumerate(instructions) if "-r /tmp/requirements" in argument
    )
    copied_before = [arg for name, arg in instructions[:first_install] if name == "COPY"]
    assert copied_before == ["pyproject.toml ./"]
