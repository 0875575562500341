"""A user's project (tests/support/user_project.py: its own data source and a plain action that
logs each call) under 1 replica, 2 mirrored replicas and 2 workers: a global batch larger than
the train split, the final evaluation reaching the actions once, a resume with a changed model.

Its run: 25 steps in host loops of 10, evaluated every 10, so the last step's evaluation is the
final one, not one of the interval's."""

import io
import os

from launch.local import launch
from tests.support.helpers import REPO, assert_ok, assert_one_line_error, read_results, train
from tests.support.user_project import read_calls

CONFIG = "--config=tests/support/user_project.py"
EVALUATED = [10, 20, 25]


def _assert_each_evaluation_logged_once(workdir) -> list:
    """The action's calls: one per host loop, each with its step's validation, the final one
    (step 25) that of results.json; returns them."""
    calls = read_calls(workdir)
    assert [step for step, _ in calls] == EVALUATED, calls
    assert all(validation is not None for _, validation in calls), calls
    assert calls[-1][1] == read_results(workdir)["validation"]
    return calls


def test_a_global_batch_larger_than_the_train_split_is_one_line_before_training(tmp_path):
    process = train(CONFIG, f"--workdir={tmp_path}", "--config.train.global_batch_size=2048")
    assert_one_line_error(
        process,
        "config.train.global_batch_size=2048 is larger than the train split (1009 examples)",
        "set it to 1009 or less",
    )
    assert "start at step" not in process.stderr  # Failed before the resume, before training.
    assert not os.path.exists(tmp_path / "checkpoints")


def test_the_actions_see_the_final_evaluation_once_and_again_when_a_rerun_finds_it_done(
    tmp_path,
):
    assert_ok(train(CONFIG, f"--workdir={tmp_path}", "--progress=quiet"))
    calls = _assert_each_evaluation_logged_once(tmp_path)
    assert_ok(train(CONFIG, f"--workdir={tmp_path}", "--progress=quiet"))  # Nothing to train.
    assert read_calls(tmp_path) == [*calls, calls[-1]]  # The final validation, once more.


def test_two_mirrored_replicas_give_the_actions_the_final_evaluation(tmp_path):
    mirrored = ("--strategy=mirrored", "--num_cpu_devices=2")
    assert_ok(train(CONFIG, f"--workdir={tmp_path}", "--progress=quiet", *mirrored))
    _assert_each_evaluation_logged_once(tmp_path)


def test_under_two_workers_a_plain_action_writes_each_evaluation_once(tmp_path):
    output = io.StringIO()
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [CONFIG, f"--workdir={tmp_path}", "--progress=quiet"]
    assert launch(2, args, output=output, env=env) == 0, output.getvalue()[-3000:]
    assert read_results(tmp_path)["workers"] == 2
    _assert_each_evaluation_logged_once(tmp_path)  # Worker 1 wrote its lines to scratch.


def test_resuming_with_a_changed_model_names_the_change_and_nothing_follows(tmp_path):
    short = ("--progress=quiet", "--config.train.steps=5")
    assert_ok(train(CONFIG, f"--workdir={tmp_path}", *short))
    changed = train(
        CONFIG, f"--workdir={tmp_path}", *short, "--config.model.args.hidden_units=(32,)"
    )
    error = assert_one_line_error(
        changed,
        f"Checkpoint {tmp_path}/checkpoints/ckpt-5 does not fit this model and optimizer",
        f"changed since the run that wrote it ({tmp_path}/config.json)",
        "config.model.args.hidden_units is (32,), was (16,)",
        "Start a new --workdir",
        f"--config.model.init_from={tmp_path}/export/model.keras",
    )
    assert changed.stderr.rstrip("\n").splitlines()[-1] == error  # The last word.
    assert "Value in checkpoint could not be found" not in changed.stderr
