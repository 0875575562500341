"""A user's `keras.Model` subclasses that are not registered with Keras (tests/support/
subclass_models.py) train to the end and export under 1 replica, 2 mirrored replicas and 2
workers: exit 0, results.json saying what was exported and why not, a SavedModel that serves
what the model predicts, the warning once per process, and no empty, temporary or stale file."""

import os

import numpy as np
import tensorflow as tf

from tests.support.helpers import assert_ok, read_results, run_module, train
from tests.support.subclass_models import ConfigOnly

MODELS = "tests.support.subclass_models"
WARNING = "register_keras_serializable"  # In the one warning line, and nowhere else.
SHORT = ("--progress=quiet", "--config.train.steps=25", "--config.train.steps_per_loop=10")


def _model(name: str) -> str:
    return f"--config.model.name={MODELS}:{name}"


def _digits() -> np.ndarray:
    from trainer.data.sources import DigitsSource

    source = DigitsSource(validation_examples=180, test_examples=360, split_seed=0)
    return source.sample_batch(batch_size=7)[0]


def _assert_whole(workdir) -> None:
    """No temporary file, no empty file, anywhere under the workdir."""
    files = [os.path.join(top, name) for top, _, names in os.walk(workdir) for name in names]
    assert files and not [f for f in files if "tmp" in os.path.basename(f)], files
    assert not [f for f in files if os.path.getsize(f) == 0], files


def _warnings(text: str) -> list[str]:
    return [line for line in text.splitlines() if WARNING in line]


def test_an_unregistered_model_with_get_config_exports_both_and_a_rerun_leaves_no_stale_file(
    tmp_path,
):
    workdir = tmp_path / "run"
    first = train(f"--workdir={workdir}", _model("ConfigOnly"), *SHORT)
    assert_ok(first)
    (warning,) = _warnings(first.stderr)
    assert "Model class ConfigOnly" in warning and "custom_objects={'ConfigOnly'" in warning
    export = read_results(workdir)["export"]
    assert export["keras_custom_objects"] == ["ConfigOnly"] and "skipped" not in export
    assert set(export["max_abs_diff"]) == {"keras", "saved_model"}
    from trainer.workdir.export import load_keras_model

    features = _digits()
    reloaded = load_keras_model(export["keras"], custom_objects={"ConfigOnly": ConfigOnly})
    saved_model = tf.saved_model.load(export["saved_model"])  # Alive while it serves.
    np.testing.assert_allclose(
        saved_model.serve(features), reloaded(features), rtol=0, atol=export["allowed_diff"]
    )
    _assert_whole(workdir)

    # The same workdir, trained on without a .keras export: the earlier run's file goes.
    rerun = train(
        f"--workdir={workdir}", _model("ConfigOnly"), *SHORT, "--config.export.keras=False"
    )
    assert_ok(rerun)
    assert _warnings(rerun.stderr) == []
    assert "Deleted" in rerun.stderr and not (workdir / "export" / "model.keras").exists()
    export = read_results(workdir)["export"]
    assert export["skipped"] == {"keras": "config.export.keras=False"} and "keras" not in export
    _assert_whole(workdir)


def test_a_model_keras_cannot_rebuild_exports_its_saved_model_on_two_replicas(tmp_path):
    from trainer.run.experiment import build_experiment
    from trainer.workdir.directory import Workdir

    args = (_model("NoConfig"), "--config.eval.every_steps=10", "--config.export.best_metric=loss")
    process = train(
        f"--workdir={tmp_path}", "--strategy=mirrored", "--num_cpu_devices=2", *args, *SHORT
    )
    assert_ok(process)
    (warning,) = _warnings(process.stderr)
    assert warning.split(" ", 2)[2].startswith(f"Model class NoConfig ({MODELS}) cannot be saved")
    results = read_results(tmp_path)
    export = results["export"]
    assert results["replicas"] == 2 and "keras" not in export
    assert export["skipped"]["keras"].startswith("Keras cannot rebuild NoConfig")
    assert sorted(os.listdir(tmp_path / "export")) == ["best", "saved_model"]
    assert sorted(os.listdir(tmp_path / "export" / "best")) == ["best.json", "saved_model"]
    _assert_whole(tmp_path)
    # What the SavedModel serves is what the checkpoint's model predicts.
    config = _config("NoConfig")
    experiment = build_experiment(
        config, strategy=tf.distribute.get_strategy(), workdir=Workdir(str(tmp_path), is_chief=True)
    )
    assert experiment.checkpointer.restore_latest() == 25
    features = _digits()
    saved_model = tf.saved_model.load(export["saved_model"])
    np.testing.assert_allclose(
        saved_model.serve(features),
        experiment.model(features, training=False),
        rtol=0,
        atol=export["allowed_diff"],
    )


def _config(name: str):
    from configs import base

    return base.get_config(model=f"{MODELS}:{name}", data="digits")


def test_two_workers_each_warn_once_and_the_chief_exports_the_saved_model(tmp_path):
    process = run_module(
        "launch.local", "--workers=2", "--", f"--workdir={tmp_path}", _model("NoConfig"), *SHORT
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    output = process.stdout + process.stderr
    for worker in (0, 1):
        lines = [line for line in _warnings(output) if line.startswith(f"[worker {worker}]")]
        assert len(lines) == 1 and "Model class NoConfig" in lines[0], lines
    results = read_results(tmp_path)
    assert (results["workers"], results["replicas"]) == (2, 2)
    assert "keras" in results["export"]["skipped"]
    assert results["export"]["max_abs_diff"]["saved_model"] <= results["export"]["allowed_diff"]
    assert sorted(os.listdir(tmp_path / "export")) == ["saved_model"]
    saved_model = tf.saved_model.load(str(tmp_path / "export" / "saved_model"))
    served = saved_model.serve(_digits()).numpy()
    assert served.shape == (7, 10)
    np.testing.assert_allclose(
        served.sum(axis=1), 1.0, rtol=0, atol=results["export"]["allowed_diff"]
    )
    _assert_whole(tmp_path)
