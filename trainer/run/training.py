"""One training run, from config to results: build, resume, train with actions, evaluate, export.

    results = run_experiment(
        config, strategy_choice=choice, workdir="/tmp/run", config_name="digits_mlp"
    )

Writes WORKDIR/config.json, checkpoints, TensorBoard summaries, the exports and
WORKDIR/results.json (the chief; other workers write to scratch), and returns the results.
"""

import functools

import tensorflow as tf
from absl import logging

from strategies import cluster_info
from strategies.factory import StrategyChoice
from trainer.actions.profiler import PROFILE, Profile, parse_window
from trainer.actions.progress import Progress
from trainer.actions.recipes import recipe_actions
from trainer.actions.user import user_actions
from trainer.cli.formatting import format_metrics
from trainer.cloud.preemption import TerminationWatcher
from trainer.errors import HarnessError
from trainer.loop.controller import Controller, RunState, Scheduled
from trainer.loop.host_loop import scalar_results
from trainer.run import failures, results, schedule
from trainer.run.experiment import Experiment, build_experiment
from trainer.workdir.checkpoints import CheckpointMismatch
from trainer.workdir.class_names import check_class_names
from trainer.workdir.config_changes import mismatch_message
from trainer.workdir.directory import CONFIG_FILE, EXPORT, RESULTS_FILE, SUMMARIES, Workdir
from trainer.workdir.export import export_model
from trainer.workdir.summaries import Summaries


def run_experiment(
    config,
    *,
    strategy_choice: StrategyChoice,
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
        experiment = build_experiment(config, strategy=strategy_choice.strategy, workdir=workdir)
        run = _train_evaluate_export(experiment, workdir, progress, watcher)
        summary = results.collect(
            config_name=config_name,
            workers=cluster.num_workers,
            strategy_choice=strategy_choice,
            experiment=experiment,
            workdir=workdir,
            **run,
        )
        workdir.write_json(RESULTS_FILE, summary)
        if workdir.is_chief:
            _draw_learning_curves(workdir.root)
        return summary
    except tf.errors.OpError as e:
        explained = failures.explain(e, experiment=experiment, cluster=cluster)
        if explained is None:
            raise
        raise explained from e
    finally:
        if own_watcher:
            watcher.stop()
        workdir.close()


def _train_evaluate_export(
    experiment: Experiment, workdir: Workdir, progress: str, watcher: TerminationWatcher
) -> dict:
    """The run once its pieces exist; returns what results.collect needs of it."""
    config = experiment.config
    sample_features = experiment.source.sample_batch(batch_size=8)[0]
    export = functools.partial(_export, experiment, workdir, serving_sample=sample_features)
    # Built first: their settings are checked before anything is restored or written.
    recipe = recipe_actions(
        config,
        experiment=experiment,
        workdir=workdir,
        metrics=scalar_results(experiment.model.get_metrics_result()),
        export=export,
    )
    user = _user_actions(config, workdir)
    window = parse_window(config.train.profile_steps, total_steps=config.train.steps)
    start_step = _resume(experiment, workdir)
    summaries = Summaries(workdir, storage=experiment.checkpointer.storage)
    evaluate = functools.partial(_evaluate, experiment, summaries)
    reporter = Progress(
        start_step=start_step,
        total_steps=config.train.steps,
        global_batch_size=config.train.global_batch_size,
        mode=progress,
        learning_rate=experiment.learning_rate,
    )
    last, step, stop_reason, profiler = _train(
        experiment,
        workdir,
        watcher,
        recipe,
        user,
        reporter,
        summaries,
        evaluate,
        window,
        start_step,
    )
    # Everything trained is saved: a notice now exits at once; the rerun evaluates and exports.
    watcher.set_exit_at_once(True)
    validation = _final_validation(experiment, last, step, evaluate, user)
    test = evaluate("test")
    with experiment.averaged_weights.swapped_in():  # Under EMA, the model serves the average.
        exported = export(EXPORT, check_on=sample_features)
    summaries.close()
    return dict(
        start_step=start_step,
        step=step,
        stop_reason=stop_reason,
        progress=reporter,
        last=last,
        validation=validation,
        test=test,
        exported=exported,
        profiler=profiler,
        recipe=recipe,
    )


def _train(
    experiment, workdir, watcher, recipe, user, reporter, summaries, evaluate, window, start_step
):
    """Host loops with the run's actions, to the last step or a stop; the last step saved.
    Returns (the last RunState or None, the step reached, why it stopped early, the profiler)."""
    config = experiment.config
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
        train=lambda steps: experiment.host_loop.train(iterator, steps),
        start_step=start_step,
        total_steps=total_steps,
        steps_per_loop=config.train.steps_per_loop,
        global_batch_size=config.train.global_batch_size,
        actions=schedule.run_actions(
            config=config,
            experiment=experiment,
            watcher=watcher,
            recipe=recipe,
            progress=reporter,
            summaries=summaries,
            evaluate=evaluate,
            profiler=profiler,
            user=user,
        ),
        agree=experiment.host_loop.any_worker,
    )
    watcher.set_exit_at_once(False)  # From here on a notice saves first (SaveIfPreempted).
    last = controller.run()
    step = experiment.step()
    if profiler:
        profiler.stop(step)  # A run that stopped inside the window.
    if last is not None and last.stop_reason:
        stop_reason = last.stop_reason
        logging.info("Stopped at step %d of %d: %s", step, config.train.steps, stop_reason)
    if experiment.checkpointer.last_saved_step != step:
        experiment.checkpointer.save()
    return last, step, stop_reason, profiler


