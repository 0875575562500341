"""The action inside a trial's run that reports each validation result to the study and stops
the run when the study's pruner says so (what Optuna's Keras pruning callback did, as an action).

The sweep adds it to every trial's config (`config.actions.sweep_report`), after evaluation:

    {"action": "trainer.sweep.pruning:ReportToStudy", "every_steps": 0, "study": NAME,
     "trial_id": ID, "metric": "loss", "pruner": "median", "pruner_args": {}}

and gives it the study's storage URL in $TRAINER_SWEEP_STORAGE (no password in any file).

Only the chief talks to the storage; a stop request reaches every worker (the Controller makes
it unanimous). The run then saves, evaluates and exports as at its last step; its results.json
says `stop_reason: "pruned ..."`, from which the sweep marks the trial pruned.
"""

import math
import os

import optuna

from trainer.errors import HarnessError
from trainer.loop.controller import RunState
from trainer.sweep import study as studies

PRUNED = "pruned"  # How results.json's stop_reason begins for a pruned trial.


class ReportToStudy:
    def __init__(
        self,
        *,
        study: str,
        trial_id: int,
        metric: str,
        pruner: str = "none",
        pruner_args=None,
        is_chief: bool = True,
        storage: str = "",
    ):
        """`storage`: the study's URL or journal file; '' reads $TRAINER_SWEEP_STORAGE."""
        self._metric, self._trial = metric, None
        storage = storage or os.environ.get(studies.STORAGE_VARIABLE, "")
        if is_chief and not storage:
            raise HarnessError(
                f"the sweep's report action has no storage: set ${studies.STORAGE_VARIABLE} "
                "(trainer.sweep does) or its `storage` argument."
            )
        if is_chief:
            loaded = optuna.load_study(
                study_name=study,
                storage=studies.open_storage(storage),
                pruner=studies.make_pruner(pruner, dict(pruner_args or {})),
            )
            # The sweep process asked for this trial; this process reports to it by id, as
            # Optuna's own integrations do for a trial run in another process.
            self._trial = optuna.trial.Trial(loaded, trial_id)

    def __call__(self, state: RunState) -> None:
        if self._trial is None or state.validation is None:
            return
        if self._metric not in state.validation:
            raise HarnessError(
                f"the sweep's metric {self._metric!r} is not a validation metric of this model; "
                f"it reports {sorted(state.validation)}: set --sweep.metric."
            )
        value = float(state.validation[self._metric])
        if not math.isfinite(value):
            return  # A NaN fails the trial through its result; the pruner cannot rank it.
        self._trial.report(value, state.step)
        if self._trial.should_prune():
            state.request_stop(
                f"{PRUNED} by the sweep at step {state.step} (validation {self._metric} "
                f"{value:.4g})"
            )
