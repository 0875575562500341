"""One training run, from config to results: build, resume, train with actions, evaluate, export.

    results = run_experiment(config, choice=choice, workdir="/tmp/run", config_name="digits_mlp")

Writes WORKDIR/config.json, checkpoints, TensorBoard summaries, the exports and
WORKDIR/results.json (the chief; other workers write to scratch), and returns the results.
"""

import json
import re

import tensorflow as tf
from absl import logging

from strategies import cluster_info
from strategies.factory import StrategyChoice
from trainer.actions.checkpoint import SaveCheckpoint
from trainer.actions.evaluation import Evaluate
from trainer.actions.preemption import SaveIfPreempted
from trainer.actions.profiler import PROFILE, Profile, parse_window
from trainer.actions.progress import Progress
from trainer.actions.recipes import recipe_actions
from trainer.actions.summaries import WriteTrainSummaries
from trainer.actions.user import user_actions
from trainer.cli.formatting import format_metrics
from trainer.cloud.preemption import TerminationWatcher, as_peer_lost
from trainer.errors import HarnessError
from trainer.loop.controller import Controller, Scheduled
from trainer.loop.host_loop import scalar_results
from trainer.run.experiment import Experiment, build_experiment
from trainer.workdir.directory import CONFIG_FILE, EXPORT, RESULTS_FILE, SUMMARIES, Workdir
from trainer.workdir.export import CLASS_NAMES_FILE, export_model
from trainer.workdir.summaries import Summaries


def run_experiment(
    config,
    *,
    choice: StrategyChoice,
    workdir: str,
    config_name: str,
    progress: str = "line",
    watcher: TerminationWatcher | None = None,
) -> dict:
    """Trains to `config.train.steps` (resuming from the workdir), evaluates, exports.

    `watcher`: started by the caller to cover its own start-up (trainer.main), else here."""
    try:
        cluster = cluster_info()
    except ValueError as e:
        raise HarnessError(str(e)) from e
    workdir = Workdir(workdir, is_chief=cluster.is_chief)
    experiment = None
    own_watcher = watcher is None
    # Made after the strategy, so SIGTERM is ours (trainer.main takes it back for its own).
    watcher = watcher or TerminationWatcher().start()  # Exits at once until training starts.
    try:
        workdir.ensure_writable(storage_wait_s=config.checkpoint.storage_wait_s)
        experiment = build_experiment(config, strategy=choice.strategy, workdir=workdir)
        results = _train_evaluate_export(experiment, choice, workdir, progress, watcher)
        results.update(config=config_name, workers=cluster.num_workers)
        workdir.write_json(RESULTS_FILE, results)
        if workdir.is_chief:
            _draw_learning_curves(workdir.root)
        return results
    except tf.errors.DataLossError as e:
        raise _data_loss(_source_of(experiment, e), e) from e
    except tf.errors.InvalidArgumentError as e:
        undecodable = _undecodable_file(_source_of(experiment, e), e)
        if undecodable is None:
            raise
        raise undecodable from e
    except tf.errors.OpError as e:
        saved = experiment and experiment.checkpointer.last_saved_step
        lost = as_peer_lost(e, cluster, saved)
        if lost is None:
            raise
        raise lost from e
    finally:
        if own_watcher:
            watcher.stop()
        workdir.close()


