"""The recipe's actions from the config: recovery, early stopping, reduce-on-plateau, best export.

Each is registered in RECIPES, a Registry like the one `config.actions` names resolve in
(trainer/actions/user.py), and built through it as a user's action is: its config section's fields
are its keyword arguments, checked against its signature, and the harness passes the run's objects
it declares (`recipe_actions`'s `harness`: checkpointer, training_state, averaged_weights, the
Workdir, metrics, export). They are configured by their sections only (SECTIONS); `config.actions`
refuses their names. Each is checked before training: a monitored metric must be one the model
reports, and the actions that watch validation metrics need evaluations (eval.every_steps > 0).
"""

import dataclasses

from trainer import registry
from trainer.actions.best_export import ExportBest
from trainer.actions.early_stopping import EarlyStopping
from trainer.actions.monitor import Monitor
from trainer.actions.plateau import ReduceOnPlateau
from trainer.actions.recovery import RecoverFromDivergence
from trainer.errors import HarnessError
from trainer.workdir.directory import Workdir
from trainer.workdir.training_state import TrainingState

RECIPES = registry.Registry("recipe action", "config.recovery, early_stopping, ...")
# The config section each recipe action is built from.
SECTIONS = {
    "recovery": "config.recovery",
    "early_stopping": "config.early_stopping",
    "reduce_on_plateau": "config.reduce_on_plateau",
    "best_export": "config.export",
}

RECIPES.register("recovery")(RecoverFromDivergence)


@RECIPES.register("early_stopping")
def early_stopping(
    *,
    monitor: str,
    mode: str,
    patience: int,
    min_delta: float,
    metrics,
    training_state: TrainingState,
) -> EarlyStopping:
    """Stops when validation `monitor` has not improved by more than `min_delta` (in `mode`:
    min, max or auto) for `patience` evaluations; its progress is kept in `training_state`."""
    return EarlyStopping(
        monitor=_monitor(monitor, mode, min_delta, metrics, "config.early_stopping"),
        patience=patience,
        state=training_state.early_stopping,
    )


@RECIPES.register("reduce_on_plateau")
def reduce_on_plateau(
    *,
    monitor: str,
    mode: str,
    patience: int,
    min_delta: float,
    factor: float,
    min_scale: float,
    metrics,
    training_state: TrainingState,
) -> ReduceOnPlateau:
    """Scales the learning rate by `factor` (not below `min_scale` of the peak) after
    `patience` evaluations without improvement of validation `monitor` (`mode`, `min_delta`)."""
    return ReduceOnPlateau(
        monitor=_monitor(monitor, mode, min_delta, metrics, "config.reduce_on_plateau"),
        patience=patience,
        factor=factor,
        min_scale=min_scale,
        training_state=training_state,
    )


@RECIPES.register("best_export")
def best_export(
    *, best_metric: str, best_mode: str, metrics, export, workdir: Workdir, averaged_weights
) -> ExportBest:
    """Exports the model to WORKDIR/export/best/ at each new best of validation `best_metric`
    (`best_mode`: min, max or auto)."""
    monitor = _monitor(
        best_metric, best_mode, 0.0, metrics, "config.export", names=("best_metric", "best_mode")
    )
    return ExportBest(
        monitor=monitor, export=export, workdir=workdir, averaged_weights=averaged_weights
    )


@dataclasses.dataclass
class RecipeActions:
    recovery: RecoverFromDivergence
    early_stopping: EarlyStopping | None = None
    reduce_on_plateau: ReduceOnPlateau | None = None
    export_best: ExportBest | None = None

    def results(self) -> dict:
        return {
            "rollbacks": self.recovery.rollbacks,
            "early_stopping": self.early_stopping.summary() if self.early_stopping else None,
            "learning_rate_reductions": (
                self.reduce_on_plateau.reductions if self.reduce_on_plateau else None
            ),
            "best_export": self.export_best.best if self.export_best else None,
        }


def recipe_actions(config, *, experiment, workdir, metrics, export) -> RecipeActions:
    """`metrics`: the names the model reports; `export(directory)`: exports the model there."""
    # What a recipe action gets, when it declares it, besides its section's fields.
    harness = {
        "checkpointer": experiment.checkpointer,
        "training_state": experiment.training_state,
        "averaged_weights": experiment.averaged_weights,
        "workdir": workdir,
        "metrics": metrics,
        "export": export,
    }

    def build(name: str, args: dict):
        factory = RECIPES.resolve(name)
        return registry.call_with_args(factory, args, provided=harness, field=SECTIONS[name])

    actions = RecipeActions(recovery=build("recovery", config.recovery.to_dict()))
    watched = {
        "early_stopping": config.early_stopping.monitor,
        "reduce_on_plateau": config.reduce_on_plateau.monitor,
        "export": config.export.best_metric,
    }
    for section, metric in watched.items():
        if metric and config.eval.every_steps <= 0:
            raise HarnessError(
                f"config.{section} watches validation {metric!r}, but there are no evaluations "
                "during training: set config.eval.every_steps (e.g. to "
                f"{max(config.train.steps // 10, 1)})."
            )
    for section in ("early_stopping", "reduce_on_plateau"):
        if config[section].monitor and config[section].patience < 1:
            raise HarnessError(
                f"config.{section}.patience={config[section].patience} must be at least 1 "
                "(evaluations without improvement)."
            )
    if config.early_stopping.monitor:
        actions.early_stopping = build("early_stopping", config.early_stopping.to_dict())
    if config.reduce_on_plateau.monitor:
        actions.reduce_on_plateau = build("reduce_on_plateau", config.reduce_on_plateau.to_dict())
    if config.export.best_metric:
        # config.export's other fields are the final export's, not this action's.
        best = {name: config.export[name] for name in ("best_metric", "best_mode")}
        actions.export_best = build("best_export", best)
    return actions


def _monitor(metric, mode, min_delta, metrics, field, names=("monitor", "mode")) -> Monitor:
    monitor = Monitor(
        metric=metric,
        mode=mode,
        min_delta=min_delta,
        field=field,
        metric_name=names[0],
        mode_name=names[1],
    )
    monitor.check(metrics)
    return monitor
