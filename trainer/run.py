"""One experiment from config to results: data, model, resume, host loops, eval, export."""

import re
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
from trainer.preemption import as_peer_lost, create_preemption_handler
from trainer.progress import Progress
from trainer.summaries import Summaries
from trainer.workdir import Workdir


def run_experiment(
    config, *, choice: StrategyChoice, workdir: str, config_name: str, progress: str = "line"
) -> dict:
    """Trains to `config.train.steps` (resuming from the workdir), evaluates, exports.

    Returns the results that are also written to WORKDIR/results.json.
    """
    try:
        cluster = cluster_info()
    except ValueError as e:
        raise HarnessError(str(e)) from e
    workdir = Workdir(workdir, is_chief=cluster.is_chief)
    try:
        workdir.ensure_writable()
        experiment = Experiment(config, choice=choice, workdir=workdir, progress=progress)
        try:
            results = experiment.run()
        except tf.errors.DataLossError as e:
            raise _data_loss(experiment.source, e) from e
        except tf.errors.OpError as e:
            lost = as_peer_lost(e, cluster, experiment.checkpointer.last_saved_step)
            if lost is None:
                raise
            raise lost from e
        results.update(config=config_name, workers=cluster.num_workers)
        workdir.write_json("results.json", results)
        if workdir.is_chief:
            _draw_learning_curves(workdir.root)
        return results
    finally:
        workdir.close()


class Experiment:
    """The pieces of one run, built in the order tf.distribute needs them."""

    def __init__(self, config, *, choice: StrategyChoice, workdir: Workdir, progress: str):
        self.config, self.choice, self.workdir = config, choice, workdir
        strategy = choice.strategy
        _check_config(config, strategy.num_replicas_in_sync)
        _check_jit_devices(config, strategy)
        try:
            self.policy = resolve_precision(
                config.precision, strategy, jit_compile=config.train.jit_compile
            )
        except ValueError as e:
            raise HarnessError(str(e)) from e
        keras.mixed_precision.set_global_policy(self.policy)
        keras.utils.set_random_seed(config.seed)

        self.source = create_source(config.data, seed=config.seed)
        self.model = build_compiled_model(config, strategy, self.source)
        self.checkpointer = Checkpointer(
            workdir=workdir, model=self.model, max_to_keep=config.checkpoint.max_to_keep
        )
        # The handler restores the latest checkpoint as it starts; the Checkpointer restores
        # after it, checking that the checkpoint fits and keeping the configured learning rate.
        self.preemption = create_preemption_handler(strategy, self.checkpointer)
        self.start_step = self.checkpointer.restore_latest()
        if self.start_step > config.train.steps:
            raise HarnessError(
                f"The workdir's checkpoint is at step {self.start_step}, past "
                f"config.train.steps={config.train.steps}: raise it or use a new --workdir."
            )
        self.loop = HostLoop(
            strategy=strategy,
            model=self.model,
            jit_compile=config.train.jit_compile,
            jit_steps=config.train.jit_steps,
        )
        self.summaries = Summaries(workdir)
        self._eval_datasets = {}
        self.progress = Progress(
            start_step=self.start_step,
            total_steps=config.train.steps,
            global_batch_size=config.train.global_batch_size,
            mode=progress,
        )

    def run(self) -> dict:
        config = self.config
        self.workdir.write_json("config.json", config.to_dict())
        logging.info(
            "Workdir %s; precision %s; %d replica(s); start at step %d of %d.",
            self.workdir.root,
            self.policy,
            self.choice.strategy.num_replicas_in_sync,
            self.start_step,
            config.train.steps,
        )
        train_results, validation = self._train()

        step = self._step()
        if self.checkpointer.last_saved_step != step:
            self.checkpointer.save()
        if validation is None or validation[0] != step:
            validation = (step, self._evaluate("validation"))
        test = self._evaluate("test")
        logging.info(
            "Final at step %d: validation %s; test %s", step, _fmt(validation[1]), _fmt(test)
        )
        exported = export_model(
            self.model,
            self.workdir,
            keras_file=config.export.keras,
            saved_model=config.export.saved_model,
            check_on=self.source.sample_batch(batch_size=8)[0],
        )
        self.summaries.close()
        return {
            "step": step,
            "strategy": self.choice.name,
            "strategy_reason": self.choice.reason,
            "replicas": self.choice.strategy.num_replicas_in_sync,
            "precision": self.policy,
            "global_batch_size": config.train.global_batch_size,
            "steps_this_run": step - self.start_step,
            "examples_per_sec": self.progress.examples_per_sec,
            "time_to_first_loop_s": self.progress.first_loop_seconds,
            "wall_time_s": self.progress.elapsed,
            "train": train_results,
            "validation": validation[1],
            "test": test,
            "export": exported,
        }

    def _train(self):
        """Host loops up to train.steps, with evaluation and checkpoints at their intervals."""
        config = self.config
        iterator = iter(self._dataset("train"))
        step, train_results, validation = self.start_step, {}, None
        while step < config.train.steps:
            stop = _next_stop(step, config)
            began = time.perf_counter()
            results = self._train_steps(iterator, stop - step)
            seconds = time.perf_counter() - began
            if not is_finite(results):
                raise TrainingDiverged(
                    f"Training loss became {results.get('loss')} in steps {step + 1}..{stop}; "
                    "stopped without saving. The last good checkpoint (step "
                    f"{self.checkpointer.last_saved_step or 'none'}) in "
                    f"{self.checkpointer.directory} is intact: lower "
                    "config.train.learning_rate and rerun to resume from it."
                )
            examples_per_sec = self.progress.loop_done(steps=stop - step, seconds=seconds)
            step, train_results = stop, results
            self.progress.report(step=step, metrics=results, examples_per_sec=examples_per_sec)
            self.summaries.write(
                "train",
                step,
                {
                    **results,
                    "examples_per_sec": examples_per_sec,
                    "learning_rate": self._learning_rate(),
                },
            )
            if _due(step, config.eval.every_steps) and step < config.train.steps:
                validation = (step, self._evaluate("validation"))
            if _due(step, config.checkpoint.every_steps):
                self.checkpointer.save()
        return train_results, validation

    def _train_steps(self, iterator, steps: int) -> dict[str, float]:
        if self.preemption is None:
            return self.loop.train(iterator, steps)
        return self.preemption.run(self.loop.train, iterator, steps)

    def _evaluate(self, split: str) -> dict[str, float]:
        # One distributed dataset per split for the whole run: each evaluation iterates it anew,
        # without tracing the evaluation loop again or refilling its cache.
        if split not in self._eval_datasets:
            self._eval_datasets[split] = self._dataset(split)
        results = self.loop.evaluate(self._eval_datasets[split])
        step = self._step()
        self.summaries.write("eval" if split == "validation" else split, step, results)
        logging.info("%s at step %d: %s", split, step, _fmt(results))
        return results

    def _dataset(self, split: str):
        training = split == "train"
        batch = (self.config.train if training else self.config.eval).global_batch_size
        dataset_fn = make_dataset_fn(
            self.source,
            split,
            global_batch_size=batch,
            training=training,
            # A resumed run reshuffles from where it resumed, the same on every worker.
            seed=self.config.seed + self.start_step,
            shuffle_buffer=self.config.data.shuffle_buffer,
            cache=self.config.data.cache,
            max_steps=0 if training else self.config.eval.steps,
        )
        return self.choice.strategy.distribute_datasets_from_function(dataset_fn)

    def _step(self) -> int:
        return int(self.model.optimizer.iterations.numpy())

    def _learning_rate(self) -> float:
        return float(tf.convert_to_tensor(self.model.optimizer.learning_rate).numpy())


