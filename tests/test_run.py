"""Pieces of trainer/run/training.py that need no training run."""

from tests.helpers import raises_one_line
from trainer.run.training import _check_class_names
from trainer.workdir.directory import Workdir


def test_a_resumed_run_must_have_the_classes_its_checkpoints_learned(tmp_path):
    workdir = Workdir(str(tmp_path / "run"), is_chief=True)
    workdir.ensure_writable()
    _check_class_names(workdir, ("cat", "dog"), start_step=0)  # The first start writes them.
    _check_class_names(workdir, ("cat", "dog"), start_step=100)  # The same classes: resume.
    raises_one_line(
        lambda: _check_class_names(workdir, ("bird", "cat", "dog"), start_step=100),
        "trained on classes ['cat', 'dog']",
        "['bird', 'cat', 'dog']",
        "new --workdir",
    )
    _check_class_names(workdir, None, start_step=100)  # A regression: nothing to check.
