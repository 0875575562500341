"""One run assembled from the config, read top-down as a story (training.py first).

    training.py    run_experiment: build, resume, train with actions, evaluate, export, results
    experiment.py  the pieces of a run in the order tf.distribute needs them
    model.py       the compiled model from config: builder, loss, optimizer, checks, variables
    transfer.py    weights from another model's .keras file, and frozen layers
    schedule.py    the actions of a run, in order, each with the reason for its place
    results.py     results.json, assembled in one place
    failures.py    TensorFlow's errors translated into one line that names the cause
    evaluator.py   the evaluator task: evaluates each new checkpoint while workers train

May import every layer below it.
"""

from trainer.run.training import run_experiment

__all__ = ["run_experiment"]
