"""The actions of a training run, in the order the Controller calls them after a host loop.

The order is data, `ORDER`, with the reason for each place beside it. `run_actions` builds the
actions the config asks for and returns them in that order; an action the config leaves off
(a checkpoint interval of 0, no recipe, no profile window) leaves its place empty. The evaluation
always has its place: it runs at the last step too, even with eval.every_steps=0.
"""

import dataclasses

from trainer.actions.checkpoint import SaveCheckpoint
from trainer.actions.evaluation import Evaluate
from trainer.actions.preemption import SaveIfPreempted
from trainer.actions.summaries import WriteTrainSummaries
from trainer.loop.controller import Scheduled


@dataclasses.dataclass(frozen=True)
class Place:
    name: str
    why: str


ORDER = (
    Place(
        "recovery", "first: a diverged host loop is rolled back before anything sees or saves it"
    ),
    Place("progress", "the host loop as trained, before anything else takes time"),
    Place("tb", "this host loop's training scalars"),
    Place("preemption", "before evaluations: the grace period is short; the rerun evaluates on"),
    Place(
        "evaluation",
        "this step's validation results, for every action after it; the last step's included",
    ),
    Place("export_best", "before a stop request: the best model of this step is exported"),
    Place("reduce_on_plateau", "reads this step's validation results"),
    Place("early_stopping", "reads this step's validation results; its stop ends the run here"),
    Place("user", "users' actions see this step's validation, as the recipe actions do"),
    Place("checkpoint", "after every action that changes state: a checkpoint holds what they saw"),
    Place("profile", "last: it only starts and stops the profiler at its steps"),
)


def in_order(actions: dict[str, list[Scheduled]]) -> list[Scheduled]:
    """The actions of each place, in ORDER; a place may hold none, one or several."""
    places = [place.name for place in ORDER]
    unknown = sorted(set(actions) - set(places))
    if unknown:
        raise ValueError(f"Actions {unknown} have no place in the run's ORDER: add them there.")
    return [scheduled for name in places for scheduled in actions.get(name, ())]


def run_actions(
    *,
    config,
    experiment,
    watcher,
    recipe,
    progress,
    summaries,
    evaluate,
    profiler,
    user: list[Scheduled],
) -> list[Scheduled]:
    """Every action of the run, built from the config, in ORDER; `user`: config.actions'."""
    agree = experiment.host_loop.any_worker
    return in_order(
        {
            "recovery": [Scheduled(recipe.recovery, name="recovery")],
            "progress": [Scheduled(progress, name="progress")],
            "tb": [Scheduled(WriteTrainSummaries(summaries, experiment.learning_rate), name="tb")],
            "preemption": [
                Scheduled(
                    SaveIfPreempted(watcher, experiment.checkpointer, agree=agree),
                    name="preemption",
                )
            ],
            "evaluation": [_evaluation(config, evaluate)],
            **{
                name: [Scheduled(action, name=name)]
                for name, action in (
                    ("export_best", recipe.export_best),
                    ("reduce_on_plateau", recipe.reduce_on_plateau),
                    ("early_stopping", recipe.early_stopping),
                )
                if action is not None
            },
            "user": user,
            "checkpoint": _every(
                config.checkpoint.every_steps, SaveCheckpoint(experiment.checkpointer), "checkpoint"
            ),
            "profile": [Scheduled(profiler, name="profile", stops=profiler.window)]
            if profiler
            else [],
        }
    )


def _evaluation(config, evaluate) -> Scheduled:
    """Every eval.every_steps and at the last step (only there with 0), so that the actions see
    the final validation at its step, as they see every other, and the run reuses it."""
    last = config.train.steps
    return Scheduled(Evaluate(evaluate), config.eval.every_steps or last, "evaluation", (last,))


def _every(every_steps: int, action, name: str) -> list[Scheduled]:
    """The action at its interval; none when the interval is 0 (off)."""
    return [Scheduled(action, every_steps, name)] if every_steps > 0 else []
