"""Hyperparameter sweeps on Optuna: every trial is the base experiment with drawn overrides,
trained by `trainer.main` in its own process, under any strategy.

    python -m trainer.sweep --config=configs/california_mlp.py \
        --sweep=configs/sweeps/california_tpe.py --trials=30 --workdir=/tmp/sweep \
        [--storage=postgresql://USER:PASSWORD@HOST/DB] [--study=NAME] [-- TRAINER FLAGS]

`--trials` is the study's budget: each process stops when that many trials have run or are
running, so several processes (or pods) pointed at one --storage share the work. A stopped
sweep (SIGTERM: exit 42; Ctrl-C: exit 130) continues when rerun: the trial it interrupted
resumes from its checkpoint. At the end: the table, WORKDIR/trials.csv, sweep.png,
best_config.py and hparams/ (trainer/sweep/results.py). Bad input is one `error:` line, exit 2.
"""

import copy
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time

import optuna
import tensorflow as tf
from absl import flags, logging
from ml_collections import config_flags
from optuna.trial import TrialState

from trainer import cli
from trainer.errors import PREEMPTED_EXIT_CODE, HarnessError, first_line
from trainer.sweep import overrides as trial_configs
from trainer.sweep import results, settings, space
from trainer.sweep import study as studies
from trainer.sweep import trial as trials

_TRIALS = flags.DEFINE_integer(
    "trials", 10, "The study's trial budget, shared by every process on it.", lower_bound=0
)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Trials (trials/NNNN) and results. Default: $TMPDIR/trainer/sweeps/STUDY."
)
_STORAGE = flags.DEFINE_string(
    "storage",
    os.environ.get(studies.STORAGE_VARIABLE, ""),
    "Optuna storage shared by sweep processes: a URL (postgresql://, mysql://, sqlite:///) or "
    "a journal file. Default: $TRAINER_SWEEP_STORAGE, else WORKDIR/study.journal.",
)
_STUDY = flags.DEFINE_string("study", None, "Study name. Default: the sweep file's name.")
_STRATEGY = flags.DEFINE_string("strategy", "auto", "Each trial's tf.distribute strategy.")
_WORKERS = flags.DEFINE_integer(
    "workers_per_trial", 1, "Local worker processes per trial (launch.local).", lower_bound=1
)
_PROCESS_INDEX = flags.DEFINE_integer(
    "process_index",
    None,
    "Added to the sampler's seed so that processes draw apart. Default: $JOB_COMPLETION_INDEX "
    "(a Kubernetes Indexed Job), else the process id.",
)
_HEARTBEAT_S = flags.DEFINE_float(
    "heartbeat_s",
    30.0,
    "Seconds between a running trial's heartbeats; another process takes over a trial silent "
    "for 3x this plus 5 s.",
    lower_bound=0.1,
)
REPORT_ACTION = "sweep_report"  # The pruning action's name in each trial's config.actions.
STUDY_FILE = "study.json"  # The workdir's study (trials of one study per workdir).


