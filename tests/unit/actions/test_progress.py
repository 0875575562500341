import json

import pytest

from trainer.actions.progress import Progress


def _progress(mode="line"):
    return Progress(start_step=0, total_steps=1000, global_batch_size=100, mode=mode)


def test_the_line_shows_step_metrics_throughput_and_eta():
    progress = _progress()
    progress.loop_done(steps=100, seconds=2.0)  # The first loop includes tracing.
    examples_per_sec = progress.loop_done(steps=100, seconds=0.5)
    line = progress.line(
        step=200, metrics={"loss": 0.25, "accuracy": 0.9}, examples_per_sec=examples_per_sec
    )
    assert line == "step 200/1000 (20%) | loss 0.2500 accuracy 0.9000 | 20,000 ex/s | ETA 0:00:04"
    assert progress.examples_per_sec == pytest.approx(20_000)  # Tracing excluded.


def test_json_mode_prints_one_object_per_loop(capsys):
    progress = _progress("json")
    progress.loop_done(steps=100, seconds=1.0)
    progress.report(step=100, metrics={"loss": 0.5}, examples_per_sec=10_000.0)
    record = json.loads(capsys.readouterr().out.strip())
    assert record == {
        "step": 100,
        "total_steps": 1000,
        "loss": 0.5,
        "examples_per_sec": 10_000.0,
        "eta_s": 9.0,
    }


def test_quiet_mode_prints_nothing(capsys):
    progress = _progress("quiet")
    progress.loop_done(steps=100, seconds=1.0)
    progress.report(step=100, metrics={"loss": 0.5}, examples_per_sec=10_000.0)
    captured = capsys.readouterr()
    assert captured.out == "" and "step 100" not in captured.err


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="use one of line, json, quiet"):
        _progress("verbose")
