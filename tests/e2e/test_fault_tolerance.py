"""Preemption, hard failure and numerical equivalence, with real worker processes on loopback."""

import json
import os
import signal
import sys
import time

import numpy as np
import tensorflow as tf

from tests.support.gce_stand_in import MetadataServer
from tests.support.helpers import Cluster, act_on_lines, assert_ok, read_results, train

LONG_RUN = (
    "--config.train.steps=2000",
    "--config.train.steps_per_loop=50",
    "--config.checkpoint.every_steps=200",
    "--config.eval.every_steps=0",
    "--config.export.saved_model=False",
)


def _latest_checkpoint_step(workdir) -> int:
    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    return int(path.rsplit("-", 1)[1])


# GKE Spot nodes give pods 15-30 s between SIGTERM and SIGKILL.
SHORTEST_GRACE_S = 15


def test_sigterm_on_gcp_saves_on_every_worker_at_the_same_step_and_a_relaunch_finishes(workdir):
    # Where a GCE metadata server answers, TensorFlow's own handler ignores SIGTERM
    # (trainer/cloud/preemption.py):
    # each worker sees a stand-in one, as on a GKE node.
    metadata = MetadataServer()
    cluster = Cluster([workdir, workdir], *LONG_RUN, env=metadata.environment)
    cluster.wait_for(0, "ckpt-200")
    signalled = time.monotonic()
    cluster.processes[1].send_signal(signal.SIGTERM)  # Kubernetes evicts one pod.
    assert cluster.processes[1].wait(timeout=120) == 42
    seconds_to_exit = time.monotonic() - signalled
    assert cluster.wait() == [42, 42]
    metadata.close()
    print(f"SIGTERM to exit 42 on a 'GCP' worker: {seconds_to_exit:.1f} s")
    assert seconds_to_exit < SHORTEST_GRACE_S
    assert "/computeMetadata/v1/instance/maintenance-event" in metadata.requests  # It watched.
    saved = _latest_checkpoint_step(workdir)
    assert 200 < saved < 2000
    for worker in (0, 1):  # Both saved at the same step, and nothing trained is lost.
        assert any(f"saved a checkpoint at step {saved}" in line for line in cluster.lines[worker])
        assert max(cluster.logged_steps(worker)) == saved

    relaunch = Cluster([workdir, workdir], *LONG_RUN)
    assert relaunch.wait() == [0, 0], "".join(relaunch.lines[0][-30:])
    results = read_results(workdir)
    assert results["step"] == 2000 and results["steps_this_run"] == 2000 - saved
    assert any(f"resuming at step {saved}" in line for line in relaunch.lines[1])


def test_a_gce_maintenance_notice_saves_and_exits_44_and_a_live_migration_does_not(workdir):
    metadata = MetadataServer({"instance/maintenance-event": "MIGRATE_ON_HOST_MAINTENANCE"})
    # One process runs about 10,000 steps a second: long enough for the 1 s polls.
    steps = ("--config.train.steps=1000000", *LONG_RUN[1:])

    def announce_maintenance_after_a_checkpoint(process, line):
        if "ckpt-400" in line:  # Trained on through the live migration notice.
            metadata.values["instance/maintenance-event"] = "TERMINATE_ON_HOST_MAINTENANCE"

    code, lines = act_on_lines(
        [sys.executable, "-m", "trainer.main", f"--workdir={workdir}", *steps],
        announce_maintenance_after_a_checkpoint,
        env=dict(os.environ, **metadata.environment),
    )
    assert code == 44, "".join(lines[-20:])  # This host is going away, not only this process.
    metadata.close()
    saved = _latest_checkpoint_step(workdir)
    assert 400 < saved < 1000000
    notices = [line for line in lines if "Preempted (" in line]
    assert len(notices) == 1 and "maintenance event (TERMINATE_ON_HOST_MAINTENANCE)" in notices[0]
    assert f"saved a checkpoint at step {saved}" in notices[0]
    assert "Exiting with code 44: this host is going away" in notices[0]


def test_sigterm_before_training_starts_exits_42_at_once(workdir):
    process = train(
        f"--workdir={workdir}",
        "--config.data.source=tests.support.plugins:SigtermWhileLoading",
        *LONG_RUN,
    )
    assert process.returncode == 42, process.stderr[-3000:]
    assert "Termination notice (SIGTERM): exiting now, nothing to save" in process.stderr
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")) is None


def test_sigkill_makes_the_survivor_fail_fast_naming_the_lost_worker(workdir):
    cluster = Cluster([workdir, workdir], *LONG_RUN)
    cluster.wait_for(0, "ckpt-200")
    killed_at = time.monotonic()
    cluster.processes[1].send_signal(signal.SIGKILL)
    survivor_code = cluster.processes[0].wait(timeout=120)
    waited = time.monotonic() - killed_at
    cluster.wait()
    assert survivor_code == 43
    errors = [line for line in cluster.lines[0] if line.startswith("error: ")]
    assert len(errors) == 1 and "lost contact with worker 1" in errors[0], errors
    assert waited < 60  # The coordination service's heartbeat timeout, about 10 s.

    restart_step = _latest_checkpoint_step(workdir)
    redone = max(cluster.logged_steps(0)) - restart_step
    assert 0 <= redone <= 200 + 50  # At most one checkpoint interval (plus the loop in flight).
    relaunch = Cluster([workdir, workdir], *LONG_RUN)
    assert relaunch.wait() == [0, 0], "".join(relaunch.lines[0][-30:])
    assert read_results(workdir)["step"] == 2000