class Sweep:
    """One sweep process: asks the study for trials and runs each in a child process."""

    def __init__(self, *, study, storage, url, sweep, parameters, base, workdir, trainer_flags):
        self.study, self.storage, self.url, self.sweep = study, storage, url, sweep
        self.parameters, self.workdir, self.trainer_flags = parameters, workdir, trainer_flags
        self.base_config, self.base_overrides = base
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
                time.sleep(min(_HEARTBEAT_S.value, 5.0))
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
        trial_dir = trial.user_attrs.get(studies.TRIAL_DIR) or _join(
            self.workdir, "trials", f"{trial.number:04d}"
        )
        chosen = {**self.base_overrides, **space.draw(trial, self.parameters)}
        for key, value in (
            (studies.TRIAL_DIR, trial_dir),
            (results.OVERRIDES, chosen),
            (results.BASE_CONFIG, self.base_config),
            ("host", socket.gethostname()),
        ):
            trial.set_user_attr(key, value)
        studies.beat(self.storage, trial._trial_id, _HEARTBEAT_S.value)
        again = f" (resumes trial {resumes})" if resumes is not None else ""
        print(f"trial {trial.number}: {_params(trial.params)} -> {trial_dir}{again}", flush=True)
        began = time.time()
        try:
            config_path = self._write_trial_config(trial, trial_dir, chosen)
        except HarnessError as e:
            return self._tell(trial, trials.Outcome("failed", reason=str(e)), began)
        self._taken_over = False
        self._child = trials.Child(
            trials.command(
                config_path=config_path,
                workdir=trial_dir,
                strategy=_STRATEGY.value,
                workers=_WORKERS.value,
                trainer_flags=self.trainer_flags,
            ),
            log_path=_join(trial_dir, "sweep_trial.log"),
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
            path=_join(trial_dir, name),
        )
        results.write_text(_join(trial_dir, name), text)
        if "://" not in trial_dir:
            return _join(trial_dir, name)
        local = os.path.join(tempfile.mkdtemp(prefix="sweep_trial_"), name)
        results.write_text(local, text)  # trainer.main imports its config from a local file.
        return local

    def _beat(self, trial, ended: threading.Event) -> None:
        """Beats while the trial runs; stops the trial if another process took it over."""
        while not ended.wait(_HEARTBEAT_S.value):
            try:
                if not studies.is_running(self.storage, trial._trial_id):
                    self._taken_over = True
                    self._child.stop()
                    return
                studies.beat(self.storage, trial._trial_id, _HEARTBEAT_S.value)
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
            _join(self.workdir, results.HPARAMS_DIR, f"trial_{trial.number:04d}"),
            self.study.trials[trial.number],
            metric=metric,
            test=test,
        )


def main(argv) -> None:
    cli.quiet_logs()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # The sweep prints its own lines.
    config, config_path = cli.load_config()
    sweep, sweep_path = _load_sweep()
    name = _STUDY.value or os.path.splitext(os.path.basename(sweep_path))[0]
    workdir = _WORKDIR.value or os.path.join(tempfile.gettempdir(), "trainer", "sweeps", name)
    try:
        parameters, (base_config, fixed) = _check(config, config_path, sweep)
        url = studies.storage_url(_STORAGE.value, workdir)
        storage = studies.open_storage(url)
        study = studies.open_study(
            storage=storage,
            name=name,
            sweep=sweep,
            description=studies.describe(sweep, parameters, os.path.basename(config_path), fixed),
            sampler=studies.make_sampler(sweep, parameters, sweep.seed),  # Checks its args.
            pruner=studies.make_pruner(sweep.pruner, dict(sweep.pruner_args)),
        )
        _claim(workdir, name)
    except HarnessError as e:
        cli.fail(str(e), exit_code=e.exit_code)
    # Processes, and a process restarted on the same index, draw apart: the seed also holds
    # the number of trials the study had when this process started.
    seed = (sweep.seed + 7919 * _process_index() + len(study.trials)) % 2**31
    study.sampler = studies.make_sampler(sweep, parameters, seed)
    results.write_hparams_config(
        _join(workdir, results.HPARAMS_DIR), parameters=parameters, metric=sweep.metric
    )
    done = studies.budget_used(study.get_trials(deepcopy=False))
    print(
        f"Study {name!r} ({sweep.sampler} sampler, pruner {sweep.pruner}) at "
        f"{studies.redacted(url)}: {done} of {_TRIALS.value} trials run or running.",
        flush=True,
    )
    runner = Sweep(
        study=study,
        storage=storage,
        url=url,
        sweep=sweep,
        parameters=parameters,
        base=(base_config, fixed),
        workdir=workdir,
        trainer_flags=tuple(argv[1:]),
    )
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.run(_TRIALS.value)
    _report(study, sweep=sweep, parameters=parameters, workdir=workdir, sweep_path=sweep_path)
    if runner.stopping == signal.SIGTERM:
        sys.exit(PREEMPTED_EXIT_CODE)
    if runner.stopping is not None:
        sys.exit(128 + runner.stopping)


def _claim(workdir: str, name: str) -> None:
    """WORKDIR/study.json names the study whose trials the workdir holds: a trial directory of
    another study would resume that study's checkpoint."""
    path = _join(workdir, STUDY_FILE)
    if tf.io.gfile.exists(path):
        with tf.io.gfile.GFile(path) as f:
            owner = json.load(f).get("study")
        if owner != name:
            raise HarnessError(
                f"--workdir={workdir} holds the trials of study {owner!r}, not {name!r}: pass "
                "a new --workdir for this study (or --study={owner} to continue that one)."
            )
        return
    results.write_text(path, json.dumps({"study": name}))


