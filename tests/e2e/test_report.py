"""Learning curves from a real short run's event files."""

import json
import os

from tests.support.helpers import assert_ok, read_scalars, run_module, train

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == PNG_MAGIC and os.path.getsize(path) > 10_000


def test_every_run_draws_its_curves_and_report_compares_runs(tmp_path):
    first, second = str(tmp_path / "lr_high"), str(tmp_path / "lr_low")
    common = (
        "--config.train.steps=200",
        "--config.train.steps_per_loop=50",
        "--config.eval.every_steps=100",
        "--progress=json",
    )
    run = train(f"--workdir={first}", *common)
    assert_ok(run)
    records = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert [r["step"] for r in records] == [50, 100, 150, 200]
    assert {"loss", "accuracy", "examples_per_sec", "eta_s", "total_steps"} <= set(records[0])
    assert " step 50/200 " not in run.stderr  # JSON instead of the log line.
    assert _is_png(os.path.join(first, "learning_curves.png"))
    assert len(read_scalars(os.path.join(first, "eval"))["accuracy"]) == 2

    assert_ok(train(f"--workdir={second}", *common, "--config.train.learning_rate=1e-4"))
    out = str(tmp_path / "both.png")
    report = run_module("trainer.report", first, second, f"--out={out}")
    assert_ok(report)
    assert _is_png(out)


def test_report_refuses_a_directory_without_event_files(tmp_path):
    report = run_module("trainer.report", str(tmp_path), f"--out={tmp_path / 'x.png'}")
    assert report.returncode == 2
    assert "No TensorBoard event files" in report.stdout
    assert not os.path.exists(tmp_path / "x.png")
