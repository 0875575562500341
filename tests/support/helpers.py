"""Shared helpers: run the real command line in a subprocess and read what it wrote."""

import json
import os
import re
import subprocess
import sys
import threading
import time

from launch.workers import free_ports, tf_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The California housing table (see the benchmarks' data notes): $TRAINER_HOUSING_CSV, else a
# datasets folder beside the checkout; tests that need it skip without it.
HOUSING_CSV = os.environ.get("TRAINER_HOUSING_CSV") or os.path.join(
    REPO, "..", "shared", "datasets", "california_housing", "housing.csv"
)


def run_module(
    module: str, *args: str, env=None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Runs `python -m module args...` from the repo root; returns the finished process."""
    full_env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    full_env.update(PYTHONUNBUFFERED="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def train(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run_module("trainer.main", *args, **kwargs)


def act_on_lines(command, on_line, *, env=None, timeout: float = 120) -> tuple[int, list[str]]:
    """Runs `command` from the repo root, calling `on_line(process, line)` on each stderr line;
    returns its exit code and lines. A run that never reaches what the test waits for is killed
    after `timeout` s (the test fails) rather than training on."""
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    lines = []
    for line in process.stderr:
        lines.append(line)
        on_line(process, line)
    watchdog.cancel()
    return process.wait(timeout=60), lines


def read_results(workdir) -> dict:
    with open(os.path.join(workdir, "results.json")) as f:
        return json.load(f)


def read_scalars(event_dir) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a TensorBoard event directory, as {tag: [(step, value), ...]}."""
    from trainer.workdir.curves import read_event_dir

    return read_event_dir(str(event_dir))


def run_state(step: int, *, loss: float = 1.0, validation=None, steps_in_loop: int = 10):
    """The RunState an action sees after the host loop that ended at `step`, with the given
    training loss and, if given, this step's validation results."""
    from trainer.loop.controller import RunState

    state = RunState(
        step=step,
        total_steps=10_000,
        steps_in_loop=steps_in_loop,
        seconds=1.0,
        examples_per_sec=1.0,
        train={"loss": loss},
    )
    if validation is not None:
        state.set_validation(validation)
    return state


def raises_one_line(call, *fragments) -> str:
    """`call()` raises a HarnessError of one line holding every fragment; returns its text."""
    import pytest

    from trainer.errors import HarnessError

    with pytest.raises(HarnessError) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def assert_ok(process: subprocess.CompletedProcess) -> None:
    assert process.returncode == 0, f"exit {process.returncode}\n{process.stderr[-4000:]}"


def assert_one_line_error(
    process: subprocess.CompletedProcess, *fragments: str, exit_code: int = 2
) -> str:
    """The run failed with `exit_code` and one `error:` line that contains every fragment."""
    assert process.returncode == exit_code, f"exit {process.returncode}\n{process.stderr[-4000:]}"
    errors = [line for line in process.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, process.stderr[-4000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


class Cluster:
    """`trainer.main` workers under MultiWorkerMirrored, one per workdir, stderr kept by line."""

    def __init__(self, workdirs, *args, env=None):
        addresses = [f"localhost:{port}" for port in free_ports(len(workdirs))]
        self.lines = [[] for _ in workdirs]
        self.processes = []
        for index, workdir in enumerate(workdirs):
            worker_env = dict(
                os.environ,
                **(env or {}),
                TF_CONFIG=tf_config(addresses, index),
                PYTHONUNBUFFERED="1",
            )
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "trainer.main",
                    "--strategy=multi_worker_mirrored",
                    f"--workdir={workdir}",
                    *args,
                ],
                cwd=REPO,
                env=worker_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            threading.Thread(
                target=self._collect, args=(process, self.lines[index]), daemon=True
            ).start()
            self.processes.append(process)

    @staticmethod
    def _collect(process, lines):
        for line in process.stderr:
            lines.append(line)

    def wait_for(self, worker: int, fragment: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not any(fragment in line for line in self.lines[worker]):
            assert time.monotonic() < deadline, "".join(self.lines[worker][-30:])
            assert self.processes[worker].poll() is None, "".join(self.lines[worker][-30:])
            time.sleep(0.05)

    def wait(self, timeout: float = 180) -> list[int]:
        return [process.wait(timeout=timeout) for process in self.processes]

    def logged_steps(self, worker: int) -> list[int]:
        return [
            int(m.group(1))
            for line in self.lines[worker]
            if (m := re.search(r" step (\d+)/\d+ ", line))
        ]
