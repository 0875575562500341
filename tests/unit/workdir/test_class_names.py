"""The classes a run's checkpoints were trained on (trainer/workdir/class_names.py)."""

from tests.support.helpers import raises_one_line
from trainer.workdir.class_names import check_class_names
from trainer.workdir.directory import Workdir


def test_a_resumed_run_must_have_the_classes_its_checkpoints_learned(tmp_path):
    workdir = Workdir(str(tmp_path / "run"), is_chief=True)
    workdir.ensure_writable()
    check_class_names(workdir, ("cat", "dog"), start_step=0)  # The first start writes them.
    check_class_names(workdir, ("cat", "dog"), start_step=100)  # The same classes: resume.
    raises_one_line(
        lambda: check_class_names(workdir, ("bird", "cat", "dog"), start_step=100),
        "trained on classes ['cat', 'dog']",
        "['bird', 'cat', 'dog']",
        "new --workdir",
    )
    check_class_names(workdir, None, start_step=100)  # A regression: nothing to check.
