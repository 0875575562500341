"""TensorFlow's errors during a run, translated into one line that names the cause.

TensorFlow reports a corrupt record, an image that does not decode and a lost peer as long op
errors that name neither the file nor the worker. The run passes every `tf.errors.OpError` here
once; what can be explained becomes a HarnessError with its exit code, the rest is re-raised.
"""

import re

import tensorflow as tf

from trainer.cloud.preemption import as_peer_lost
from trainer.errors import HarnessError

_DECODING = ("image", "decode", "png", "jpeg", "gif", "bmp")  # In a failed decode's message.


def explain(error: tf.errors.OpError, *, experiment, cluster) -> HarnessError | None:
    """The one-line error for `error`, or None when it is not one the run can explain.

    `experiment` is None when building it failed; a data source that failed while the model
    was built rides on the error (`error.data_source`)."""
    source = experiment.source if experiment else getattr(error, "data_source", None)
    storage = experiment.checkpointer.storage.explain(error) if experiment else None
    if storage is not None:  # A write to the workdir no retry covered: an export, a JSON file.
        return storage
    if isinstance(error, tf.errors.DataLossError):
        return _data_loss(source, error)
    if isinstance(error, tf.errors.InvalidArgumentError):
        return _undecodable_file(source, error)
    saved = experiment.checkpointer.last_saved_step if experiment else None
    return as_peer_lost(error, cluster, saved)


def _undecodable_file(source, error) -> HarnessError | None:
    """Names the file a decode failed on, where the source can find it."""
    find = getattr(source, "find_corrupt_file", None)
    if find is None or not any(word in str(error).lower() for word in _DECODING):
        return None
    path = find()
    if path is None:
        return None
    reason = re.search(
        r"Unknown image file format|Invalid \w+ data[^.\]]*|[^.:]*corrupt[^.]*", str(error)
    )
    why = reason.group(0).strip() if reason else "the decoder refused it"
    return HarnessError(
        f"Reading the data failed: {path} does not decode ({why[:120]}). Remove or replace the "
        "file; checkpoints so far are intact."
    )


def _data_loss(source, error) -> HarnessError:
    """Names the corrupt file where the source can find it (the error itself does not)."""
    find = getattr(source, "find_corrupt_file", None)
    path = find() if find else None
    where = f"{path} is corrupt" if path else "a data file is corrupt"
    detail = re.search(r"corrupted record at \d+", str(error))
    return HarnessError(
        f"Reading the data failed: {where} ({detail.group(0) if detail else 'DataLossError'}). "
        "Prepare the data again; checkpoints so far are intact."
    )