def _user_actions(config, workdir: Workdir) -> list[Scheduled]:
    """config.actions, given the directory this worker writes as their workdir: the workdir on
    the chief, a scratch directory on the others (only the chief writes the workdir), so that an
    action that writes a file there writes it once, without asking `is_chief`."""
    return user_actions(config.actions, workdir=workdir.write_path(), is_chief=workdir.is_chief)


def _final_validation(
    experiment: Experiment, last: RunState | None, step: int, evaluate, user: list[Scheduled]
) -> dict[str, float]:
    """The validation at the step training ended: the last host loop's (its actions saw it),
    else evaluated now and given to config.actions, which would otherwise never see it: after a
    stop asked for between evaluations, or when a rerun finds training done."""
    latest = last.latest_validation if last else None
    if latest and latest[0] == step:
        return latest[1]
    validation = evaluate("validation")
    state = RunState(
        step=step,
        total_steps=experiment.config.train.steps,
        steps_in_loop=0,
        seconds=0.0,
        examples_per_sec=0.0,
        train=last.train if last and last.step == step else {},
    )
    state.set_validation(validation)  # Its latest_validation too.
    for scheduled in user:
        if scheduled.due(step):
            scheduled.action(state)  # A stop it asks for changes nothing: training is over.
    return validation


def _resume(experiment: Experiment, workdir: Workdir) -> int:
    """Restores the latest checkpoint, checks it against the config and the data, writes
    WORKDIR/config.json; returns the step training starts at."""
    config, checkpointer = experiment.config, experiment.checkpointer
    try:
        start_step = checkpointer.restore_latest()
    except CheckpointMismatch as e:  # Named by what changed since the run that wrote it.
        message = mismatch_message(e, workdir, config.to_dict(), experiment.source.class_names)
        raise HarnessError(message) from e
    check_class_names(workdir, experiment.source.class_names, start_step)
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
        "on" if experiment.host_loop.xla.enabled else "off",
        experiment.host_loop.xla.reason,
        experiment.strategy.num_replicas_in_sync,
        start_step,
        config.train.steps,
    )
    return start_step


def _evaluate(experiment: Experiment, summaries: Summaries, split: str) -> dict[str, float]:
    """Evaluates `split` now, writes it to TensorBoard and logs it."""
    metrics = experiment.evaluate(split)
    summaries.write(SUMMARIES[split], experiment.step(), metrics)
    logging.info("%s at step %d: %s", split, experiment.step(), format_metrics(metrics))
    return metrics


def _export(
    experiment: Experiment, workdir: Workdir, directory: str, check_on=None, *, serving_sample
) -> dict:
    """Exports the model to `directory` under the workdir as config.export asks."""
    return export_model(
        experiment.model,
        workdir,
        keras_file=experiment.config.export.keras,
        saved_model=experiment.config.export.saved_model,
        check_on=check_on,
        directory=directory,
        class_names=experiment.source.class_names,
        serving_sample=serving_sample,
    )


def _draw_learning_curves(workdir: str) -> None:
    """WORKDIR/learning_curves.png; a picture that cannot be drawn does not fail the run."""
    from trainer.workdir import curves  # matplotlib loads only here.

    try:
        logging.info("Learning curves: %s", curves.draw_run(workdir))
    except (HarnessError, OSError, ValueError, tf.errors.OpError) as e:
        logging.warning("Could not draw the learning curves: %s", e)
