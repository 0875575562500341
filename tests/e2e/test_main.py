"""Real runs of `python -m trainer.main` in subprocesses: training, resume, export, bad input."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.support.helpers import (
    REPO,
    assert_ok,
    assert_one_line_error,
    read_results,
    read_scalars,
    train,
)

MIRRORED_2 = ("--strategy=mirrored", "--num_cpu_devices=2")


def test_mirrored_two_replicas_learns_digits_and_writes_the_workdir(workdir):
    process = train(
        *MIRRORED_2,
        f"--workdir={workdir}",
        "--config.train.steps=1000",
        "--config.eval.every_steps=500",
        "--config.checkpoint.every_steps=500",
    )
    assert_ok(process)
    results = read_results(workdir)
    assert results["strategy"] == "mirrored" and results["replicas"] == 2
    assert results["step"] == 1000 and results["precision"] == "float32"
    assert results["test"]["accuracy"] >= 0.95, results["test"]
    assert set(results["validation"]) == {"loss", "accuracy"}
    assert results["examples_per_sec"] > 0
    assert "step 1000/1000 (100%)" in process.stderr  # The progress line.

    checkpoints = os.listdir(os.path.join(workdir, "checkpoints"))
    assert {"ckpt-500.index", "ckpt-1000.index"} <= set(checkpoints)
    assert os.path.isfile(os.path.join(workdir, "config.json"))
    train_scalars = read_scalars(os.path.join(workdir, "train"))
    assert [step for step, _ in train_scalars["loss"]] == list(range(100, 1001, 100))
    assert train_scalars["loss"][-1][1] < train_scalars["loss"][0][1]
    eval_scalars = read_scalars(os.path.join(workdir, "eval"))
    assert [step for step, _ in eval_scalars["accuracy"]] == [500, 1000]
    assert eval_scalars["accuracy"][-1][1] == pytest.approx(results["validation"]["accuracy"])

    # The exported .keras file and SavedModel predict what the trained model predicted.
    check = subprocess.run(
        [sys.executable, "-c", _COMPARE_EXPORTS, workdir],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr[-3000:]
    accuracy = float(check.stdout.split()[-1])
    assert accuracy == pytest.approx(results["test"]["accuracy"], abs=1e-6)


_COMPARE_EXPORTS = """
import sys, numpy as np, tensorflow as tf, keras
from trainer.data.sources import DigitsSource
workdir = sys.argv[1]
x, y = DigitsSource(validation_examples=180, test_examples=360, split_seed=0)._splits["test"]
from_keras = keras.saving.load_model(workdir + "/export/model.keras").predict(x, verbose=0)
saved_model = tf.saved_model.load(workdir + "/export/saved_model")
from_saved_model = saved_model.serve(x).numpy()
np.testing.assert_allclose(from_keras, from_saved_model, atol=1e-5)
print((from_keras.argmax(1) == y).mean())
"""


def test_a_killed_run_resumes_and_ends_at_exactly_train_steps(workdir):
    args = (
        "--config.train.steps=3000",
        "--config.train.steps_per_loop=50",
        "--config.checkpoint.every_steps=100",
        "--config.eval.every_steps=0",
        f"--workdir={workdir}",
    )
    first = subprocess.Popen(
        [sys.executable, "-m", "trainer.main", *args], cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    for line in first.stderr:
        if "Saved checkpoint" in line and "ckpt-200" in line:
            first.send_signal(signal.SIGKILL)  # Preempted without warning.
            break
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    saved = sorted(
        int(f.split("-")[1].split(".")[0])
        for f in os.listdir(os.path.join(workdir, "checkpoints"))
        if f.endswith(".index")
    )
    resumed_at = saved[-1]
    assert 200 <= resumed_at < 3000 and resumed_at % 100 == 0

    second = train(*args)
    assert_ok(second)
    assert f"resuming at step {resumed_at}" in second.stderr
    results = read_results(workdir)
    assert results["step"] == 3000
    assert results["steps_this_run"] == 3000 - resumed_at  # Counter continued, not restarted.
    steps = [step for step, _ in read_scalars(os.path.join(workdir, "train"))["loss"]]
    assert steps[-1] == 3000 and resumed_at + 50 in steps

    again = train(*args)  # A finished run: nothing to train, same results.
    assert_ok(again)
    assert read_results(workdir)["steps_this_run"] == 0


def test_the_same_seed_gives_the_same_loss_curve(tmp_path):
    curves = []
    for name in ("a", "b"):
        workdir = str(tmp_path / name)
        assert_ok(
            train(
                f"--workdir={workdir}",
                "--config.train.steps=200",
                "--config.train.steps_per_loop=25",
                "--config.model.args.dropout=0.2",
            )
        )
        curves.append(read_scalars(os.path.join(workdir, "train"))["loss"])
    assert len(curves[0]) == 8
    assert curves[0] == curves[1]


def test_mixed_bfloat16_trains(workdir):
    assert_ok(
        train(
            f"--workdir={workdir}",
            "--config.precision=mixed_bfloat16",
            "--config.train.steps=100",
            "--config.export.saved_model=False",
        )
    )
    results = read_results(workdir)
    assert results["precision"] == "mixed_bfloat16"
    assert np.isfinite(results["train"]["loss"]) and results["test"]["accuracy"] > 0.5


def test_a_ram_workdir_works_end_to_end():
    # ram:// stands in for gs://: any os.path or open() on the workdir would fail here.
    assert_ok(
        train(
            "--workdir=ram://run", "--config.train.steps=50", "--config.checkpoint.every_steps=25"
        )
    )


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(workdir):
    sgd = (
        "--config.train.optimizer=sgd",
        "--config.train.steps_per_loop=50",
        f"--workdir={workdir}",
    )
    assert_ok(train(*sgd, "--config.train.steps=100", "--config.train.learning_rate=0.01"))
    diverging = train(*sgd, "--config.train.steps=300", "--config.train.learning_rate=1e12")
    assert_one_line_error(
        diverging, "loss became nan in steps 101..150", "last good checkpoint (step 100)"
    )
    with open(os.path.join(workdir, "checkpoints", "checkpoint")) as f:
        assert f.readline().strip() == 'model_checkpoint_path: "ckpt-100"'


@pytest.mark.parametrize(
    "args, fragments",
    [
        (
            ("--config.model.name=resnet",),
            ("Unknown config.model.name='resnet'", "deep_selu, mlp, siamese, text_lstm"),
        ),
        (("--config.data.source=imagenet",), ("Unknown config.data.source='imagenet'",)),
        (("--config=configs/nope.py",), ("config file configs/nope.py does not exist",)),
        (("--config.train.stepz=5",), ("stepz", 'Did you mean "steps"')),
        (("--config.train.steps=many",), ("--config.train.steps=many", "invalid literal")),
        (("--strategy=horovod",), ("--strategy=horovod", "auto|default|one_device")),
        (
            (*MIRRORED_2, "--config.train.global_batch_size=127"),
            ("global_batch_size=127", "2 replicas"),
        ),
        (("--config.train.loss=hinge_loss_x",), ("config.train.loss='hinge_loss_x'",)),
        (("--config.train.optimizer=adamz",), ("config.train.optimizer='adamz'",)),
        (("--config.precision=float8",), ("Unknown precision 'float8'",)),
    ],
)
def test_bad_input_is_one_line_and_exit_2(workdir, args, fragments):
    assert_one_line_error(train(f"--workdir={workdir}", *args), *fragments)


def test_a_config_file_without_get_config_is_named(tmp_path, workdir):
    path = tmp_path / "empty.py"
    path.write_text("LEARNING_RATE = 0.1\n")
    assert_one_line_error(
        train(f"--config={path}", f"--workdir={workdir}"),
        f"config file {path} does not define get_config()",
    )


def test_an_unwritable_workdir_is_named(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    assert_one_line_error(
        train(f"--workdir={blocker}/run"), f"Cannot write to workdir '{blocker}/run'"
    )


def test_the_default_command_needs_no_flags(tmp_path):
    began = time.monotonic()
    process = train("--config.train.steps=20", env={"TMPDIR": str(tmp_path)})
    assert_ok(process)
    results = read_results(tmp_path / "trainer" / "digits_mlp")
    assert results["config"] == "digits_mlp" and results["step"] == 20
    assert time.monotonic() - began < 120


def test_the_console_script_is_the_same_command(workdir):
    """`trainer` (pyproject.toml's console script, installed by pip beside the interpreter)."""
    script = os.path.join(os.path.dirname(sys.executable), "trainer")
    if not os.path.isfile(script):
        pytest.skip("the project is not pip-installed in this environment")
    process = subprocess.run(
        [script, f"--workdir={workdir}", "--config.train.stepz=5"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_line_error(process, "stepz")
