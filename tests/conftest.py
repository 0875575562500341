"""Shared fixtures, and the `e2e` marker given by location: every test under tests/e2e/."""

import os

import pytest

E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e") + os.sep


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.path).startswith(E2E):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def workdir(tmp_path):
    """A workdir path that does not exist yet (the run creates it)."""
    return str(tmp_path / "workdir")
