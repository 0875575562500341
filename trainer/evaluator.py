"""The evaluator task: evaluates each new checkpoint in the workdir while the workers train.

A TF_CONFIG task of type `evaluator` runs this instead of training. It is outside the training
cluster (no collectives with the workers), reads the chief's checkpoints as they appear, and is
the only writer of WORKDIR/evaluator/ (TensorBoard scalars and results.json). It stops after the
checkpoint of the last step, or after `eval.evaluator_timeout_s` without a new checkpoint.
"""

import tensorflow as tf
from absl import logging

from strategies.factory import StrategyChoice
from trainer.build import build_compiled_model
from trainer.data import create_source, make_dataset_fn
from trainer.errors import HarnessError
from trainer.keras_api import keras
from trainer.loop import HostLoop
from trainer.summaries import Summaries
from trainer.workdir import Workdir

_SUBDIR = "evaluator"


def evaluate_checkpoints(config, *, choice: StrategyChoice, workdir: str) -> dict:
    strategy = choice.strategy
    keras.utils.set_random_seed(config.seed)
    source = create_source(config.data, seed=config.seed)
    model = build_compiled_model(config, strategy, source)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    loop = HostLoop(strategy=strategy, model=model, jit_compile=False)
    workdir = Workdir(workdir, is_chief=True)  # The evaluator owns WORKDIR/evaluator/.
    summaries = Summaries(workdir, root=workdir.path(_SUBDIR))
    validation = strategy.distribute_datasets_from_function(
        make_dataset_fn(
            source,
            "validation",
            global_batch_size=config.eval.global_batch_size,
            training=False,
            seed=config.seed,
            max_steps=config.eval.steps,
        )
    )
    history = {}
    logging.info("Evaluator: waiting for checkpoints in %s.", workdir.path("checkpoints"))
    for path in tf.train.checkpoints_iterator(
        workdir.path("checkpoints"), min_interval_secs=1, timeout=config.eval.evaluator_timeout_s
    ):
        try:
            checkpoint.read(path).expect_partial()
        except (tf.errors.NotFoundError, tf.errors.DataLossError) as e:
            logging.warning("Skipping %s, deleted or replaced while being read: %s", path, e)
            continue
        step = int(model.optimizer.iterations.numpy())
        results = loop.evaluate(validation)
        history[step] = results
        summaries.write("eval", step, results)
        logging.info(
            "Evaluator: validation at step %d: %s",
            step,
            ", ".join(f"{k} {v:.4f}" for k, v in results.items()),
        )
        if step >= config.train.steps:
            break
    summaries.close()
    if not history:
        raise HarnessError(
            f"The evaluator saw no checkpoint in {workdir.path('checkpoints')} within "
            f"{config.eval.evaluator_timeout_s} s: start the workers with the same --workdir."
        )
    final_step = max(history)
    results = {"steps": sorted(history), "step": final_step, "validation": history[final_step]}
    workdir.write_json(f"{_SUBDIR}/results.json", results)
    return results
