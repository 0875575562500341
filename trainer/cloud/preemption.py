"""Preemption: on SIGTERM or a GCE notice, every worker saves at the same step and exits 42 (44).

Kubernetes, Spot VMs and `launch.local` send SIGTERM, wait a grace period, then SIGKILL; a
worker that only trains on loses everything since its last periodic checkpoint. TensorFlow's
`PreemptionCheckpointHandler` does not do this where users run: when a GCE metadata server
answers (every GCE VM, Cloud TPU VM and GKE node) it stops watching SIGTERM — on CPU machines it
only warns, on GPU machines it polls the maintenance notice instead (seen on TF 2.21 with a
stand-in metadata server: SIGTERM to a worker saved nothing). So the harness
watches for itself, the same way everywhere:

- `TerminationWatcher` takes SIGTERM, and polls the metadata server (when one answers) for a
  Spot preemption or a terminating maintenance event, which counts as the same notice.
- `SaveIfPreempted` (trainer/actions/preemption.py), after every host loop, asks all workers
  whether any has a notice (one small all-reduce, `HostLoop.any_worker`); if one has, every
  worker saves at that same step and exits 42.
- Before training starts and after the final checkpoint there is nothing to lose, so a notice
  exits 42 at once (a rerun resumes, or repeats only the final evaluation and export).
- A worker whose own notice came from the metadata server exits 44 instead of 42 (`exit_code`):
  its VM is going away, and the notice stays set until it does, so a rerun on this host would
  only exit again at once. `launch.local` stops rather than restarting; a Kubernetes policy
  retries it like 42, on another node. The metadata server is asked first thing, so a rerun on
  a host whose notice is still set exits 44 before TensorFlow loads.

Time from SIGTERM to exit: the rest of the host loop in flight, one checkpoint save, and process
exit; at worst also the action running when the notice came (an evaluation) and one more host
loop. Keep those well under the platform's grace period (docs/workers.md, "Preemption").
"""

import os
import re
import signal
import sys
import threading
import time

from absl import logging

from trainer.cloud import gce_metadata
from trainer.errors import (
    HOST_PREEMPTED_EXIT_CODE,
    PREEMPTED_EXIT_CODE,
    PeerLost,
    process_exit_code,
)

# Importing this module does not load TensorFlow: trainer.main starts the watcher first thing.

_GCE_DETECT_S = 30.0  # How long a metadata server may take to answer before watching gives up.


