"""launch.local: real MultiWorkerMirrored runs on loopback, real signals to the launcher, and a
TensorFlow-free stand-in worker (tests/support/local_stand_in.py) for its exit codes, restarts and
grace period."""

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from launch.local import launch
from launch.workers import free_ports
from tests.support.gce_stand_in import MetadataServer
from tests.support.helpers import REPO, Cluster, read_results

SHORT_RUN = (
    "--config.train.steps=200",
    "--config.train.steps_per_loop=50",
    "--config.eval.every_steps=100",
    "--config.checkpoint.every_steps=100",
)

# About 6 s of training with 2 workers on 2 CPU cores, after about 6 s of start-up: signals
# sent once ckpt-100 is written land mid-run.
STEPS = 600

SIGNAL_RUN = (
    f"--config.train.steps={STEPS}",
    "--config.train.steps_per_loop=20",
    "--config.checkpoint.every_steps=100",
    "--config.eval.every_steps=0",
    "--config.export.keras=False",
    "--config.export.saved_model=False",
)

STAND_IN = "tests.support.local_stand_in"


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


@pytest.mark.slow
def test_sigterm_to_the_launcher_saves_on_every_worker_and_the_same_command_resumes(workdir):
    args = ("--workers=2", "--", f"--workdir={workdir}", *SIGNAL_RUN)
    launcher = Launcher(*args)
    launcher.wait_for("ckpt-100")
    run = _descendants(launcher.pid)
    workers = _worker_pids(launcher.lines)[0]
    assert set(workers) <= set(run)
    for pid in workers:  # Each in a session of its own: a terminal's Ctrl-C misses them.
        assert os.getsid(pid) == os.getpgid(pid) == pid != os.getpgid(launcher.pid)
    launcher.process.send_signal(signal.SIGTERM)
    assert launcher.wait() == 42, launcher.text[-3000:]

    saved = _saved_steps(launcher.lines)
    assert len(saved) == 2 and len(set(saved.values())) == 1, saved  # Both, at one step.
    step = saved[0]
    assert 100 < step < STEPS and _logged_steps(launcher.lines)[-1] == step
    assert "[launcher] SIGTERM: asking every worker to save and stop" in launcher.text
    assert _still_running(run) == []

    rerun = Launcher(*args)
    assert rerun.wait() == 0, rerun.text[-3000:]
    results = read_results(workdir)
    assert results["step"] == STEPS and results["steps_this_run"] == STEPS - step
    assert f"resuming at step {step}" in rerun.text


@pytest.mark.slow
def test_a_gce_preemption_notice_stops_the_launcher_with_44_instead_of_restarting(workdir):
    # Both workers' host is a Spot VM (the stand-in metadata server) that is reclaimed mid-run.
    metadata = MetadataServer()
    args = (
        "--workers=2",
        "--max_restarts=3",
        "--",
        f"--workdir={workdir}",
        "--config.train.steps=3000",  # The notice comes long before the end.
        *SIGNAL_RUN[1:],
    )
    launcher = Launcher(*args, env=metadata.environment)
    launcher.wait_for("ckpt-100")
    metadata.values["instance/preempted"] = "TRUE"
    assert launcher.wait() == 44, launcher.text[-4000:]
    assert launcher.text.count("[launcher] started") == 1, launcher.text[-4000:]
    assert "restart 1" not in launcher.text
    (stopped,) = [line for line in launcher.lines if "this host is being preempted" in line]
    assert "resumes from its last checkpoint when started on another host" in stopped
    saved = _saved_steps(launcher.lines)
    assert len(saved) == 2 and len(set(saved.values())) == 1, saved  # Both, at one step.
    assert 100 < saved[0] < 3000 and _latest_checkpoint_step(workdir) == saved[0]
    assert "this host is going away" in launcher.text

    # Started again on the same host while its notice is still set: out at once, nothing run.
    rerun = Launcher(*args, env=metadata.environment)
    assert rerun.wait(timeout=120) == 44, rerun.text[-4000:]
    metadata.close()
    assert rerun.text.count("[launcher] started") == 1
    assert "this VM is preempted): exiting now, nothing to save" in rerun.text
    assert _logged_steps(rerun.lines) == [] and "resuming" not in rerun.text
    assert _latest_checkpoint_step(workdir) == saved[0]


