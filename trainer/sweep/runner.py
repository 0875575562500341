"""One sweep process's loop: ask the study for a trial, run it in a child process, tell the
study what became of it; until the budget is spent and no trial of another process is left
running (trainer/sweep/main.py builds it from the command line).
"""

import os
import signal
import socket
import tempfile
import threading
import time

import optuna
from absl import logging
from optuna.trial import TrialState

from trainer.errors import HarnessError, first_line
from trainer.sweep import overrides as trial_configs
from trainer.sweep import results, space
from trainer.sweep import study as studies
from trainer.sweep import trial as trials
from trainer.workdir.directory import join

REPORT_ACTION = "sweep_report"  # The pruning action's name in each trial's config.actions.


class Sweep:
    """One sweep process: asks the study for trials and runs each in a child process."""

    def __init__(
        self,
        *,
        study,
        storage,
        url: str,
        sweep,
        parameters: dict,
        base_config: str,
        fixed: dict,
        workdir: str,
        strategy: str = "auto",
        workers_per_trial: int = 1,
        heartbeat_s: float = 30.0,
        trainer_flags=(),
    ):
        """`base_config`: the experiment file; `fixed`: what every trial sets (the command
        line's --config.* and the sweep's overrides); `trainer_flags`: for every trial."""
        self.study, self.storage, self.url, self.sweep = study, storage, url, sweep
        self.parameters, self.workdir, self.trainer_flags = parameters, workdir, trainer_flags
        self.base_config, self.base_overrides = base_config, fixed
        self.strategy, self.workers, self.heartbeat_s = strategy, workers_per_trial, heartbeat_s
        self.stopping, self._child, self._taken_over = None, None, False
        self._mine: set[int] = set()  # Numbers of the trials this process ran.

    def run(self, budget: int) -> None:
        """Runs trials until the budget is spent, then waits for other processes' running
        trials to end (or to go stale, then resumes them): no trial is left running."""
        waiting_said = False
        while self.stopping is None:
            for number in studies.reclaim_stale(self.study, self.storage):
                print(f"trial {number} lost its sweep process: queued to resume.", flush=True)
            everything = self.study.get_trials(deepcopy=False)
            sampler = self.study.sampler
            if isinstance(sampler, studies.GridSampler) and sampler.is_exhausted(self.study):
                if not studies.has_waiting(everything):
                    print("Every point of the grid has run.", flush=True)
                    return
            if studies.budget_used(everything) >= budget and not studies.has_waiting(everything):
                others = studies.running_elsewhere(self.study, self._mine)
                if not others:
                    return
                if not waiting_said:
                    print(
                        f"Budget spent; waiting for {others} running trial(s) of other "
                        "processes to end.",
                        flush=True,
                    )
                    waiting_said = True
                time.sleep(min(self.heartbeat_s, 5.0))
                continue
            trial = self.study.ask()
            if studies.over_budget(self.study, self.storage, trial, budget):
                continue
            self._mine.add(trial.number)
            try:
                self._run_trial(trial)
            except Exception as e:  # noqa: BLE001 - one trial's trouble must not end the sweep.
                self._record_failure(trial, f"{type(e).__name__}: {first_line(e)}")
        if self.stopping is not None:
            print(f"{signal.Signals(self.stopping).name}: stopped.", flush=True)

    def stop(self, signum, _frame) -> None:
        """The signal handler: stop the running trial (it saves); nothing that could block."""
        self.stopping = signum
        if self._child:
            self._child.stop()

    def _run_trial(self, trial) -> None:
        resumes = trial.user_attrs.get(studies.RESUMES)
        trial_dir = trial.user_attrs.get(studies.TRIAL_DIR) or join(
            self.workdir, "trials", f"{trial.number:04d}"
        )
        chosen = {**self.base_overrides, **space.draw(trial, self.parameters)}
        self._record_start(trial, trial_dir, chosen, resumes)
        began = time.time()
        try:
            config_path = self._write_trial_config(trial, trial_dir, chosen)
        except HarnessError as e:
            return self._tell(trial, trials.Outcome("failed", reason=str(e)), began)
        code, tail = self._run_child(trial, trial_dir, config_path)
        if self._taken_over:
            print(
                f"trial {trial.number} was taken over by another process (its heartbeat was "
                "late); stopped here.",
                flush=True,
            )
            return
        outcome = trials.outcome(
            code,
            workdir=trial_dir,
            metric=self.sweep.metric,
            tail=tail,
            stopping=self.stopping is not None,
        )
        self._tell(trial, outcome, began)

    def _record_start(self, trial, trial_dir: str, chosen: dict, resumes) -> None:
        """Stores the trial's directory, overrides, base config and host in the study, beats
        once, and prints the trial's line (`resumes`: the number of the trial it resumes)."""
        for key, value in (
            (studies.TRIAL_DIR, trial_dir),
            (results.OVERRIDES, chosen),
            (results.BASE_CONFIG, self.base_config),
            ("host", socket.gethostname()),
        ):
            trial.set_user_attr(key, value)
        studies.beat(self.storage, trial._trial_id, self.heartbeat_s)
        again = f" (resumes trial {resumes})" if resumes is not None else ""
        print(
            f"trial {trial.number}: {describe_params(trial.params)} -> {trial_dir}{again}",
            flush=True,
        )

    def _run_child(self, trial, trial_dir: str, config_path: str) -> tuple[int, list[str]]:
        """Runs the trial's trainer in a child process, beating meanwhile; returns its exit
        code and the tail of its output."""
        self._taken_over = False
        self._child = trials.Child(
            trials.command(
                config_path=config_path,
                workdir=trial_dir,
                strategy=self.strategy,
                workers=self.workers,
                trainer_flags=self.trainer_flags,
            ),
            log_path=join(trial_dir, "sweep_trial.log"),
            show=lambda line: print(f"  [trial {trial.number}] {line}", flush=True),
            # The study's URL reaches the pruning action through the environment, so that a
            # database password is written into no file.
            env={**os.environ, studies.STORAGE_VARIABLE: self.url},
        )
        if self.stopping is not None:  # The signal came while the child was starting.
            self._child.stop()
        ended = threading.Event()
        threading.Thread(target=self._beat, args=(trial, ended), daemon=True).start()
        code = self._child.wait()
        ended.set()
        tail, self._child = self._child.tail, None
        return code, tail

    def _write_trial_config(self, trial, trial_dir: str, chosen: dict) -> str:
        """trials/NNNN/trial_NNNN.py: the base with this trial's overrides and the report
        action; checked by loading it here first."""
        report = {
            "action": "trainer.sweep.pruning:ReportToStudy",
            "every_steps": 0,
            "study": self.study.study_name,
            "trial_id": trial._trial_id,
            "metric": self.sweep.metric,
            "pruner": self.sweep.pruner,
            "pruner_args": dict(self.sweep.pruner_args),
        }
        overrides = {**chosen, f"actions.{REPORT_ACTION}": report}
        trial_configs.config_with_overrides(self.base_config, overrides)
        name = f"trial_{trial.number:04d}.py"
        text = trial_configs.config_file_text(
            base=self.base_config,
            overrides=overrides,
            title=f"Trial {trial.number} of study {self.study.study_name!r}.",
            description="The sweep's base experiment with this trial's overrides.",
            path=join(trial_dir, name),
        )
        results.write_text(join(trial_dir, name), text)
        if "://" not in trial_dir:
            return join(trial_dir, name)
        local = os.path.join(tempfile.mkdtemp(prefix="sweep_trial_"), name)
        results.write_text(local, text)  # trainer.main imports its config from a local file.
        return local

    def _beat(self, trial, ended: threading.Event) -> None:
        """Beats while the trial runs; stops the trial if another process took it over."""
        while not ended.wait(self.heartbeat_s):
            try:
                if not studies.is_running(self.storage, trial._trial_id):
                    self._taken_over = True
                    self._child.stop()
                    return
                studies.beat(self.storage, trial._trial_id, self.heartbeat_s)
            except optuna.exceptions.UpdateFinishedTrialError:
                self._taken_over = True
                self._child.stop()
                return
            except Exception as e:  # noqa: BLE001 - a storage blip must not end the trial.
                logging.warning("Heartbeat of trial %d failed: %s", trial.number, e)

    def _record_failure(self, trial, reason: str) -> None:
        print(f"trial {trial.number} failed: {reason}", flush=True)
        try:
            trial.set_user_attr(studies.FAIL_REASON, reason)
            self.study.tell(trial, state=TrialState.FAIL)
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError):
            pass  # Already finished (told, or taken over).

    def _tell(self, trial, outcome: trials.Outcome, began: float) -> None:
        metric = self.sweep.metric
        test = ((outcome.results or {}).get("test") or {}).get(metric)
        if outcome.results:
            trial.set_user_attr(results.STEP, outcome.results.get("step"))
            if test is not None:
                trial.set_user_attr(results.TEST_VALUE, float(test))
        seconds = time.time() - began
        if outcome.state == "interrupted":
            studies.interrupt(self.study, self.storage, trial, reason=outcome.reason)
            print(f"trial {trial.number} interrupted after {seconds:.0f} s: queued to resume.")
            if self.stopping is None:
                # The trial saw a notice of its own (this VM is going away, a GCE notice stays
                # set until it does): stop too, as if preempted, rather than restart it here.
                self.stopping = signal.SIGTERM
            return
        if outcome.state == "complete":
            self.study.tell(trial, outcome.value)
            line = f"validation {metric} {outcome.value:.4g}"
        elif outcome.state == "pruned":
            trial.set_user_attr(results.NOTE, outcome.reason)
            self.study.tell(trial, state=TrialState.PRUNED)
            line = outcome.reason
        else:
            trial.set_user_attr(studies.FAIL_REASON, outcome.reason)
            self.study.tell(trial, state=TrialState.FAIL)
            line = f"failed: {outcome.reason}"
        if test is not None:
            line += f" (test {metric} {test:.4g})"
        print(f"trial {trial.number} {outcome.state} in {seconds:.0f} s: {line}", flush=True)
        results.write_hparams_trial(
            join(self.workdir, results.HPARAMS_DIR, f"trial_{trial.number:04d}"),
            self.study.trials[trial.number],
            metric=metric,
            test=test,
        )


def describe_params(params: dict) -> str:
    return ", ".join(
        f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in params.items()
    )
