"""The user project in examples/my_project, run as a user would: its own model, data function,
action and config, under the default strategy, 2 mirrored replicas and 2 local workers; exact
evaluation of one checkpoint under all three; stop requests and failing actions."""

import io
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from launch.local import launch
from tests.support.helpers import (
    REPO,
    Cluster,
    assert_ok,
    assert_one_line_error,
    read_results,
    train,
)

pytestmark = pytest.mark.slow

CONFIG = "--config=examples/my_project/config.py"

MIRRORED_2 = ("--strategy=mirrored", "--num_cpu_devices=2")

CUSTOM_STEP = "--config.model.name=examples.my_project.models:CustomStepConvNet"

QUICK = ("--progress=quiet", "--config.train.steps=300", "--config.eval.every_steps=100")


def _assert_exports_reload(workdir: str) -> dict:
    """The .keras file (after importing the project's module) and the SavedModel agree."""
    import examples.my_project.models  # noqa: F401  Registers the project's subclass.
    from trainer.workdir.export import TOLERANCE, load_keras_model

    results = read_results(workdir)
    differences = results["export"]["max_abs_diff"]
    assert all(0 <= d <= results["export"]["allowed_diff"] for d in differences.values())
    images = np.random.default_rng(0).uniform(0, 1, (5, 8, 8, 1)).astype(np.float32)
    from_keras = load_keras_model(results["export"]["keras"])(images, training=False)
    saved_model = tf.saved_model.load(results["export"]["saved_model"])  # Keep it alive.
    from_saved_model = saved_model.serve(images)
    np.testing.assert_allclose(from_keras, from_saved_model, atol=TOLERANCE)
    return results


def test_the_example_trains_under_the_default_strategy_and_its_action_can_stop_it(tmp_path):
    workdir = str(tmp_path / "run")
    assert_ok(train(CONFIG, f"--workdir={workdir}", "--progress=quiet"))
    results = _assert_exports_reload(workdir)
    assert results["replicas"] == 1 and results["test"]["accuracy"] >= 0.9, results["test"]
    # The project's action stops once validation accuracy reaches its target.
    low_target = str(tmp_path / "stopped")
    process = train(
        CONFIG,
        f"--workdir={low_target}",
        "--progress=quiet",
        "--config.actions.stop_at_target.target=0.5",
    )
    assert_ok(process)
    stopped = read_results(low_target)
    assert stopped["step"] == 200 and "reached 0.5" in stopped["stop_reason"]
    assert stopped["validation"]["accuracy"] >= 0.5


def test_the_custom_step_subclass_trains_on_two_mirrored_replicas(tmp_path):
    workdir = str(tmp_path / "run")
    assert_ok(train(CONFIG, f"--workdir={workdir}", *MIRRORED_2, CUSTOM_STEP, *QUICK))
    results = _assert_exports_reload(workdir)
    assert results["replicas"] == 2 and results["step"] == 300
    assert set(results["test"]) == {"loss", "accuracy"} and results["test"]["accuracy"] > 0.8


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory):
    """A workdir trained 150 steps on one replica; its checkpoint is evaluated elsewhere."""
    workdir = str(tmp_path_factory.mktemp("trained") / "run")
    args = (CONFIG, "--progress=quiet", "--config.train.steps=150", "--config.export.keras=False")
    assert_ok(train(f"--workdir={workdir}", *args))
    return workdir, args


def _copy_checkpoints(source: str, workdir) -> str:
    shutil.copytree(os.path.join(source, "checkpoints"), os.path.join(workdir, "checkpoints"))
    return str(workdir)


@pytest.mark.parametrize("eval_batch", [64, 6])
def test_one_checkpoint_evaluates_the_same_on_1_replica_2_replicas_and_2_workers(
    trained_checkpoint, tmp_path, eval_batch
):
    """181 validation and 359 test examples divide neither by the batch nor by 2 replicas."""
    trained, args = trained_checkpoint
    batch = f"--config.eval.global_batch_size={eval_batch}"
    runs = {name: _copy_checkpoints(trained, tmp_path / name) for name in ("one", "two", "mwms")}
    assert_ok(train(f"--workdir={runs['one']}", *args, batch))
    assert_ok(train(f"--workdir={runs['two']}", *args, batch, *MIRRORED_2))
    cluster = Cluster([runs["mwms"], runs["mwms"]], *args, batch)  # One shared workdir.
    assert cluster.wait(timeout=300) == [0, 0], "".join(cluster.lines[0][-30:])
    results = {name: read_results(path) for name, path in runs.items()}
    assert [r["steps_this_run"] for r in results.values()] == [0, 0, 0]  # Evaluation only.
    assert results["mwms"]["workers"] == 2 and results["two"]["replicas"] == 2
    for split in ("validation", "test"):
        for name in ("two", "mwms"):
            for metric, value in results["one"][split].items():
                assert results[name][split][metric] == pytest.approx(value, abs=1e-6), (
                    split,
                    name,
                    metric,
                )
    _record_largest_difference(results, eval_batch)