@pytest.mark.slow
def test_ctrl_c_to_the_launcher_saves_on_every_worker_without_a_traceback(workdir):
    launcher = Launcher("--workers=2", "--", f"--workdir={workdir}", *SIGNAL_RUN)
    launcher.wait_for("ckpt-100")
    run = _descendants(launcher.pid)
    launcher.process.send_signal(signal.SIGINT)
    assert launcher.wait() == 42, launcher.text[-3000:]
    saved = _saved_steps(launcher.lines)
    assert len(saved) == 2 and len(set(saved.values())) == 1 and 100 < saved[0] < STEPS, saved
    assert "[launcher] SIGINT: asking every worker to save and stop" in launcher.text
    assert "Traceback" not in launcher.text and "KeyboardInterrupt" not in launcher.text
    assert _still_running(run) == []


@pytest.mark.slow
def test_sigkill_to_the_launcher_stops_the_workers_which_save(workdir):
    launcher = Launcher("--workers=2", "--", f"--workdir={workdir}", *SIGNAL_RUN)
    launcher.wait_for("ckpt-100")
    run = _descendants(launcher.pid)
    assert len(run) >= 2
    launcher.process.send_signal(signal.SIGKILL)
    launcher.wait()
    # The kernel sent them SIGTERM (parent-death signal): they saved and exited, well before
    # the end of the run, which would have written results.json.
    assert _still_running(run, timeout=60) == []
    assert not os.path.exists(os.path.join(workdir, "results.json"))
    assert 100 <= _latest_checkpoint_step(workdir) < STEPS


@pytest.mark.slow
def test_max_restarts_survives_sigkilled_workers_and_ends_at_the_last_step(workdir):
    launcher = Launcher(
        "--workers=2", "--max_restarts=2", "--", f"--workdir={workdir}", *SIGNAL_RUN
    )
    # Fault 1: worker 1, between checkpoints (its peer notices when its heartbeats stop);
    # fault 2: the chief, in the second launch.
    launcher.wait_for(" step 160/")
    os.kill(_worker_pids(launcher.lines)[0][1], signal.SIGKILL)
    launcher.wait_for("restart 1 of 2")
    launcher.wait_for(" step 360/", after=len(launcher.lines))  # Of the second launch.
    os.kill(_worker_pids(launcher.lines)[1][0], signal.SIGKILL)
    assert launcher.wait() == 0, launcher.text[-4000:]

    assert read_results(workdir)["step"] == STEPS
    assert [
        line.rstrip()
        for line in launcher.lines
        if "[launcher] worker" in line and "restart" in line
    ] == [
        "[launcher] worker 1 was killed by SIGKILL (exit 137): restart 1 of 2, all 2 workers "
        "on fresh ports, resuming from the last checkpoint.",
        "[launcher] worker 0 was killed by SIGKILL (exit 137): restart 2 of 2, all 2 workers "
        "on fresh ports, resuming from the last checkpoint.",
    ]
    attempts = _attempts(launcher.lines)
    assert len(attempts) == 3
    for number in (1, 2):
        before, after = attempts[number - 1], attempts[number]
        reached = max(_logged_steps(before))
        resumed = int(re.search(r"resuming at step (\d+)", "".join(after)).group(1))
        redone = reached - resumed
        print(f"fault {number}: reached step {reached}, resumed at {resumed}: {redone} redone")
        assert 0 <= redone <= 100  # At most one checkpoint interval.


def test_a_second_ctrl_c_kills_at_once_and_the_launcher_exits_128_plus_sigint(tmp_path):
    # The stubborn worker does not save: the launcher exits 130, not 42.
    code = (
        "import sys; from launch.local import launch; "
        f"sys.exit(launch(2, [{str(tmp_path / 'started')!r}, 'stubborn,save'], "
        f"grace_s=300, module={STAND_IN!r}))"
    )
    launcher = Launcher(code=code)
    launcher.wait_for("stubborn (pid")
    launcher.wait_for("save (pid")
    run = _descendants(launcher.pid)
    launcher.process.send_signal(signal.SIGINT)
    launcher.wait_for("[launcher] SIGINT: asking every worker to save and stop")
    time.sleep(0.5)  # Both have their SIGTERM; the stubborn one ignores it.
    launcher.process.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=20) == 130, launcher.text
    assert "[launcher] second signal: killing the workers now (SIGKILL)." in launcher.text
    assert "Traceback" not in launcher.text
    assert _still_running(run) == []


