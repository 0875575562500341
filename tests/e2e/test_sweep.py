"""`python -m trainer.sweep` end to end: real trials in child processes on the digits, a real
journal file and a real PostgreSQL server on loopback, real signals."""

import csv
import glob
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import optuna
import pytest
from optuna.trial import TrialState

from tests.support.helpers import REPO, assert_one_line_error, read_results, run_module
from tests.support.postgres import postgres_server
from trainer.sweep import study as studies
from trainer.sweep.overrides import load_config_file

pytestmark = pytest.mark.slow

# A small, quick digits run: 60 steps, evaluated every 20 (the pruner's reports).
QUICK = (
    "--config=configs/digits_mlp.py",
    "--config.train.steps=60",
    "--config.train.steps_per_loop=20",
    "--config.eval.every_steps=20",
    "--config.checkpoint.every_steps=20",
    "--config.export.keras=False",
    "--config.export.saved_model=False",
)

SWEEP_FILE = """
from trainer.sweep import settings, space


def get_config():
    config = settings.get_config(parameters={parameters})
    config.metric = "loss"
    config.sampler = "{sampler}"
    config.pruner = "{pruner}"
    config.pruner_args = {pruner_args}
    return config
"""

SPACE = """{
    "model.args.hidden_units": space.layers(
        depth=space.int_range(1, 2), width=space.int_range(8, 32), per_layer=True),
    "train.learning_rate": space.log_range(1e-4, 1e-2),
    "train.optimizer": space.choice(
        ["adam", "sgd"],
        when={"sgd": {"train.optimizer_args.momentum": space.float_range(0, 0.9)}}),
}"""


def sweep_file(
    tmp_path,
    name="my_sweep",
    *,
    parameters=SPACE,
    sampler="random",
    pruner="none",
    pruner_args="{}",
) -> str:
    """A user's own sweep file, outside the package."""
    path = tmp_path / f"{name}.py"
    path.write_text(
        SWEEP_FILE.format(
            parameters=parameters, sampler=sampler, pruner=pruner, pruner_args=pruner_args
        )
    )
    return str(path)


def sweep(*args, **kwargs) -> subprocess.CompletedProcess:
    return run_module("trainer.sweep", *args, **kwargs)


def start_sweep(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trainer.sweep", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def journal(workdir: str):
    storage = studies.open_storage(os.path.join(workdir, studies.JOURNAL_FILE))
    return storage


def load(storage, name="my_sweep") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=storage)


def by_state(study, state):
    return [t for t in study.get_trials(deepcopy=False) if t.state == state]


