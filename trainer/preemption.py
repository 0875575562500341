"""Preemption: on SIGTERM, every worker saves a checkpoint at the same step, then exits 42.

Kubernetes and preemptible VMs send SIGTERM, wait a grace period, then SIGKILL; a
MultiWorkerMirrored worker otherwise ignores SIGTERM and loses everything since the last checkpoint.
`tf.distribute.experimental.PreemptionCheckpointHandler` agrees on the step to save across the
workers (through the coordination service) and saves after the host loop that reaches it. It
saves through the harness's Checkpointer, so only the chief writes the workdir.
"""

import re
import sys

import tensorflow as tf
from absl import logging

from strategies import ClusterInfo
from trainer.checkpoints import Checkpointer
from trainer.errors import PREEMPTED_EXIT_CODE, PeerLost

# What a collective raises on the survivors when a peer dies: the coordination service stops
# getting its heartbeats (about 10 s), or its connection resets (at once).
_PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.DeadlineExceededError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
)


def create_preemption_handler(strategy: tf.distribute.Strategy, checkpointer: Checkpointer):
    """A handler whose `run(fn, *args)` wraps each host loop; None where it does not apply."""
    if isinstance(strategy, tf.distribute.TPUStrategy):
        # TF 2.21's handler does nothing on Cloud TPU VMs (it only warns): periodic checkpoints
        # cover TPU preemption until that changes.
        return None

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


def as_peer_lost(error: Exception, cluster: ClusterInfo, last_checkpoint_step) -> PeerLost | None:
    """A one-line PeerLost naming the lost worker(s), if `error` means a peer vanished."""
    if cluster.num_workers < 2 or not isinstance(error, _PEER_ERRORS):
        return None
    tasks = set(re.findall(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)", str(error)))
    tasks.discard((cluster.task_type, str(cluster.task_id)))
    lost = ", ".join(f"{job} {index}" for job, index in sorted(tasks)) or "another worker"
    return PeerLost(
        f"lost contact with {lost} ({type(error).__name__}: it stopped sending heartbeats or "
        f"its connection broke). Relaunch all workers with the same command: they resume from "
        f"the last checkpoint (step {last_checkpoint_step or 0})."
    )
