"""Checkpoints of the model and optimizer (step counter included), chief-aware.

Every worker restores from the workdir; the chief saves there and the others save to scratch.
A checkpoint becomes visible only when TensorFlow's index file names it, after its data is written,
so a crash mid-save leaves the previous checkpoint as the latest. A checkpoint that does not fit
the model raises CheckpointMismatch, and TensorFlow's warnings about it are not shown.
"""

import logging as python_logging

import tensorflow as tf
from absl import logging

from trainer.cloud.storage import DEFAULT_WAIT_S
from trainer.errors import HarnessError, first_line
from trainer.modeling.keras_api import keras
from trainer.workdir.directory import CHECKPOINTS, Workdir
from trainer.workdir.storage_faults import StorageFaults

# What TensorFlow logs (twice: its handler and absl's) about each value a failed restore left
# unrestored, when the restore's state is collected: at exit, after the one-line error.
_UNRESTORED_WARNINGS = (
    "Detecting that an object or model or tf.train.Checkpoint is being deleted",
    "Value in checkpoint could not be found in the restored object",
    "An attribute in the restored object could not be found in the checkpoint",
)


class CheckpointMismatch(HarnessError):
    """The workdir's latest checkpoint does not fit the model and optimizer.

    Attributes:
      checkpoint: its path.
      reason: TensorFlow's reason, in one line.
    """

    def __init__(self, checkpoint: str, reason: str):
        self.checkpoint, self.reason = checkpoint, reason
        super().__init__(
            f"Checkpoint {checkpoint} does not fit this model and optimizer ({reason}). A "
            "changed model, optimizer or config.train.ema_momentum (on or off) needs a new "
            "--workdir."
        )


class Checkpointer:
    """Saves and restores the model, the optimizer (its step, slots and weight averages) and
    the recipe's TrainingState (learning-rate scale, early-stopping progress)."""

    def __init__(
        self,
        *,
        workdir: Workdir,
        model: keras.Model,
        max_to_keep: int,
        training_state=None,
        storage_wait_s: float = DEFAULT_WAIT_S,
        agree=None,
    ):
        """`storage_wait_s`: how long a save may keep failing transiently before the run exits
        75; `agree(failed) -> failed on any worker`: the collective that keeps workers' retries
        together (trainer/workdir/storage_faults.py); None under one worker."""
        self._workdir = workdir
        self._agree = agree
        self.storage = StorageFaults(
            workdir.write_path(), wait_s=storage_wait_s, last_checkpoint=self.describe_last
        )
        self._step = model.optimizer.iterations
        tracked = {"model": model, "optimizer": model.optimizer}
        if training_state is not None:
            tracked["training_state"] = training_state
        self._checkpoint = tf.train.Checkpoint(**tracked)
        self._has_state = training_state is not None
        self._manager = tf.train.CheckpointManager(
            self._checkpoint,
            directory=workdir.write_path(CHECKPOINTS),
            max_to_keep=max_to_keep,
            step_counter=self._step,
        )
        self.last_saved_step: int | None = None

    @property
    def directory(self) -> str:
        return self._workdir.path(CHECKPOINTS)

    def restore_latest(self) -> int:
        """Restores the newest checkpoint in the workdir, if any; returns the step it holds."""
        latest = tf.train.latest_checkpoint(self.directory)
        if latest is None:
            return 0
        if self._has_state and not any(
            name.startswith("training_state/") for name, _ in tf.train.list_variables(latest)
        ):
            raise HarnessError(
                f"Checkpoint {latest} was written by a harness from before training recipes "
                "(its optimizer holds the learning rate as a variable, not a schedule, and its "
                "slots are laid out differently): finish that run with the version that "
                "started it, or start a new --workdir."
            )
        reason = self._restore(latest)
        if reason is not None:
            raise CheckpointMismatch(latest, reason)
        step = int(self._step.numpy())
        self.last_saved_step = step
        logging.info("Restored %s: resuming at step %d.", latest, step)
        return step

    def _restore(self, path: str) -> str | None:
        """Restores `path`; returns why it does not fit the model and optimizer, else None."""
        try:
            self._checkpoint.restore(path).assert_existing_objects_matched()
            return None
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            # The failed restore's state stays referenced by deferred restorations on the model,
            # the optimizer and the checkpoint, and warns of every value left unrestored when
            # it is collected: at exit, after the one-line error that says it all. No public API
            # lets go of it, so those warnings are dropped from here on.
            python_logging.getLogger("tensorflow").addFilter(_not_about_unrestored_values)
            return f"{type(e).__name__}: {first_line(e)}"

    def read(self, path: str) -> None:
        """Reads the checkpoint at `path` into the model and optimizer (the evaluator's view)."""
        self._checkpoint.read(path).expect_partial()

    def describe_last(self) -> str:
        """The checkpoint a rerun resumes from, for messages."""
        if self.last_saved_step is None:
            return "none yet (a rerun starts at step 0)"
        return f"{self.directory}/ckpt-{self.last_saved_step} (step {self.last_saved_step})"

    def save(self) -> None:
        step = int(self._step.numpy())
        path = self.storage.retry(
            f"save the checkpoint of step {step}",
            lambda: self._manager.save(checkpoint_number=step),
            agree=self._agree,
        )
        self._workdir.discard_scratch(CHECKPOINTS)
        self.last_saved_step = step
        if self._workdir.is_chief:
            logging.info("Saved checkpoint %s.", path)


def _not_about_unrestored_values(record: python_logging.LogRecord) -> bool:
    """A logging filter (added once: addFilter ignores the same filter twice)."""
    return not record.getMessage().startswith(_UNRESTORED_WARNINGS)