def _check(config, config_path: str, sweep) -> tuple[dict, tuple[str, dict]]:
    """The parameters, and (base config path, overrides every trial gets), checked against
    the config before any trial runs."""
    for field, allowed in (
        ("direction", settings.DIRECTIONS),
        ("sampler", settings.SAMPLERS),
        ("pruner", settings.PRUNERS),
    ):
        if sweep[field] not in allowed:
            raise HarnessError(f"--sweep.{field}={sweep[field]!r}: use one of {allowed}.")
    parameters = space.check(sweep.parameters, where="sweep.parameters")
    command_line = {
        arg[len("--config.") :].split("=", 1)[0] for arg in sys.argv if arg.startswith("--config.")
    }
    fixed = {field: _get(config, field) for field in sorted(command_line)}
    fixed.update(space.plain(sweep.overrides))
    base_config = _portable(config_path)
    trial_configs.apply(copy.deepcopy(config), fixed, where=f"{config_path} (sweep.overrides)")
    for sample in space.sample_overrides(parameters):
        trial_configs.apply(copy.deepcopy(config), {**fixed, **sample}, where=config_path)
    checked = copy.deepcopy(config)
    trial_configs.apply(checked, fixed, where=config_path)
    if sweep.pruner != "none" and checked.eval.every_steps <= 0:
        raise HarnessError(
            f"--sweep.pruner={sweep.pruner} needs validation results during training: set "
            "eval.every_steps > 0 (in the sweep's overrides or with --config.eval.every_steps)."
        )
    if sweep.sampler == "grid":
        space.grid(parameters)
    return parameters, (base_config, fixed)


def _report(study, *, sweep, parameters: dict, workdir: str, sweep_path: str) -> None:
    rows = results.rows(study, sweep.metric)
    print(results.table(rows), flush=True)
    print(results.summary(study, sweep.metric), flush=True)
    written = [results.write_csv(rows, _join(workdir, results.CSV_FILE))]
    written.append(
        results.draw(
            study,
            path=_join(workdir, results.PICTURE_FILE),
            metric=sweep.metric,
            parameters=parameters,
        )
    )
    written.append(
        results.write_best_config(
            study,
            path=_join(workdir, results.BEST_CONFIG_FILE),
            metric=sweep.metric,
            sweep_path=sweep_path,
        )
    )
    print("Written: " + ", ".join(path for path in written if path), flush=True)


def _load_sweep():
    path = flags.FLAGS["sweep"].config_filename
    try:
        sweep = flags.FLAGS.sweep
        sweep.to_dict()  # Loaded lazily: load now.
    except Exception as e:  # noqa: BLE001 - any failure of the sweep file is one line.
        cli.fail(f"cannot load the sweep file {path}: {type(e).__name__}: {e}")
    return sweep, path


def _portable(config_path: str) -> str:
    """The base config's path relative to the repository when it lies inside (so that
    best_config.py runs on another checkout, a container, a pod), else absolute."""
    absolute = os.path.abspath(config_path)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    inside = os.path.commonpath([absolute, repo]) == repo
    return os.path.relpath(absolute, repo) if inside else absolute


def _get(config, field: str):
    value = config
    for part in field.split("."):
        value = value[part]
    return value.to_dict() if hasattr(value, "to_dict") else value


def _process_index() -> int:
    if _PROCESS_INDEX.value is not None:
        return _PROCESS_INDEX.value
    index = os.environ.get("JOB_COMPLETION_INDEX")
    return int(index) if index and index.isdigit() else os.getpid()


def _params(params: dict) -> str:
    return ", ".join(
        f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in params.items()
    )


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


def run() -> None:
    from absl import app

    cli.define_config_flag()
    config_flags.DEFINE_config_file(
        "sweep", None, "Sweep file (configs/sweeps/): search space, sampler, pruner, metric."
    )
    flags.mark_flag_as_required("sweep")
    app.run(main, flags_parser=cli.parse_flags)
