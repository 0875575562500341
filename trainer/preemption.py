"""Preemption: on SIGTERM, every worker saves a checkpoint at the same step, then exits 42.

Kubernetes and preemptible VMs send SIGTERM, wait a grace period, then SIGKILL; a
MultiWorkerMirrored worker otherwise ignores SIGTERM and loses everything since the last checkpoint.
`tf.distribute.experimental.PreemptionCheckpointHandler` agrees on the step to save across the
workers (through the coordination service) and saves after the host loop that reaches it. It
saves through the harness's Checkpointer, so only the chief writes the workdir.
"""

import sys

import tensorflow as tf
from absl import logging

from trainer.checkpoints import Checkpointer

PREEMPTED_EXIT_CODE = 42  # Saved on SIGTERM: a restart policy retries, and the rerun resumes.
PEER_LOST_EXIT_CODE = 43  # Another worker vanished: relaunch all; they resume from a checkpoint.


def create_preemption_handler(strategy: tf.distribute.Strategy, checkpointer: Checkpointer):
    """A handler whose `run(fn, *args)` wraps each host loop; None where it does not apply."""
    if isinstance(strategy, tf.distribute.TPUStrategy):
        return None  # Cloud TPU VMs get maintenance events, not SIGTERM: checkpoints cover it.

    def save():
        checkpointer.save()
        logging.warning("Preempted: saved a checkpoint at step %s.", checkpointer.last_saved_step)

    def exit_for_restart():
        logging.warning(
            "Exiting with code %d: rerun the same command to resume.", PREEMPTED_EXIT_CODE
        )
        sys.exit(PREEMPTED_EXIT_CODE)

    return tf.distribute.experimental.PreemptionCheckpointHandler(
        getattr(strategy, "cluster_resolver", None),
        checkpointer.read_manager,
        termination_config=tf.distribute.experimental.TerminationConfig(
            exit_fn=exit_for_restart, save_fn=save
        ),
    )