@pytest.mark.parametrize(
    ("flag", "fragment"),
    [
        ("--max_restarts=-1", "--max_restarts=-1: pass 0 (never) or more restarts."),
        ("--workers=0", "--workers=0: pass 1 or more worker processes."),
        ("--grace_s=-5", "--grace_s=-5: pass 0 or more seconds."),
        ("--workers=two", "flag --workers=two: invalid literal for int()"),
    ],
)
def test_a_bad_flag_is_one_error_line_and_exit_2_before_anything_starts(flag, fragment):
    process = subprocess.run(
        [sys.executable, "-m", "launch.local", flag, "--", "--config.train.steps=10"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2, process.stderr
    lines = process.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines
    assert process.stdout == ""  # No worker started.


class Launcher:
    """`python -m launch.local ARGS` (or `python -c CODE`) from the repo root, output by line."""

    def __init__(self, *args: str, code: str | None = None, env: dict | None = None):
        argv = ["-c", code] if code else ["-m", "launch.local", *args]
        self.process = subprocess.Popen(
            [sys.executable, *argv],
            cwd=REPO,
            env={**_env_with_repo_on_path(), "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.pid = self.process.pid
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, fragment: str, *, after: int = 0, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not any(fragment in line for line in self.lines[after:]):
            assert time.monotonic() < deadline, self.text[-3000:]
            assert self.process.poll() is None, self.text[-3000:]
            time.sleep(0.05)

    def wait(self, timeout: float = 240) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code


def _attempts(lines) -> list[list[str]]:
    """The output of each launch of the workers, split at `[launcher] started` lines."""
    attempts = []
    for line in lines:
        if line.startswith("[launcher] started"):
            attempts.append([])
        if attempts:
            attempts[-1].append(line)
    return attempts


def _worker_pids(lines) -> list[list[int]]:
    """Each launch's worker pids, from its `[launcher] started ... (pids A, B).` line."""
    return [
        [int(pid) for pid in m.group(1).split(", ")]
        for line in lines
        if (m := re.search(r"^\[launcher\] started .*\(pids ([\d, ]+)\)", line))
    ]


def _logged_steps(lines) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := re.search(r" step (\d+)/\d+ ", line))]


def _saved_steps(lines) -> dict[int, int]:
    """{worker: step} from each worker's `Preempted (...): saved a checkpoint at step N` line."""
    return {
        int(m.group(1)): int(m.group(2))
        for line in lines
        if (
            m := re.search(
                r"^\[worker (\d+)\] .*Preempted .*saved a checkpoint at step (\d+)", line
            )
        )
    }


def _latest_checkpoint_step(workdir) -> int:
    names = os.listdir(os.path.join(workdir, "checkpoints"))
    return max(int(m.group(1)) for name in names if (m := re.match(r"ckpt-(\d+)\.index$", name)))


def _proc_stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) from /proc/PID/stat; None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[0], fields[19]


def _descendants(pid: int) -> dict[int, str]:
    """{pid: start time} of every process below `pid` now: the workers and their children."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _proc_stat(int(entry))) is not None:
            parents[int(entry)] = stat
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _, started) in parents.items():
            if ppid == parent and child not in found:
                found[child] = started
                frontier.append(child)
    return found


def _still_running(processes: dict[int, str], timeout: float = 15) -> list[int]:
    """Those of `processes` still alive (same pid and start time, not a zombie) after waiting
    up to `timeout` seconds for them to go."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid, started in processes.items():
            stat = _proc_stat(pid)
            if stat is not None and stat[2] == started and stat[1] != "Z":
                alive.append(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _env_with_repo_on_path():
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    )


@pytest.mark.slow
def test_a_taken_port_is_retried_on_fresh_ports_and_the_output_is_prefixed(tmp_path):
    # Another program takes worker 1's port between the launcher choosing it and the worker
    # binding it: here, the test listens on it.
    taken = socket.create_server(("127.0.0.1", 0))
    taken_port = taken.getsockname()[1]
    chosen = []

    def ports_first_one_taken(count):
        ports = free_ports(count)
        if not chosen:
            ports[1] = taken_port
        chosen.append(ports)
        return ports

    output = io.StringIO()
    with taken:
        code = launch(
            2,
            [f"--workdir={tmp_path / 'run'}", *SHORT_RUN],
            output=output,
            env=_env_with_repo_on_path(),
            choose_ports=ports_first_one_taken,
        )
    lines = output.getvalue().splitlines()
    assert code == 0, "\n".join(lines[-40:])
    assert len(chosen) == 2 and taken_port not in chosen[1]
    assert any(
        line.startswith("[worker 1] ") and "Could not start gRPC server" in line for line in lines
    )
    retries = [line for line in lines if "could not bind its port" in line]
    assert len(retries) == 1 and "retry 1 of 3 (not counted as a restart)" in retries[0], retries
    assert not any("restart 1" in line for line in lines)
    assert any(line.startswith("[worker 0] ") and "step 200/200" in line for line in lines)
    assert any(line.startswith("[worker 1] ") and "step 200/200" in line for line in lines)
    assert read_results(tmp_path / "run")["workers"] == 2


@pytest.mark.slow
def test_bad_input_is_not_restarted(tmp_path):
    output = io.StringIO()
    code = launch(
        2,
        [f"--workdir={tmp_path / 'run'}", "--config.train.global_batch_size=3"],
        output=output,
        env=_env_with_repo_on_path(),
        grace_s=10,
        max_restarts=2,
    )
    text = output.getvalue()
    assert code == 2, text[-3000:]
    assert "[launcher] worker" in text and "exited with code 2: not restarted" in text
    assert "global_batch_size=3 does not divide by the 2 replicas" in text
    assert text.count("[launcher] started") == 1


@pytest.mark.parametrize(
    ("plans", "max_restarts", "env", "code", "starts", "fragment"),
    [
        # A worker killed by a signal: 128 + N, as a shell says (not 247 = -9 & 0xFF).
        (["sigkill,save"], 0, {}, 137, 1, "worker 0 was killed by SIGKILL (exit 137)"),
        (["exit43,save", "ok,ok"], 1, {}, 0, 2, "exited with code 43: restart 1 of 1"),
        (["exit75,save"], 1, {}, 75, 2, "exited with code 75: no restarts left"),
        (["exit1,save"], 3, {}, 1, 1, "exited with code 1: not restarted"),
        # TFJob's retryable code in place of 42, 43 and 75.
        (
            ["exit100,save", "ok,ok"],
            1,
            {"TRAINER_RETRYABLE_EXIT_CODE": "100"},
            0,
            2,
            "exited with code 100: restart 1 of 1",
        ),
        # A worker's host is going away: no restart here, whoever exits first.
        (["exit44,save"], 3, {}, 44, 1, "worker 0 exited with code 44: this host is being"),
        (["exit42,exit44"], 3, {}, 44, 1, "worker 1 exited with code 44: this host is being"),
        # A peer that ignores SIGTERM is SIGKILLed after the grace period (0.5 s here).
        (["exit3,stubborn"], 0, {}, 3, 1, "1 still running after 0.5 s: SIGKILL."),
    ],
)
def test_exit_codes_restarts_and_the_grace_period(
    tmp_path, plans, max_restarts, env, code, starts, fragment
):
    record = str(tmp_path / "started")
    output = io.StringIO()
    begun = time.monotonic()
    result = launch(
        2,
        [record, *plans],
        grace_s=0.5,
        max_restarts=max_restarts,
        module=STAND_IN,
        env=dict(_env_with_repo_on_path(), **env),
        output=output,
    )
    text = output.getvalue()
    assert result == code, text
    assert fragment in text, text
    assert text.count("[launcher] started") == starts
    assert time.monotonic() - begun < 20  # No wait for the stand-ins' 60 s sleep.
