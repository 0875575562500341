"""The recipe's actions from the config: recovery, early stopping, reduce-on-plateau, best export.

Each is checked before training: a monitored metric must be one the model reports, and the
actions that watch validation metrics need evaluations (config.eval.every_steps > 0).
"""

import dataclasses

from trainer.actions.best_export import ExportBest
from trainer.actions.early_stopping import EarlyStopping
from trainer.actions.monitor import Monitor
from trainer.actions.plateau import ReduceOnPlateau
from trainer.actions.recovery import RecoverFromDivergence
from trainer.errors import HarnessError
from trainer.loop.controller import Scheduled


@dataclasses.dataclass
class RecipeActions:
    recovery: RecoverFromDivergence
    early_stopping: EarlyStopping | None = None
    reduce_on_plateau: ReduceOnPlateau | None = None
    export_best: ExportBest | None = None

    def on_validation(self) -> list[Scheduled]:
        """The actions to run after the evaluation action, in this order: the best export
        sees this step's model before a stop request ends the run."""
        named = [
            ("export_best", self.export_best),
            ("reduce_on_plateau", self.reduce_on_plateau),
            ("early_stopping", self.early_stopping),
        ]
        return [Scheduled(action, name=name) for name, action in named if action is not None]

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
    state = experiment.training_state
    actions = RecipeActions(
        recovery=RecoverFromDivergence(
            checkpointer=experiment.checkpointer,
            training_state=state,
            max_rollbacks=config.recovery.max_rollbacks,
            loss_upper_bound=config.recovery.loss_upper_bound,
            learning_rate_factor=config.recovery.learning_rate_factor,
        )
    )
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
        section = config.early_stopping
        actions.early_stopping = EarlyStopping(
            monitor=_monitor(
                section.monitor, section.mode, section.min_delta, metrics, "config.early_stopping"
            ),
            patience=section.patience,
            state=state.early_stopping,
        )
    if config.reduce_on_plateau.monitor:
        section = config.reduce_on_plateau
        actions.reduce_on_plateau = ReduceOnPlateau(
            monitor=_monitor(
                section.monitor,
                section.mode,
                section.min_delta,
                metrics,
                "config.reduce_on_plateau",
            ),
            patience=section.patience,
            factor=section.factor,
            min_scale=section.min_scale,
            training_state=state,
        )
    if config.export.best_metric:
        actions.export_best = ExportBest(
            monitor=_monitor(
                config.export.best_metric,
                config.export.best_mode,
                0.0,
                metrics,
                "config.export",
                names=("best_metric", "best_mode"),
            ),
            export=export,
            workdir=workdir,
            averaged_weights=experiment.averaged_weights,
        )
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
