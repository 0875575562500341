import pytest


@pytest.fixture
def workdir(tmp_path):
    """A workdir path that does not exist yet (the run creates it)."""
    return str(tmp_path / "workdir")
