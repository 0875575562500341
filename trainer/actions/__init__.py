"""Actions: what the run does after a host loop, each a small callable in a module of its own.

The Controller (trainer/loop/controller.py) runs host loops and, after each, calls the actions
whose interval has come, in order, with the `RunState`. Orbit's `Controller` and `orbit.actions`
are the model: an action is any callable taking the state; `Scheduled` separates when from what.
An action can ask the run to stop with `state.request_stop(reason)`; every worker then stops
after the same host loop. The order a run calls them in, and why, is trainer/run/schedule.py.

    checkpoint.py      save every `checkpoint.every_steps`
    evaluation.py      evaluate the validation split every `eval.every_steps`
    summaries.py       training scalars to TensorBoard
    progress.py        a line (or JSON object) per host loop, with examples/s and ETA
    preemption.py      save and exit 42 when any worker has a termination notice
    profiler.py        a TensorBoard profile of the steps in `train.profile_steps`
    monitor.py         a validation metric watched for improvement (shared by the recipes)
    early_stopping.py  stop when the monitored metric stops improving
    plateau.py         scale the learning rate down on a plateau
    best_export.py     export the model at its best validation metric
    recovery.py        roll back to the last checkpoint when the loss diverges
    recipes.py         the recipe actions built from the config (the four above)
    user.py            a user's actions from `config.actions`, by import path

May import: the foundation, cli, cloud, modeling, workdir, loop. `RunState` is re-exported here
for users' actions (trainer.actions.RunState).
"""

from trainer.loop.controller import RunState

__all__ = ["RunState"]