def _train_evaluate_export(
    experiment: Experiment, choice, workdir: Workdir, progress: str, watcher: TerminationWatcher
):
    config, checkpointer = experiment.config, experiment.checkpointer

    sample_features = experiment.source.sample_batch(batch_size=8)[0]

    def export(directory: str, check_on=None) -> dict:
        return export_model(
            experiment.model,
            workdir,
            keras_file=config.export.keras,
            saved_model=config.export.saved_model,
            check_on=check_on,
            directory=directory,
            class_names=experiment.source.class_names,
            serving_sample=sample_features,
        )

    # Built first: their settings are checked before anything is restored or written.
    recipe = recipe_actions(
        config,
        experiment=experiment,
        workdir=workdir,
        metrics=scalar_results(experiment.model.get_metrics_result()),
        export=export,
    )
    window = parse_window(config.train.profile_steps, total_steps=config.train.steps)
    # Checks that the checkpoint fits this model (a one-line error otherwise).
    start_step = checkpointer.restore_latest()
    _check_class_names(workdir, experiment.source.class_names, start_step)
    if start_step > config.train.steps:
        raise HarnessError(
            f"The workdir's checkpoint is at step {start_step}, past "
            f"config.train.steps={config.train.steps}: raise it or use a new --workdir."
        )
    if config.recovery.max_rollbacks > 0 and checkpointer.last_saved_step is None:
        checkpointer.save()  # The first rollback needs a checkpoint to go back to.
    workdir.write_json(CONFIG_FILE, config.to_dict())
    logging.info(
        "Workdir %s; precision %s; XLA %s (%s); %d replica(s); start at step %d of %d.",
        workdir.root,
        experiment.precision,
        "on" if experiment.loop.choice.enabled else "off",
        experiment.loop.choice.reason,
        choice.strategy.num_replicas_in_sync,
        start_step,
        config.train.steps,
    )
    summaries = Summaries(workdir)

    def evaluate(split: str) -> dict[str, float]:
        results = experiment.evaluate(split)
        summaries.write(SUMMARIES[split], experiment.step(), results)
        logging.info("%s at step %d: %s", split, experiment.step(), format_metrics(results))
        return results

    reporter = Progress(
        start_step=start_step,
        total_steps=config.train.steps,
        global_batch_size=config.train.global_batch_size,
        mode=progress,
        learning_rate=experiment.learning_rate,
    )

    total_steps, stop_reason = config.train.steps, None
    if recipe.early_stopping and recipe.early_stopping.stopped_before(start_step):
        stop_reason = f"early stopping, at step {start_step} in an earlier run"
        logging.info("%s: not training on.", stop_reason.capitalize())
        total_steps = start_step
    profiler = window and Profile(
        window=window,
        logdir=workdir.path(PROFILE),
        is_chief=workdir.is_chief,
        start_step=start_step,
    )
    iterator = experiment.train_iterator(start_step)
    controller = Controller(
        train=lambda steps: experiment.loop.train(iterator, steps),
        start_step=start_step,
        total_steps=total_steps,
        steps_per_loop=config.train.steps_per_loop,
        global_batch_size=config.train.global_batch_size,
        # In this order: nothing is saved after a divergence; the actions that watch validation
        # metrics, then user actions, see the validation results of their step; a checkpoint
        # holds what the actions saw.
        actions=[
            Scheduled(recipe.recovery, name="recovery"),
            Scheduled(reporter, name="progress"),
            Scheduled(WriteTrainSummaries(summaries, experiment.learning_rate), name="tb"),
            # Before evaluations: the grace period is short, and the resumed run evaluates on.
            Scheduled(
                SaveIfPreempted(watcher, checkpointer, agree=experiment.loop.any_worker),
                name="preemption",
            ),
            *_every(config.eval.every_steps, Evaluate(evaluate), "evaluation"),
            *recipe.on_validation(),
            *user_actions(config.actions, workdir=workdir.root, is_chief=workdir.is_chief),
            *_every(config.checkpoint.every_steps, SaveCheckpoint(checkpointer), "checkpoint"),
            *([Scheduled(profiler, name="profile", stops=window)] if profiler else []),
        ],
        agree=experiment.loop.any_worker,
    )
    watcher.set_exit_at_once(False)  # From here on a notice saves first (SaveIfPreempted).
    last = controller.run()
    step = experiment.step()
    if profiler:
        profiler.stop(step)  # A run that stopped inside the window.
    if last is not None and last.stop_reason:
        stop_reason = last.stop_reason
        logging.info("Stopped at step %d of %d: %s", step, config.train.steps, stop_reason)
    if checkpointer.last_saved_step != step:
        checkpointer.save()
    # Everything trained is saved: a notice now exits at once; the rerun evaluates and exports.
    watcher.set_exit_at_once(True)
    latest = last.latest_validation if last else None
    validation = latest[1] if latest and latest[0] == step else evaluate("validation")
    test = evaluate("test")
    with experiment.averaged_weights.swapped_in():  # Under EMA, the model serves the average.
        exported = export(EXPORT, check_on=sample_features)
    summaries.close()
    return {
        "step": step,
        "stop_reason": stop_reason,
        "strategy": choice.name,
        "strategy_reason": choice.reason,
        "replicas": choice.strategy.num_replicas_in_sync,
        "precision": experiment.precision,
        "jit_compile": experiment.loop.choice.as_results(),
        "global_batch_size": config.train.global_batch_size,
        "steps_this_run": step - start_step,
        "examples_per_sec": reporter.examples_per_sec,
        "time_to_first_loop_s": reporter.first_loop_seconds,
        "wall_time_s": reporter.elapsed,
        "train": last.train if last else {},
        "validation": validation,
        "test": test,
        "export": exported,
        "ema": experiment.averaged_weights.enabled,
        "class_names": list(experiment.source.class_names or []) or None,
        "profile": (
            {"steps": list(profiler.profiled), "dir": workdir.path(PROFILE)}
            if profiler and profiler.profiled
            else None
        ),
        "learning_rate": experiment.learning_rate(),
        "learning_rate_scale": experiment.training_state.scale,
        **recipe.results(),
    }


