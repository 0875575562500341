"""Early stopping: patience counted in evaluations, min_delta, state kept by the checkpoint, every
worker stopping at the same step, and results.json saying where and on what."""

import pytest

from tests.support.helpers import Cluster, assert_ok, read_results, train


@pytest.mark.slow
def test_two_workers_stop_at_the_same_step_and_results_say_why(tmp_path):
    args = (
        "--config=configs/digits_mlp.py",
        "--config.train.steps=3000",
        "--config.train.steps_per_loop=50",
        "--config.eval.every_steps=100",
        "--config.checkpoint.every_steps=500",
        "--config.early_stopping.monitor=loss",
        "--config.early_stopping.patience=2",
    )
    cluster = Cluster([tmp_path / "chief", tmp_path / "worker1"], *args)
    assert cluster.wait(timeout=300) == [0, 0], "".join(cluster.lines[0][-30:])
    results = read_results(tmp_path / "chief")
    stopped = results["early_stopping"]
    assert stopped["stopped"] and results["step"] == stopped["step"] < 3000
    assert results["stop_reason"].startswith("early stopping: validation loss (min)")
    assert cluster.logged_steps(0)[-1] == cluster.logged_steps(1)[-1] == results["step"]
    assert stopped["step"] - stopped["best_step"] == 2 * 100  # Two evaluations after the best.


def test_a_monitored_metric_the_model_does_not_report_is_named(tmp_path):
    from tests.support.helpers import assert_one_line_error

    process = train(
        f"--workdir={tmp_path}",
        "--config.train.steps=10",
        "--config.eval.every_steps=5",
        "--config.early_stopping.monitor=val_accuracy",
    )
    assert_one_line_error(
        process,
        "config.early_stopping.monitor='val_accuracy' is not a metric of this model",
        "['accuracy', 'loss']",
    )
    assert_ok(train(f"--workdir={tmp_path}", "--config.train.steps=10"))  # Nothing was saved.
