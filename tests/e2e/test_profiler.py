"""The profiler action: a TensorBoard trace of the host loops in a window of steps, on CPU too,
and a window outside the run or reversed is one error line."""

import glob
import os

from tests.support.helpers import assert_ok, assert_one_line_error, read_results, train


def test_the_trace_of_the_window_is_written_where_tensorboard_reads_it(tmp_path):
    process = train(
        f"--workdir={tmp_path}",
        "--config.train.steps=60",
        "--config.train.steps_per_loop=25",  # Host loops also end at 20 and 40 for the window.
        "--config.train.profile_steps=20:40",
    )
    assert_ok(process)
    assert "step 20/60" in process.stderr and "step 40/60" in process.stderr
    traces = glob.glob(str(tmp_path / "profile" / "plugins" / "profile" / "*" / "*.xplane.pb"))
    assert len(traces) == 1 and os.path.getsize(traces[0]) > 10_000
    assert read_results(tmp_path)["profile"] == {
        "steps": [20, 40],
        "dir": str(tmp_path / "profile"),
    }


def test_a_bad_window_ends_the_run_before_training(tmp_path):
    assert_one_line_error(
        train(f"--workdir={tmp_path}", "--config.train.profile_steps=300:100"),
        "config.train.profile_steps='300:100'",
    )
    assert not (tmp_path / "checkpoints").exists()
