"""Real MultiWorkerMirrored runs: processes on loopback, started by hand and by the launcher."""

import io
import os

from launch.local import launch
from tests.helpers import REPO, Cluster, read_results

SHORT_RUN = (
    "--config.train.steps=200",
    "--config.train.steps_per_loop=50",
    "--config.eval.every_steps=100",
    "--config.checkpoint.every_steps=100",
)


def test_two_workers_train_together_and_only_the_chief_writes(tmp_path):
    chief_dir, other_dir = tmp_path / "chief", tmp_path / "worker1"
    # Each worker is told a different workdir, so anything worker 1 wrote would show.
    cluster = Cluster([chief_dir, other_dir], *SHORT_RUN)
    assert cluster.wait(timeout=300) == [0, 0], "".join(cluster.lines[0][-30:])
    errors = ["".join(lines) for lines in cluster.lines]

    results = read_results(chief_dir)
    assert results["strategy"] == "multi_worker_mirrored"
    assert (results["workers"], results["replicas"], results["step"]) == (2, 2, 200)
    assert {"checkpoints", "train", "eval", "export", "config.json", "results.json"} <= set(
        os.listdir(chief_dir)
    )
    assert not other_dir.exists()
    assert "resuming" not in errors[1] and "step 200/200" in errors[1]  # It trained too.


def test_the_launcher_prefixes_output_and_succeeds(tmp_path):
    output = io.StringIO()
    code = launch(
        2,
        [f"--workdir={tmp_path / 'run'}", *SHORT_RUN],
        output=output,
        env=_env_with_repo_on_path(),
    )
    lines = output.getvalue().splitlines()
    assert code == 0, "\n".join(lines[-40:])
    assert any(line.startswith("[worker 0] ") and "step 200/200" in line for line in lines)
    assert any(line.startswith("[worker 1] ") and "step 200/200" in line for line in lines)
    assert read_results(tmp_path / "run")["workers"] == 2


def test_the_launcher_fails_when_a_worker_fails(tmp_path):
    output = io.StringIO()
    code = launch(
        2,
        [f"--workdir={tmp_path / 'run'}", "--config.train.global_batch_size=3"],
        output=output,
        env=_env_with_repo_on_path(),
        grace_s=10,
    )
    text = output.getvalue()
    assert code == 2, text[-3000:]
    assert "[launcher] worker" in text and "exited with code 2" in text
    assert "global_batch_size=3 does not divide by the 2 replicas" in text


def _env_with_repo_on_path():
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    )