def _record_largest_difference(results: dict, eval_batch: int) -> None:
    """Prints the largest difference (pytest -s shows it; the closing note quotes it)."""
    largest = max(
        abs(results[name][split][metric] - results["one"][split][metric])
        for name in ("two", "mwms")
        for split in ("validation", "test")
        for metric in results["one"][split]
    )
    print(json.dumps({"eval_batch": eval_batch, "largest_difference": largest}))


def _actions_config(tmp_path, actions: dict) -> str:
    """An experiment file that adds `actions` to the project's config."""
    path = tmp_path / "with_actions.py"
    path.write_text(
        "import ml_collections\n"
        "from examples.my_project import config as project\n\n\n"
        "def get_config():\n"
        "    config = project.get_config()\n"
        f"    config.actions = ml_collections.ConfigDict({actions!r})\n"
        "    return config\n"
    )
    return f"--config={path}"


def test_a_stop_asked_by_one_worker_stops_every_worker_at_the_same_step(tmp_path):
    config = _actions_config(
        tmp_path,
        {"stop": {"action": "tests.support.plugins:StopOnOneWorker", "at_step": 100}},
    )
    cluster = Cluster(
        [tmp_path / "chief", tmp_path / "worker1"],
        config,
        "--config.train.steps=400",
        "--config.eval.every_steps=0",
    )
    assert cluster.wait(timeout=300) == [0, 0], "".join(cluster.lines[0][-30:])
    results = read_results(tmp_path / "chief")
    assert results["step"] == 100 and results["stop_reason"] == "another worker asked to stop"
    assert cluster.logged_steps(0)[-1] == cluster.logged_steps(1)[-1] == 100


def test_an_action_that_raises_is_named_and_the_last_checkpoint_is_intact(tmp_path):
    config = _actions_config(
        tmp_path, {"boom": {"action": "tests.support.plugins:Explode", "at_step": 150}}
    )
    workdir = tmp_path / "run"
    process = train(
        config,
        f"--workdir={workdir}",
        "--config.checkpoint.every_steps=100",
        "--config.train.steps_per_loop=50",
    )
    assert_one_line_error(
        process,
        "Action 'boom' (tests.support.plugins:Explode) raised RuntimeError at step 150",
        "the user's action broke",
    )
    assert tf.train.latest_checkpoint(str(workdir / "checkpoints")).endswith("ckpt-100")


@pytest.mark.parametrize(
    "override, fragments",
    [
        (
            "--config.model.name=examples.my_project.modelz:convnet",
            ("cannot import module 'examples.my_project.modelz'", "No module named"),
        ),
        (
            "--config.model.name=examples.my_project.models:convnett",
            ("has nothing named 'convnett'",),
        ),
        (
            "--config.data.source=tests.support.plugins:flat_dataset",
            ("tests.support.plugins:flat_dataset", "expected unbatched"),
        ),
    ],
)
def test_a_bad_plug_in_is_one_line_and_exit_2(tmp_path, override, fragments):
    assert_one_line_error(train(CONFIG, f"--workdir={tmp_path / 'run'}", override), *fragments)


def test_the_recipe_trains_on_its_schedule_with_averaged_weights(tmp_path):
    workdir = str(tmp_path / "recipe")
    process = train(
        "--config=examples/my_project/recipe.py",
        f"--workdir={workdir}",
        "--progress=quiet",
        "--config.train.steps=120",  # Warmup 10 (a twelfth), cosine to 0 at step 120.
        "--config.eval.every_steps=60",
        "--config.checkpoint.every_steps=60",
    )
    assert_ok(process)
    results = read_results(workdir)
    assert results["ema"] and results["step"] == 120
    assert results["learning_rate"] == pytest.approx(0.0, abs=1e-9)
    _assert_exports_reload(workdir)


def test_the_example_trains_on_two_local_workers(tmp_path):
    workdir = str(tmp_path / "run")
    output = io.StringIO()
    code = launch(2, [CONFIG, f"--workdir={workdir}", *QUICK], output=output, env=_env_with_repo())
    assert code == 0, output.getvalue()[-3000:]
    results = _assert_exports_reload(workdir)
    assert (results["workers"], results["replicas"], results["step"]) == (2, 2, 300)


def _env_with_repo():
    return dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
