"""The evaluator task: evaluates each new checkpoint in the workdir while the workers train.

A TF_CONFIG task of type `evaluator` runs this instead of training. It is outside the training
cluster (no collectives with the workers), builds the same experiment as the workers
(trainer/run/experiment.py), reads the chief's checkpoints as they appear, and is the only writer of
WORKDIR/evaluator/ (TensorBoard scalars and results.json). It stops after the checkpoint of the
last step, or after `eval.evaluator_timeout_s` without a new checkpoint.
"""

import tensorflow as tf
from absl import logging

from strategies.factory import StrategyChoice
from trainer.cli.formatting import format_metrics
from trainer.errors import HarnessError
from trainer.run.experiment import build_experiment
from trainer.workdir.directory import CHECKPOINTS, EVALUATOR, RESULTS_FILE, SUMMARIES, Workdir
from trainer.workdir.summaries import Summaries


def evaluate_checkpoints(config, *, strategy_choice: StrategyChoice, workdir: str) -> dict:
    workdir = Workdir(workdir, is_chief=True)  # The evaluator owns WORKDIR/evaluator/.
    # The same check as training's: a missing bucket or an identity without access stops it
    # now in one line, storage that does not answer exits 75 (retried), as for the workers.
    workdir.ensure_writable(storage_wait_s=config.checkpoint.storage_wait_s)
    experiment = build_experiment(
        config, strategy=strategy_choice.strategy, workdir=workdir, jit_compile=False
    )
    summaries = Summaries(workdir, root=workdir.path(EVALUATOR))
    history = {}
    logging.info("Evaluator: waiting for checkpoints in %s.", workdir.path(CHECKPOINTS))
    for path in tf.train.checkpoints_iterator(
        workdir.path(CHECKPOINTS), min_interval_secs=1, timeout=config.eval.evaluator_timeout_s
    ):
        try:
            experiment.checkpointer.read(path)
        except (tf.errors.NotFoundError, tf.errors.DataLossError) as e:
            logging.warning("Skipping %s, deleted or replaced while being read: %s", path, e)
            continue
        step = experiment.step()
        results = experiment.evaluate("validation")
        history[step] = results
        summaries.write(SUMMARIES["validation"], step, results)
        logging.info("Evaluator: validation at step %d: %s", step, format_metrics(results))
        if step >= config.train.steps:
            break
    summaries.close()
    if not history:
        raise HarnessError(
            f"The evaluator saw no checkpoint in {workdir.path(CHECKPOINTS)} within "
            f"{config.eval.evaluator_timeout_s} s: start the workers with the same --workdir."
        )
    final_step = max(history)
    results = {"steps": sorted(history), "step": final_step, "validation": history[final_step]}
    workdir.write_json(f"{EVALUATOR}/{RESULTS_FILE}", results)
    return results
