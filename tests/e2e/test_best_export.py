"""The best export: replaced only by a better validation metric, across resumes too, written
whole before it replaces the previous one, and holding the averaged weights under EMA."""

import json

import numpy as np
import pytest
import tensorflow as tf

from configs import digits_mlp
from tests.support.helpers import assert_ok, read_results, read_scalars, train
from trainer.workdir.directory import Workdir


@pytest.mark.slow
def test_the_best_export_and_the_final_export_serve_the_averaged_weights(tmp_path):
    from trainer.run.experiment import build_experiment

    args = (
        "--config=configs/digits_mlp.py",
        f"--workdir={tmp_path}",
        "--config.train.steps=400",
        "--config.train.steps_per_loop=50",
        "--config.eval.every_steps=100",
        "--config.checkpoint.every_steps=100",
        "--config.train.ema_momentum=0.9",
        "--config.export.best_metric=loss",
    )
    assert_ok(train(*args))
    results = read_results(tmp_path)
    assert results["ema"]
    losses = dict(read_scalars(tmp_path / "eval")["loss"])
    best_step = min(losses, key=losses.get)
    best = json.loads((tmp_path / "export" / "best" / "best.json").read_text())
    assert best["step"] == best_step and best["metric"] == "loss"
    assert best["value"] == pytest.approx(losses[best_step], rel=1e-6)

    # The final export is the model with its averaged weights swapped in.
    config = digits_mlp.get_config()
    config.train.ema_momentum = 0.9
    experiment = build_experiment(
        config, strategy=tf.distribute.get_strategy(), workdir=Workdir(str(tmp_path), is_chief=True)
    )
    assert experiment.checkpointer.restore_latest() == 400
    features = experiment.source.sample_batch(batch_size=16)[0]
    raw = experiment.model(features, training=False).numpy()
    with experiment.averaged_weights.swapped_in():
        averaged = experiment.model(features, training=False).numpy()
    reloaded = tf.saved_model.load(str(tmp_path / "export" / "saved_model"))  # Kept alive.
    served = reloaded.serve(features).numpy()
    tolerance = results["export"]["allowed_diff"]
    np.testing.assert_allclose(served, averaged, atol=tolerance, rtol=0)
    assert np.max(np.abs(served - raw)) > 100 * tolerance  # Not the raw weights.