class TerminationWatcher:
    """Records the first termination notice (`notice`, `noticed_at`, `host_going_away`); while
    `exit_at_once`, a notice ends the process with `exit_code()` right away instead."""

    def __init__(self, *, poll_s: float = 1.0):
        self.notice: str | None = None
        self.noticed_at: float | None = None
        # The notice came from the GCE metadata server: this VM is going away, not only this
        # process (a plain SIGTERM may be a pod eviction or a launcher's Ctrl-C).
        self.host_going_away = False
        self.exit_at_once = True
        self._poll_s = poll_s
        self._pending_reason: str | None = None
        self._previous_handler = None
        self._stopped = threading.Event()

    def start(self) -> "TerminationWatcher":
        self._previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)
        threading.Thread(target=self._watch_gce, name="gce-termination-notice", daemon=True).start()
        return self

    def take_back_sigterm(self) -> None:
        """Installs the handler again. A MultiWorkerMirroredStrategy's coordination service
        installs its own SIGTERM handler in C++ when it starts (behind Python's back, so
        `signal.getsignal` still names ours); that one only records the signal and trains on."""
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def stop(self) -> None:
        self._stopped.set()
        if self._previous_handler is not None:
            signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None

    def set_exit_at_once(self, at_once: bool) -> None:
        """Switches modes; a notice already received exits now when switching to at once."""
        self.exit_at_once = at_once
        if at_once and self.notice is not None:
            self._exit_now()

    def exit_code(self) -> int:
        """44 when this worker's own notice came from the metadata server, else 42 (also for a
        worker that saves on another worker's notice: its host is fine)."""
        return HOST_PREEMPTED_EXIT_CODE if self.host_going_away else PREEMPTED_EXIT_CODE

    def _on_sigterm(self, signum, frame) -> None:
        del signum, frame
        # The metadata thread delivers its notice as SIGTERM, with the reason set beforehand.
        reason = self._pending_reason
        self._record(reason or "SIGTERM", from_host=reason is not None)
        if self.exit_at_once:
            self._exit_now()

    def _record(self, reason: str, *, from_host: bool) -> None:
        if self.notice is None:
            self.notice = reason
            self.noticed_at = time.monotonic()
            self.host_going_away = from_host
            logging.warning(
                "Termination notice (%s): %s.",
                self.notice,
                "exiting now, nothing to save"
                if self.exit_at_once
                else "every worker saves a checkpoint after this host loop, then exits",
            )

    def _exit_now(self) -> None:
        code = process_exit_code(self.exit_code())
        logging.warning("Exiting with code %d: %s", code, rerun_advice(self))
        sys.exit(code)

    def _watch_gce(self) -> None:
        """Off GCP this ends after about `_GCE_DETECT_S` of failed requests (a GKE node's
        metadata server may not answer yet when a pod starts); on GCP it polls every `poll_s`,
        the first time at once: a notice still set from before exits before TensorFlow loads."""
        detect_until = time.monotonic() + _GCE_DETECT_S
        while not gce_metadata.on_gcp():
            if self._stopped.wait(self._poll_s) or time.monotonic() > detect_until:
                return
        logging.info(
            "Watching the GCE metadata server (%s) for preemption and maintenance notices.",
            gce_metadata.metadata_host(),
        )
        while not self._stopped.is_set():
            reason = gce_metadata.termination_notice()
            if reason and not self._stopped.is_set():
                self._pending_reason = reason
                if self.exit_at_once:
                    # Exiting must happen in the main thread: delivered as SIGTERM.
                    os.kill(os.getpid(), signal.SIGTERM)
                else:
                    # The flag is what SaveIfPreempted reads; no signal to lose to another
                    # handler.
                    self._record(reason, from_host=True)
                return
            self._stopped.wait(self._poll_s)


def rerun_advice(watcher: TerminationWatcher) -> str:
    """What to do after the exit: rerun here, or (this host going away) elsewhere."""
    if watcher.host_going_away:
        return (
            "this host is going away (its GCE notice stays set until the VM stops); rerun the "
            "same command on another host, on the same --workdir, to resume."
        )
    return "rerun the same command to resume."


def elapsed_since_notice(watcher: TerminationWatcher) -> float | None:
    return None if watcher.noticed_at is None else time.monotonic() - watcher.noticed_at


def as_peer_lost(error: Exception, cluster, last_checkpoint_step) -> PeerLost | None:
    """A one-line PeerLost naming the lost worker(s), if `error` means a peer vanished."""
    import tensorflow as tf

    # What a collective raises on the survivors when a peer dies: the coordination service stops
    # getting its heartbeats (about 10 s), or its connection resets (at once).
    peer_errors = (
        tf.errors.UnavailableError,
        tf.errors.DeadlineExceededError,
        tf.errors.AbortedError,
        tf.errors.CancelledError,
    )
    if cluster.num_workers < 2 or not isinstance(error, peer_errors):
        return None
    tasks = set(re.findall(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)", str(error)))
    tasks.discard((cluster.task_type, str(cluster.task_id)))
    lost = ", ".join(f"{job} {index}" for job, index in sorted(tasks)) or "another worker"
    return PeerLost(
        f"lost contact with {lost} ({type(error).__name__}: it stopped sending heartbeats or "
        f"its connection broke). Relaunch all workers with the same command: they resume from "
        f"the last checkpoint (step {last_checkpoint_step or 0})."
    )
