"""WORKDIR/results.json: what a run did and reached, assembled in one place.

The keys are a contract: tests, sweeps (`trainer.sweep` reads a trial's metrics here),
`trainer.report` and users' scripts read them. Add keys; do not rename them.
"""

from trainer.actions.profiler import PROFILE


def collect(
    *,
    config_name: str,
    workers: int,
    strategy_choice,
    experiment,
    workdir,
    start_step: int,
    step: int,
    stop_reason: str | None,
    progress,
    last,
    validation: dict,
    test: dict,
    exported: dict,
    profiler,
    recipe,
) -> dict:
    """`last`: the Controller's last RunState (None when no host loop ran); `progress`: the
    progress action, which timed the run."""
    config = experiment.config
    return {
        "step": step,
        "stop_reason": stop_reason,
        "strategy": strategy_choice.name,
        "strategy_reason": strategy_choice.reason,
        "replicas": strategy_choice.strategy.num_replicas_in_sync,
        "precision": experiment.precision,
        "jit_compile": experiment.host_loop.xla.as_results(),
        "global_batch_size": config.train.global_batch_size,
        "steps_this_run": step - start_step,
        "examples_per_sec": progress.examples_per_sec,
        "time_to_first_loop_s": progress.first_loop_seconds,
        "wall_time_s": progress.elapsed,
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
        "config": config_name,
        "workers": workers,
    }
