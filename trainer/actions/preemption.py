"""On SIGTERM, every worker saves a checkpoint after the same host loop and exits 42.

Orbit's `SaveCheckpointIfPreempted` in harness form: TensorFlow's PreemptionCheckpointHandler
(trainer/preemption.py) agrees on the host loop to save after across the workers; calling it
after every host loop, at the same point on every worker, lets it save and exit there.
"""

from trainer.actions import RunState


class SaveIfPreempted:
    def __init__(self, handler):
        self._handler = handler

    def __call__(self, state: RunState) -> None:
        del state
        self._handler.save_checkpoint_if_preempted()