def test_a_four_trial_sweep_trains_records_and_writes_its_results(tmp_path):
    workdir = str(tmp_path / "sweep")
    args = [f"--sweep={sweep_file(tmp_path)}", "--trials=4", f"--workdir={workdir}", *QUICK]
    process = sweep(*args)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    study = load(journal(workdir))
    complete = by_state(study, TrialState.COMPLETE)
    assert len(complete) == 4 == len(study.trials)
    for t in complete:  # Each trial trained its own drawn config in its own directory.
        trial_dir = t.user_attrs[studies.TRIAL_DIR]
        results = read_results(trial_dir)
        assert results["step"] == 60
        assert t.value == pytest.approx(results["validation"]["loss"], rel=1e-6)
        assert t.user_attrs["test"] == pytest.approx(results["test"]["loss"], rel=1e-6)
        trained = load_config_file(os.path.join(trial_dir, f"trial_{t.number:04d}.py"))
        assert trained.train.learning_rate == pytest.approx(t.params["train.learning_rate"])
        assert len(trained.model.args.hidden_units) == t.params["model.args.hidden_units.depth"]
        assert trained.train.steps == 60  # The command line's --config.* reach every trial.
    with open(os.path.join(workdir, "trials.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["trial"]) for r in rows] == [0, 1, 2, 3]
    assert all(r["state"] == "complete" and float(r["validation_loss"]) > 0 for r in rows)
    assert "validation_loss" in process.stdout and "trial 3 complete" in process.stdout
    with open(os.path.join(workdir, "sweep.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    best = load_config_file(os.path.join(workdir, "best_config.py"))
    assert best.train.learning_rate == pytest.approx(study.best_params["train.learning_rate"])
    assert "sweep_report" not in best.actions  # The best config runs without the study.
    hparams = _hparams_tags(
        os.path.join(workdir, "hparams", f"trial_{study.best_trial.number:04d}")
    )
    assert "_hparams_/session_start_info" in hparams and "validation/loss" in hparams
    assert "_hparams_/experiment" in _hparams_tags(os.path.join(workdir, "hparams"))
    # Rerun: the budget is spent, so no trial runs and the table is printed again.
    again = sweep(*args)
    assert again.returncode == 0 and "4 of 4 trials run or running" in again.stdout
    assert len(load(journal(workdir)).trials) == 4


def _hparams_tags(directory: str) -> set[str]:
    import tensorflow as tf

    tags = set()
    for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_pruning_stops_a_clearly_worse_trial_under_two_replicas(tmp_path):
    parameters = '{"train.learning_rate": space.log_range(1e-7, 1e-2)}'
    path = sweep_file(
        tmp_path,
        parameters=parameters,
        sampler="tpe",
        pruner="median",
        pruner_args='{"n_startup_trials": 1, "n_warmup_steps": 0}',
    )
    workdir = str(tmp_path / "sweep")
    args = [f"--sweep={path}", "--trials=0", f"--workdir={workdir}", "--strategy=mirrored"]
    args += [*QUICK, "--", "--num_cpu_devices=2"]
    assert sweep(*args).returncode == 0  # Creates the study; runs nothing.
    study = load(journal(workdir))
    study.enqueue_trial({"train.learning_rate": 3e-3})
    study.enqueue_trial({"train.learning_rate": 1e-7})  # Learns nothing: clearly worse.
    args[1] = "--trials=2"
    process = sweep(*args)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    good, slow = load(journal(workdir)).trials
    assert read_results(good.user_attrs[studies.TRIAL_DIR])["replicas"] == 2
    assert good.state == TrialState.COMPLETE
    assert slow.state == TrialState.PRUNED
    assert slow.value > good.value  # Its last reported validation loss.
    assert read_results(slow.user_attrs[studies.TRIAL_DIR])["step"] == 20  # Stopped at once.
    assert "pruned by the sweep at step 20" in slow.user_attrs["note"]


def test_a_grid_runs_each_point_under_two_workers_and_a_failing_trial_does_not_end_it(tmp_path):
    path = sweep_file(
        tmp_path,
        parameters='{"train.optimizer": space.choice(["adam", "no_such_optimizer"])}',
        sampler="grid",
    )
    workdir = str(tmp_path / "sweep")
    process = sweep(
        f"--sweep={path}", "--trials=5", f"--workdir={workdir}", "--workers_per_trial=2", *QUICK
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert "Every point of the grid has run." in process.stdout
    trials = load(journal(workdir)).trials
    assert len(trials) == 2  # The grid's two points, not the budget's five.
    (adam,) = [t for t in trials if t.params["train.optimizer"] == "adam"]
    (broken,) = [t for t in trials if t.params["train.optimizer"] == "no_such_optimizer"]
    assert adam.state == TrialState.COMPLETE
    assert read_results(adam.user_attrs[studies.TRIAL_DIR])["workers"] == 2
    assert broken.state == TrialState.FAIL
    assert "no_such_optimizer" in broken.user_attrs[studies.FAIL_REASON]
    assert f"trial {broken.number} failed" in process.stdout


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


@pytest.mark.parametrize("storage", ["journal", "postgresql"])
def test_two_sweep_processes_share_one_study_and_run_disjoint_trials(tmp_path, storage, request):
    workdir = str(tmp_path / "sweep")
    url = os.path.join(workdir, "shared.journal")
    if storage == "postgresql":
        url = request.getfixturevalue("postgres_url")
    args = [f"--sweep={sweep_file(tmp_path)}", "--trials=4", f"--workdir={workdir}", *QUICK]
    processes = [start_sweep(*args, f"--storage={url}") for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], "\n".join(o[-3000:] for o in outputs)
    ran = [
        {
            int(line.split()[1])
            for line in out.splitlines()
            if line.startswith("trial ") and " complete " in line
        }
        for out in outputs
    ]
    assert not ran[0] & ran[1], ran  # No trial ran twice...
    assert ran[0] | ran[1] == {0, 1, 2, 3}, ran  # ...and together they ran the budget.
    study = load(studies.open_storage(url))
    assert len(by_state(study, TrialState.COMPLETE)) == 4 == len(study.trials)


def _wait_for(process: subprocess.Popen, text: str, lines: list[str], timeout: float = 300):
    deadline = time.time() + timeout
    for line in process.stdout:
        lines.append(line)
        if text in line:
            return
        assert time.time() < deadline, "".join(lines)[-3000:]
    raise AssertionError(f"{text!r} never came:\n" + "".join(lines)[-3000:])


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_sweep_stopped_mid_trial_continues_with_no_trial_lost_or_repeated(tmp_path, how):
    """SIGTERM: the sweep stops its trial (saved), marks it and exits 42. SIGKILL: the trial
    gets SIGTERM from the kernel and saves; the restarted sweep finds its heartbeat stale.
    Either way the rerun resumes that trial from its checkpoint and runs the rest."""
    workdir = str(tmp_path / "sweep")
    long_run = [a for a in QUICK if "train.steps=" not in a and "eval.every" not in a]
    args = [
        f"--sweep={sweep_file(tmp_path)}",
        "--trials=2",
        f"--workdir={workdir}",
        "--heartbeat_s=0.5",
        *long_run,
        "--config.train.steps=6000",
        "--config.eval.every_steps=200",
        "--config.train.steps_per_loop=50",
        "--config.checkpoint.every_steps=6000",  # Only the save on SIGTERM can resume it.
    ]
    first, lines = start_sweep(*args), []
    _wait_for(first, "validation at step 200", lines)
    first.send_signal(getattr(signal, how))
    lines += first.communicate(timeout=120)[0]
    if how == "SIGTERM":
        assert first.returncode == 42, "".join(lines)[-3000:]
        assert "trial 0 interrupted" in "".join(lines)
    else:
        assert first.returncode == -signal.SIGKILL
        time.sleep(6.5)  # 3 heartbeats + 5 s: the restarted sweep takes the trial over.
    interrupted_dir = os.path.join(workdir, "trials", "0000")
    second = sweep(*args)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    study = load(journal(workdir))
    lost = study.trials[0]
    assert lost.state == TrialState.FAIL and lost.user_attrs[studies.INTERRUPTED]
    complete = by_state(study, TrialState.COMPLETE)
    assert len(complete) == 2  # The budget: trial 0's resumption and one new trial.
    resumed = [t for t in complete if t.user_attrs.get(studies.RESUMES) == 0]
    assert len(resumed) == 1 and resumed[0].params == lost.params
    assert resumed[0].user_attrs[studies.TRIAL_DIR] == interrupted_dir
    results = read_results(interrupted_dir)
    assert results["step"] == 6000 and 0 < results["steps_this_run"] < 6000  # From its checkpoint.
    others = [t for t in complete if t is not resumed[0]]
    assert others[0].params != lost.params


BAD_INPUTS = [
    (
        {"parameters": '{"train.learning_rat": space.log_range(1e-4, 1e-2)}'},
        ["config field train.learning_rat does not exist"],
    ),
    ({"parameters": '{"train.steps": space.int_range(100, 100)}'}, ["empty of choices"]),
    ({"parameters": '{"train.learning_rate": space.float_range(0.1, 0.01)}'}, ["reversed"]),
    ({"storage": "sqlite:////no/such/directory/study.db"}, ["cannot open the study storage"]),
    # Refused: maybe not ready yet, so exit 75, which a Kubernetes Job retries.
    ({"storage": "postgresql://me:secret@127.0.0.1:1/db", "exit": 75}, ["me:***@127.0.0.1"]),
    ({"sampler": "grid"}, ["no conditional fields"]),
    (
        {"sampler": "grid", "parameters": '{"train.learning_rate": space.log_range(1e-4, 1)}'},
        ["float_range(..., step=)"],
    ),
    ({"pruner": "median", "eval": 0}, ["eval.every_steps > 0"]),
]


def test_bad_input_is_one_line_before_any_trial(tmp_path):
    """Each case is a sweep process of its own; two run at a time (each mostly waits for its
    imports), to keep the suite short."""

    def one(case: int) -> None:
        change, fragments = BAD_INPUTS[case]
        root = tmp_path / f"case{case}"
        root.mkdir()
        path = sweep_file(
            root,
            parameters=change.get("parameters", SPACE),
            sampler=change.get("sampler", "random"),
            pruner=change.get("pruner", "none"),
        )
        workdir = str(root / "sweep")
        args = [f"--sweep={path}", "--trials=2", f"--workdir={workdir}", *QUICK]
        if "storage" in change:
            args.append(f"--storage={change['storage']}")
        if "eval" in change:
            args.append(f"--config.eval.every_steps={change['eval']}")
        line = assert_one_line_error(sweep(*args), *fragments, exit_code=change.get("exit", 2))
        assert "secret" not in line
        assert not os.path.exists(os.path.join(workdir, "trials"))

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(one, case) for case in range(len(BAD_INPUTS))]:
            future.result()  # Raises the first failed case's assertion.


def test_a_builder_argument_without_a_default_may_be_drawn_by_the_sweep(tmp_path):
    model = "--config.model.name=tests.support.plugins:mlp_of_width"
    drawn = '{"model.args.units": space.int_range(8, 16)}'
    done = sweep(
        *QUICK,
        model,
        f"--sweep={sweep_file(tmp_path, parameters=drawn)}",
        "--trials=1",
        f"--workdir={tmp_path / 'sweep'}",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    study = load(journal(str(tmp_path / "sweep")))
    (trial,) = by_state(study, TrialState.COMPLETE)
    assert 8 <= trial.params["model.args.units"] <= 16
    # Not drawn, and not set: one line before any trial, naming the field.
    undrawn = '{"train.learning_rate": space.log_range(1e-4, 1e-2)}'
    refused = sweep(
        *QUICK,
        model,
        f"--sweep={sweep_file(tmp_path, 'other', parameters=undrawn)}",
        f"--workdir={tmp_path / 'other'}",
    )
    assert_one_line_error(refused, "config.model.args.units")


def test_a_study_name_made_by_another_search_space_is_refused(tmp_path):
    workdir = str(tmp_path / "sweep")
    first = sweep_file(tmp_path, "first")
    other = sweep_file(
        tmp_path, "other", parameters='{"train.learning_rate": space.log_range(1e-5, 1e-1)}'
    )
    common = ["--trials=0", f"--workdir={workdir}", "--study=shared", *QUICK]
    assert sweep(f"--sweep={first}", *common).returncode == 0
    assert_one_line_error(
        sweep(f"--sweep={other}", *common), "study 'shared'", "different sweep (its space"
    )
    # A new study in the same workdir would resume the other study's trial directories.
    common[2] = "--study=new"
    assert_one_line_error(sweep(f"--sweep={other}", *common), "holds the trials of study 'shared'")