def _check_class_names(workdir: Workdir, class_names, start_step: int) -> None:
    """The classes the checkpoints were trained on (WORKDIR/class_names.json, written at the
    first start) must be the data's classes now: a class folder added, renamed or reordered
    would otherwise shift the labels under a restored head."""
    if not class_names:
        return
    path = workdir.path(CLASS_NAMES_FILE)
    if start_step > 0 and tf.io.gfile.exists(path):
        with tf.io.gfile.GFile(path) as f:
            trained = json.load(f)
        if trained != list(class_names):
            raise HarnessError(
                f"The checkpoints in {workdir.root} were trained on classes {trained[:10]}, but "
                f"the data now has {list(class_names)[:10]}: use a new --workdir (or the data "
                "with the classes it was trained on)."
            )
        return
    workdir.write_json(CLASS_NAMES_FILE, list(class_names))


def _every(every_steps: int, action, name: str) -> list[Scheduled]:
    """The action at its interval; none when the interval is 0 (off)."""
    return [Scheduled(action, every_steps, name)] if every_steps > 0 else []


def _source_of(experiment, error):
    """The run's data source, also when building the experiment failed (it rides on the error)."""
    return experiment.source if experiment else getattr(error, "data_source", None)


_DECODING = ("image", "decode", "png", "jpeg", "gif", "bmp")  # In a failed decode's message.


def _undecodable_file(source, error) -> HarnessError | None:
    """A one-line error naming the file a decode failed on, where the source can find it."""
    find = getattr(source, "find_corrupt_file", None)
    if find is None or not any(word in str(error).lower() for word in _DECODING):
        return None
    path = find()
    if path is None:
        return None
    reason = re.search(
        r"Unknown image file format|Invalid \w+ data[^.\]]*|[^.:]*corrupt[^.]*", str(error)
    )
    why = reason.group(0).strip() if reason else "the decoder refused it"
    return HarnessError(
        f"Reading the data failed: {path} does not decode ({why[:120]}). Remove or replace the "
        "file; checkpoints so far are intact."
    )


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
    from trainer.workdir import curves as report  # matplotlib loads only here.

    try:
        logging.info("Learning curves: %s", report.draw_run(workdir))
    except (HarnessError, OSError, ValueError, tf.errors.OpError) as e:
        logging.warning("Could not draw the learning curves: %s", e)