def _data_loss(source, error) -> HarnessError:
    """Names the corrupt file where the source can find it (the error itself does not)."""
    find = getattr(source, "find_corrupt_file", None)
    path = find() if find else None
    where = f"{path} is corrupt" if path else "a data file is corrupt"
    detail = re.search(r"corrupted record at \d+", str(error))
    return HarnessError(
        f"Reading the data failed: {where} ({detail.group(0) if detail else 'DataLossError'}). "
        "Prepare the data again; checkpoints so far are intact."
    )


def _draw_learning_curves(workdir: str) -> None:
    """WORKDIR/learning_curves.png; a picture that cannot be drawn does not fail the run."""
    from trainer import report  # matplotlib loads only here.

    try:
        logging.info("Learning curves: %s", report.draw_run(workdir))
    except (HarnessError, OSError, ValueError, tf.errors.OpError) as e:
        logging.warning("Could not draw the learning curves: %s", e)


def _next_stop(step: int, config) -> int:
    """The end of the next host loop: a full loop, or the next eval / checkpoint / last step."""
    stops = [config.train.steps, step + config.train.steps_per_loop]
    for every in (config.eval.every_steps, config.checkpoint.every_steps):
        if every > 0:
            stops.append((step // every + 1) * every)
    return min(stops)


def _due(step: int, every: int) -> bool:
    return every > 0 and step % every == 0


def _fmt(results: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.4f}" for name, value in results.items())


def _check_jit_devices(config, strategy) -> None:
    """XLA cannot run one replica per logical CPU device (it reads every variable from CPU:0)."""
    if not config.train.jit_compile:
        return
    try:
        devices = strategy.extended.worker_devices
    except RuntimeError:  # The default strategy: one device.
        return
    if len(devices) > 1 and all("CPU" in d for d in devices):
        raise HarnessError(
            f"config.train.jit_compile=True cannot run on {len(devices)} logical CPU devices "
            "(XLA looks for every variable on CPU:0): train on one CPU device (no "
            "--num_cpu_devices) or on GPUs/TPUs, or set config.train.jit_compile=False."
        )


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
    at_least_one = (
        "train.steps",
        "train.steps_per_loop",
        "train.jit_steps",
        "checkpoint.max_to_keep",
    )
    zero_or_more = ("eval.every_steps", "eval.steps", "checkpoint.every_steps")
    for field in at_least_one + zero_or_more:
        section, name = field.split(".")
        value, least = config[section][name], 1 if field in at_least_one else 0
        if value < least:
            meaning = "at least 1" if least else "0 (off, or all) or positive"
            raise HarnessError(f"config.{field}={value} must be {meaning}.")
