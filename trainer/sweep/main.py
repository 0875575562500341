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
import os
import signal
import socket
import sys
import tempfile
import threading
import time

import optuna
from absl import flags, logging
from ml_collections import config_flags
from optuna.trial import TrialState

from trainer import cli
from trainer.errors import PREEMPTED_EXIT_CODE, HarnessError
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
    os.environ.get("TRAINER_SWEEP_STORAGE", ""),
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


class Sweep:
    """One sweep process: asks the study for trials and runs each in a child process."""

    def __init__(self, *, study, storage, url, sweep, parameters, base, workdir, trainer_flags):
        self.study, self.storage, self.url, self.sweep = study, storage, url, sweep
        self.parameters, self.workdir, self.trainer_flags = parameters, workdir, trainer_flags
        self.base_config, self.base_overrides = base
        self.stopping, self._child = None, None

    def run(self, budget: int) -> None:
        while self.stopping is None:
            everything = self.study.get_trials(deepcopy=False)
            if studies.budget_used(everything) >= budget and not studies.has_waiting(everything):
                return
            self._run_trial(self.study.ask())

    def stop(self, signum, _frame) -> None:
        if self.stopping is None:
            print(f"{signal.Signals(signum).name}: stopping the running trial.", flush=True)
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
        )
        if self.stopping is not None:  # The signal came while the child was starting.
            self._child.stop()
        ended = threading.Event()
        threading.Thread(target=self._beat, args=(trial, ended), daemon=True).start()
        code = self._child.wait()
        ended.set()
        tail, self._child = self._child.tail, None
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
            "storage": self.url,
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
        while not ended.wait(_HEARTBEAT_S.value):
            try:
                studies.beat(self.storage, trial._trial_id, _HEARTBEAT_S.value)
            except Exception as e:  # noqa: BLE001 - a storage blip must not end the trial.
                logging.warning("Heartbeat of trial %d failed: %s", trial.number, e)

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
        value = outcome.value
        if outcome.state == "pruned":
            value = self.study.trials[trial.number].value
        results.write_hparams_trial(
            _join(self.workdir, results.HPARAMS_DIR, f"trial_{trial.number:04d}"),
            trial,
            metric=metric,
            value=value,
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
        parameters, base = _check(config, config_path, sweep)
        url = studies.storage_url(_STORAGE.value, workdir)
        storage = studies.open_storage(url)
        seed = sweep.seed + _process_index()
        study = studies.open_study(
            storage=storage,
            name=name,
            sweep=sweep,
            description=studies.describe(sweep, parameters, os.path.basename(config_path)),
            sampler=studies.make_sampler(sweep, parameters, seed),
            pruner=studies.make_pruner(sweep.pruner, dict(sweep.pruner_args)),
        )
    except HarnessError as e:
        cli.fail(str(e))
    results.write_hparams_config(
        _join(workdir, results.HPARAMS_DIR), parameters=parameters, metric=sweep.metric
    )
    for number in studies.reclaim_stale(study, storage):
        print(f"trial {number} lost its sweep process: queued to resume.", flush=True)
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
        base=base,
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
    base_config = os.path.abspath(config_path)
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
