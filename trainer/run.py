"""One experiment from config to results: data, model, resume, host loops, eval, export."""

import time

import tensorflow as tf
from absl import logging

from strategies import cluster_info, resolve_precision
from strategies.factory import StrategyChoice
from trainer.build import build_compiled_model
from trainer.checkpoints import Checkpointer
from trainer.data import create_source, make_dataset_fn
from trainer.errors import HarnessError, TrainingDiverged
from trainer.export import export_model
from trainer.keras_api import keras
from trainer.loop import HostLoop, is_finite
from trainer.progress import Progress
from trainer.summaries import Summaries
from trainer.workdir import Workdir


def run_experiment(config, *, choice: StrategyChoice, workdir: str, config_name: str) -> dict:
    """Trains to `config.train.steps` (resuming from the workdir), evaluates, exports.

    Returns the results that are also written to WORKDIR/results.json.
    """
    strategy = choice.strategy
    try:
        cluster = cluster_info()
    except ValueError as e:
        raise HarnessError(str(e)) from e
    workdir = Workdir(workdir, is_chief=cluster.is_chief)
    try:
        workdir.ensure_writable()
        _check_config(config, strategy.num_replicas_in_sync)
        try:
            policy = resolve_precision(config.precision, strategy)
        except ValueError as e:
            raise HarnessError(str(e)) from e
        keras.mixed_precision.set_global_policy(policy)
        keras.utils.set_random_seed(config.seed)

        source = create_source(config.data, seed=config.seed)
        model = build_compiled_model(config, strategy, source)
        checkpointer = Checkpointer(
            workdir=workdir, model=model, max_to_keep=config.checkpoint.max_to_keep
        )
        start_step = checkpointer.restore_latest()
        if start_step > config.train.steps:
            raise HarnessError(
                f"The workdir's checkpoint is at step {start_step}, past "
                f"config.train.steps={config.train.steps}: raise it or use a new --workdir."
            )
        workdir.write_json("config.json", config.to_dict())
        logging.info(
            "Workdir %s; precision %s; %d replica(s); start at step %d of %d.",
            workdir.root,
            policy,
            strategy.num_replicas_in_sync,
            start_step,
            config.train.steps,
        )

        def distributed(split, training, global_batch_size, max_steps=0):
            fn = make_dataset_fn(
                source,
                split,
                global_batch_size=global_batch_size,
                training=training,
                seed=config.seed + start_step,
                shuffle_buffer=config.data.shuffle_buffer,
                cache=config.data.cache,
                max_steps=max_steps,
            )
            return strategy.distribute_datasets_from_function(fn)

        loop = HostLoop(strategy=strategy, model=model, jit_compile=config.train.jit_compile)
        summaries = Summaries(workdir)
        evaluate_split = {
            split: (
                lambda split=split: loop.evaluate(
                    distributed(split, False, config.eval.global_batch_size, config.eval.steps)
                )
            )
            for split in ("validation", "test")
        }
        progress, train_results, validation = _train(
            config,
            model,
            loop,
            iter(distributed("train", True, config.train.global_batch_size)),
            start_step,
            checkpointer,
            summaries,
            evaluate_split["validation"],
        )

        step = int(model.optimizer.iterations.numpy())
        if checkpointer.last_saved_step != step:
            checkpointer.save()
        if validation is None or validation[0] != step:
            validation = (step, evaluate_split["validation"]())
            summaries.write("eval", step, validation[1])
        test = evaluate_split["test"]()
        summaries.write("test", step, test)
        logging.info(
            "Final at step %d: validation %s; test %s", step, _fmt(validation[1]), _fmt(test)
        )
        exported = export_model(
            model, workdir, keras_file=config.export.keras, saved_model=config.export.saved_model
        )
        summaries.close()
        results = {
            "config": config_name,
            "step": step,
            "strategy": choice.name,
            "strategy_reason": choice.reason,
            "replicas": strategy.num_replicas_in_sync,
            "workers": cluster.num_workers,
            "precision": policy,
            "global_batch_size": config.train.global_batch_size,
            "steps_this_run": step - start_step,
            "examples_per_sec": progress.examples_per_sec,
            "time_to_first_loop_s": progress.first_loop_seconds,
            "wall_time_s": progress.elapsed,
            "train": train_results,
            "validation": validation[1],
            "test": test,
            "export": exported,
        }
        workdir.write_json("results.json", results)
        return results
    finally:
        workdir.close()


def _train(config, model, loop, iterator, start_step, checkpointer, summaries, evaluate):
    """Host loops up to train.steps, with evaluation and checkpoints at their intervals."""
    progress = Progress(
        start_step=start_step,
        total_steps=config.train.steps,
        global_batch_size=config.train.global_batch_size,
    )
    step, train_results, validation = start_step, {}, None
    while step < config.train.steps:
        stop = _next_stop(step, config)
        began = time.perf_counter()
        results = loop.train(iterator, stop - step)
        seconds = time.perf_counter() - began
        if not is_finite(results):
            raise TrainingDiverged(
                f"Training loss became {results.get('loss')} in steps {step + 1}..{stop}; "
                f"stopped without saving. The last good checkpoint (step "
                f"{checkpointer.last_saved_step or 'none'}) in {checkpointer.directory} is "
                "intact: lower config.train.learning_rate and rerun to resume from it."
            )
        examples_per_sec = progress.loop_done(step=stop, steps=stop - step, seconds=seconds)
        step, train_results = stop, results
        logging.info(
            "%s", progress.line(step=step, metrics=results, examples_per_sec=examples_per_sec)
        )
        summaries.write(
            "train",
            step,
            {
                **results,
                "examples_per_sec": examples_per_sec,
                "learning_rate": _learning_rate(model),
            },
        )
        if _due(step, config.eval.every_steps) and step < config.train.steps:
            validation = (step, evaluate())
            logging.info("validation at step %d: %s", step, _fmt(validation[1]))
            summaries.write("eval", step, validation[1])
        if _due(step, config.checkpoint.every_steps):
            checkpointer.save()
    return progress, train_results, validation


def _next_stop(step: int, config) -> int:
    stops = [config.train.steps, step + config.train.steps_per_loop]
    for every in (config.eval.every_steps, config.checkpoint.every_steps):
        if every > 0:
            stops.append((step // every + 1) * every)
    return min(stops)


def _due(step: int, every: int) -> bool:
    return every > 0 and step % every == 0


def _learning_rate(model) -> float:
    return float(tf.convert_to_tensor(model.optimizer.learning_rate).numpy())


def _fmt(results: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.4f}" for name, value in results.items())


def _check_config(config, replicas: int) -> None:
    for field in ("train.global_batch_size", "eval.global_batch_size"):
        section, name = field.split(".")
        batch = config[section][name]
        if batch < 1 or batch % replicas:
            raise HarnessError(
                f"config.{field}={batch} does not divide by the {replicas} replicas in sync: "
                f"use a positive multiple of {replicas}, "
                f"such as {max(batch - batch % replicas, replicas)}."
            )
    at_least_one = ("train.steps", "train.steps_per_loop", "checkpoint.max_to_keep")
    zero_or_more = ("eval.every_steps", "eval.steps", "checkpoint.every_steps")
    for field in at_least_one + zero_or_more:
        section, name = field.split(".")
        value, least = config[section][name], 1 if field in at_least_one else 0
        if value < least:
            meaning = "at least 1" if least else "0 (off, or all) or positive"
            raise HarnessError(f"config.{field}={value} must be {meaning}.")
