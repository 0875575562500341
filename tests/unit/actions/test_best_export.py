"""The best export: replaced only by a better validation metric, across resumes too, written
whole before it replaces the previous one, and holding the averaged weights under EMA."""

import pytest
import tensorflow as tf

from tests.support.helpers import run_state
from trainer.actions.best_export import ExportBest, read_best
from trainer.actions.monitor import Monitor
from trainer.workdir.directory import Workdir


class Unchanged:
    enabled = False

    def swapped_in(self):
        import contextlib

        return contextlib.nullcontext()


def _best(workdir, exports):
    def export(directory):
        path = workdir.path(directory)
        tf.io.gfile.makedirs(path)
        with open(f"{path}/model.txt", "w") as f:
            f.write(str(len(exports)))
        exports.append(directory)
        return {"keras": path}

    monitor = Monitor(
        metric="accuracy", mode="auto", field="config.export", metric_name="best_metric"
    )
    return ExportBest(monitor=monitor, export=export, workdir=workdir, averaged_weights=Unchanged())


def _validate(action, step, accuracy):
    action(run_state(step, validation={"accuracy": accuracy, "loss": 1 - accuracy}))


def test_only_a_better_metric_replaces_the_best_even_after_a_resume(tmp_path):
    workdir, exports = Workdir(str(tmp_path), is_chief=True), []
    action = _best(workdir, exports)
    for step, accuracy in [(10, 0.5), (20, 0.7), (30, 0.6)]:
        _validate(action, step, accuracy)
    assert read_best(workdir)["step"] == 20 and len(exports) == 2
    resumed = _best(workdir, exports)  # A new run on the same workdir.
    _validate(resumed, 40, 0.65)
    assert read_best(workdir)["step"] == 20 and len(exports) == 2
    _validate(resumed, 50, 0.8)
    best = read_best(workdir)
    assert best["step"] == 50 and best["value"] == pytest.approx(0.8)
    assert (tmp_path / "export" / "best" / "model.txt").read_text() == "2"
    assert not (tmp_path / "export" / "best.partial").exists()


@pytest.mark.parametrize("stopped_after", ["rename of best to best.previous", "the swap"])
def test_a_run_stopped_during_the_swap_keeps_a_best_export(tmp_path, stopped_after):
    workdir, exports = Workdir(str(tmp_path), is_chief=True), []
    _validate(_best(workdir, exports), 10, 0.5)
    best, previous = tmp_path / "export" / "best", tmp_path / "export" / "best.previous"
    if stopped_after == "the swap":  # best/ holds the new export, best.previous the old one.
        previous.mkdir()
        (previous / "best.json").write_text('{"step": 1, "value": 0.1, "metric": "accuracy"}')
    else:  # Only best.previous holds an export.
        best.rename(previous)
    resumed = _best(workdir, exports)
    assert resumed.best["step"] == 10 and read_best(workdir)["step"] == 10
    _validate(resumed, 20, 0.6)
    assert read_best(workdir)["step"] == 20 and not previous.exists()
