"""TensorBoard scalars of each host loop under WORKDIR/train: loss, metrics, speed, and rate.

`learning_rate` at step s is the optimizer's `learning_rate` after that step: the schedule at its
step counter, the rate of the next step (what Keras's own TensorBoard callback logs).
"""

from trainer.loop.controller import RunState


class WriteTrainSummaries:
    def __init__(self, summaries, learning_rate):
        self._summaries = summaries
        self._learning_rate = learning_rate  # () -> the optimizer's current learning rate.

    def __call__(self, state: RunState) -> None:
        self._summaries.write(
            "train",
            state.step,
            {
                **state.train,
                "examples_per_sec": state.examples_per_sec,
                "learning_rate": self._learning_rate(),
            },
        )
