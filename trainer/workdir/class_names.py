"""The classes a run's checkpoints were trained on, kept as WORKDIR/class_names.json.

Written at the first start; on resume the data's classes must be the same, in the same order:
a class folder added, renamed or reordered would otherwise shift the labels under a restored
head. (The exports' own export/class_names.json serves the names; this one guards the resume.)
"""

import json

import tensorflow as tf

from trainer.errors import HarnessError
from trainer.workdir.directory import Workdir
from trainer.workdir.export import CLASS_NAMES_FILE


def check_class_names(workdir: Workdir, class_names, start_step: int) -> None:
    """Writes the classes at the first start; raises HarnessError if a resumed run's differ."""
    if not class_names:
        return
    path = workdir.path(CLASS_NAMES_FILE)
    if start_step > 0 and tf.io.gfile.exists(path):
        with tf.io.gfile.GFile(path) as f:
            trained = json.load(f)
        if trained != list(class_names):
            raise HarnessError(
                f"The checkpoints in {workdir.root} were trained on classes {trained[:10]}, but "
                f"the data now has {list(class_names)[:10]}: use a new --workdir (or the data "
                "with the classes it was trained on)."
            )
        return
    workdir.write_json(CLASS_NAMES_FILE, list(class_names))