TINY_RUN = (
    "--config.train.steps=20",
    "--config.train.steps_per_loop=10",
    "--config.eval.every_steps=0",
    "--config.export.keras=False",
    "--config.export.saved_model=False",
)


def test_a_restart_budget_counted_in_the_workdir_refuses_the_start_one_too_many(workdir):
    # What a TFJob's chief gets: TFJob does not count its restarts, the workdir does.
    budget = {"TRAINER_RESTART_BUDGET": "1"}
    assert_ok(train(f"--workdir={workdir}", *TINY_RUN, env=budget))
    # A rerun of a completed run counts too.
    assert_ok(train(f"--workdir={workdir}", *TINY_RUN, env=budget))
    refused = train(f"--workdir={workdir}", *TINY_RUN, env=budget)
    assert refused.returncode == 2, refused.stderr[-3000:]
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    path = os.path.join(workdir, "restarts.json")
    assert len(errors) == 1, refused.stderr[-3000:]
    assert "$TRAINER_RESTART_BUDGET=1 allows 1 restart after the first start" in errors[0]
    assert f"{path} records 2 starts" in errors[0]
    assert "raise --retries" in errors[0] and f"delete {path}" in errors[0]
    with open(path) as f:
        assert len(json.load(f)) == 2  # The refused start is not recorded.


EQUIVALENCE_RUN = (
    "--config.train.steps=30",
    "--config.train.steps_per_loop=10",
    "--config.checkpoint.every_steps=10",
    "--config.train.optimizer=sgd",
    "--config.train.learning_rate=0.1",
    "--config.train.global_batch_size=64",
    "--config.eval.every_steps=0",
    "--config.export.keras=False",
    "--config.export.saved_model=False",
)

# float32 has a 1.2e-7 relative precision. Two replicas sum two half-batch gradient means where one
# replica takes one full-batch mean, so each step's update differs by a few ulps (about 1e-8 on
# weights of size 0.3); 30 steps measured 4.5e-8. 1e-6 leaves room for that rounding to grow,
# and stays far below what a wrong batch, a missed all-reduce or a doubled step would cause (>1e-3).
TOLERANCE = 1e-6


def _weights(workdir, step):
    reader = tf.train.load_checkpoint(os.path.join(workdir, "checkpoints", f"ckpt-{step}"))
    keys = [
        k
        for k in reader.get_variable_to_shape_map()
        if k.startswith("optimizer/_trainable_variables/")
    ]
    return {k: reader.get_tensor(k) for k in keys}


def _largest_difference(a, b):
    assert sorted(a) == sorted(b) and a
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def test_one_replica_two_replicas_and_two_workers_learn_the_same_weights(tmp_path):
    one, mirrored, workers = (str(tmp_path / name) for name in ("one", "mirrored", "workers"))
    assert_ok(train(f"--workdir={one}", "--strategy=default", *EQUIVALENCE_RUN))
    assert_ok(
        train(
            f"--workdir={mirrored}", "--strategy=mirrored", "--num_cpu_devices=2", *EQUIVALENCE_RUN
        )
    )
    cluster = Cluster([workers, workers], *EQUIVALENCE_RUN)
    assert cluster.wait() == [0, 0], "".join(cluster.lines[0][-30:])
    assert read_results(workers)["replicas"] == 2 and read_results(mirrored)["replicas"] == 2

    reference = _weights(one, 30)
    assert _largest_difference(reference, _weights(one, 10)) > 1e-3  # Training moved them.
    assert _largest_difference(reference, _weights(mirrored, 30)) < TOLERANCE
    assert _largest_difference(reference, _weights(workers, 30)) < TOLERANCE


def test_two_workers_accumulating_four_micro_batches_learn_one_replicas_weights(tmp_path):
    # Each optimizer step: 4 micro-batches of 16 (8 per worker) hold the 64 examples one replica
    # takes in one batch, in the same order; the mean of their gradients is its gradient.
    one, workers = str(tmp_path / "one"), str(tmp_path / "workers")
    assert_ok(train(f"--workdir={one}", "--strategy=default", *EQUIVALENCE_RUN))
    cluster = Cluster([workers, workers], *EQUIVALENCE_RUN, "--config.train.accumulation_steps=4")
    assert cluster.wait() == [0, 0], "".join(cluster.lines[0][-30:])
    assert read_results(workers)["step"] == 30
    assert _largest_difference(_weights(one, 30), _weights(workers, 30)) < TOLERANCE
