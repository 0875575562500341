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

import json
import os
import signal
import sys
import tempfile

import optuna
import tensorflow as tf
from absl import flags
from ml_collections import config_flags

from configs import base
from trainer.cli.config_flag import (
    check_plugin_arguments,
    define_config_flag,
    load_config,
    parse_flags,
)
from trainer.cli.console import fail, quiet_logs
from trainer.errors import PREEMPTED_EXIT_CODE, HarnessError, process_exit_code
from trainer.sweep import results, settings
from trainer.sweep import study as studies
from trainer.sweep.runner import Sweep
from trainer.workdir.directory import join

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
STUDY_FILE = "study.json"  # The workdir's study (trials of one study per workdir).


def main(argv) -> None:
    quiet_logs()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # The sweep prints its own lines.
    config, config_path = load_config(require_plugin_arguments=False)
    sweep, sweep_path = _load_sweep()
    # A builder argument without a default may be one the search space draws in every trial.
    drawn = {*sweep.parameters.to_dict(), *sweep.overrides.to_dict()}
    check_plugin_arguments(config, config_path, set_elsewhere=drawn)
    name = _STUDY.value or os.path.splitext(os.path.basename(sweep_path))[0]
    workdir = _WORKDIR.value or os.path.join(tempfile.gettempdir(), "trainer", "sweeps", name)
    try:
        parameters, base_config, fixed = settings.check(sweep, config, config_path, sys.argv)
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
        fail(str(e), exit_code=e.exit_code)
    study.sampler = studies.make_sampler(sweep, parameters, _sampler_seed(sweep, study))
    results.write_hparams_config(
        join(workdir, results.HPARAMS_DIR), parameters=parameters, metric=sweep.metric
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
        base_config=base_config,
        fixed=fixed,
        workdir=workdir,
        strategy=_STRATEGY.value,
        workers_per_trial=_WORKERS.value,
        heartbeat_s=_HEARTBEAT_S.value,
        trainer_flags=tuple(argv[1:]),
    )
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    runner.run(_TRIALS.value)
    results.report(
        study, metric=sweep.metric, parameters=parameters, workdir=workdir, sweep_path=sweep_path
    )
    _exit_if_stopped(runner)


def _sampler_seed(sweep, study) -> int:
    """Processes, and a process restarted on the same index, draw apart: the seed also holds
    the number of trials the study had when this process started."""
    return (sweep.seed + 7919 * _process_index() + len(study.trials)) % 2**31


def _exit_if_stopped(runner: Sweep) -> None:
    """A sweep stopped by SIGTERM exits as preempted (process_exit_code), one stopped by
    another signal with 128 + its number."""
    if runner.stopping == signal.SIGTERM:
        sys.exit(process_exit_code(PREEMPTED_EXIT_CODE))
    if runner.stopping is not None:
        sys.exit(128 + runner.stopping)


def _claim(workdir: str, name: str) -> None:
    """WORKDIR/study.json names the study whose trials the workdir holds: a trial directory of
    another study would resume that study's checkpoint."""
    path = join(workdir, STUDY_FILE)
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


def _load_sweep():
    path = flags.FLAGS["sweep"].config_filename
    try:
        sweep = flags.FLAGS.sweep
        sweep.to_dict()  # Loaded lazily: load now.
    except Exception as e:  # noqa: BLE001 - any failure of the sweep file is one line.
        fail(f"cannot load the sweep file {path}: {type(e).__name__}: {e}")
    return sweep, path


def _process_index() -> int:
    if _PROCESS_INDEX.value is not None:
        return _PROCESS_INDEX.value
    index = os.environ.get("JOB_COMPLETION_INDEX")
    return int(index) if index and index.isdigit() else os.getpid()


def run() -> None:
    from absl import app

    define_config_flag(switch_plugin=base.switch_plugin)  # --config.data.source=csv ... works
    config_flags.DEFINE_config_file(
        "sweep", None, "Sweep file (configs/sweeps/): search space, sampler, pruner, metric."
    )
    flags.mark_flag_as_required("sweep")
    app.run(main, flags_parser=parse_flags)
