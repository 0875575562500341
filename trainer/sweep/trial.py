"""One trial: the harness's own `trainer.main` in a child process, and what became of it.

A child process per trial means a trial that crashes, diverges or runs out of memory ends only
itself, and a trial can use several devices (`--strategy=mirrored`) or several local workers
(`launch.local`). The child runs in its own process group: the sweep's SIGTERM or Ctrl-C is
passed to every process of the trial, which saves a checkpoint and exits 42; if the sweep
process dies without that, the kernel sends the child SIGTERM (Linux parent-death signal;
`launch.processes.start_child`, shared with launch.local's workers).
"""

import dataclasses
import json
import math
import os
import shutil
import signal
import sys
import tempfile

import tensorflow as tf

from launch.processes import start_child
from trainer.errors import HOST_PREEMPTED_EXIT_CODE, PREEMPTED_EXIT_CODE, process_exit_code
from trainer.sweep.pruning import PRUNED
from trainer.workdir.directory import RESULTS_FILE

# Lines of a trial's log that the sweep shows, prefixed with the trial's number.
_SHOWN = ("validation at step", "Done at step", "Stopped at step", "error:")


@dataclasses.dataclass
class Outcome:
    state: str  # complete | pruned | failed | interrupted
    value: float | None = None  # The validation metric (complete), else None.
    reason: str = ""  # Why it was pruned, failed or interrupted.
    results: dict | None = None  # The run's results.json, when it wrote one.
    exit_code: int = 0


def command(
    *, config_path: str, workdir: str, strategy: str, workers: int, trainer_flags=()
) -> list[str]:
    trainer = [
        f"--config={config_path}",
        f"--workdir={workdir}",
        "--progress=line",
        *trainer_flags,
    ]
    if workers > 1:
        return [sys.executable, "-m", "launch.local", f"--workers={workers}", "--", *trainer]
    return [sys.executable, "-m", "trainer.main", f"--strategy={strategy}", *trainer]


class Child:
    """The running trial: its output goes to `log_path` and its key lines to `show`."""

    def __init__(self, argv: list[str], *, log_path: str, show, env=None):
        # Written locally line by line (a gs:// object would be uploaded anew at each flush),
        # then copied to `log_path` when it is remote.
        self._log_path = log_path
        self._local_log = log_path
        if "://" in log_path:
            self._local_log = os.path.join(tempfile.mkdtemp(prefix="sweep_log_"), "trial.log")
        self._log = open(self._local_log, "w")  # noqa: SIM115 - closed in wait().
        self._show = show
        self._process = start_child(
            argv, env=dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")
        )
        self.tail: list[str] = []

    def stop(self) -> None:
        """SIGTERM to every process of the trial: they save and exit 42."""
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def wait(self) -> int:
        for line in self._process.stdout:
            self._log.write(line)
            self._log.flush()
            self.tail = (self.tail + [line.rstrip()])[-40:]
            if any(marker in line for marker in _SHOWN):
                self._show(line.rstrip())
        code = self._process.wait()
        self._log.close()
        if self._local_log != self._log_path:
            tf.io.gfile.copy(self._local_log, self._log_path, overwrite=True)
            shutil.rmtree(os.path.dirname(self._local_log), ignore_errors=True)
        return code


def outcome(exit_code: int, *, workdir: str, metric: str, tail: list[str], stopping: bool):
    """What the exit code, the run's results.json and its last lines say about the trial."""
    preempted = exit_code in {
        code
        for own in (PREEMPTED_EXIT_CODE, HOST_PREEMPTED_EXIT_CODE)
        for code in (own, process_exit_code(own))
    }
    if preempted or (stopping and exit_code != 0):
        return Outcome("interrupted", reason="stopped by the sweep", exit_code=exit_code)
    if exit_code != 0:
        return Outcome("failed", reason=_failure(exit_code, tail), exit_code=exit_code)
    results = _read_results(workdir)
    if results is None:
        return Outcome("failed", reason=f"exit 0 but no {RESULTS_FILE} in {workdir}")
    stop_reason = results.get("stop_reason") or ""
    if stop_reason.startswith(PRUNED):
        return Outcome("pruned", reason=stop_reason, results=results)
    validation = results.get("validation") or {}
    if metric not in validation:
        return Outcome(
            "failed",
            reason=f"no validation {metric!r} in results (it has {sorted(validation)})",
            results=results,
        )
    value = float(validation[metric])
    if not math.isfinite(value):
        return Outcome("failed", reason=f"validation {metric} is {value}", results=results)
    return Outcome("complete", value=value, results=results)


def _failure(exit_code: int, tail: list[str]) -> str:
    if exit_code < 0 or exit_code > 128:
        number = -exit_code if exit_code < 0 else exit_code - 128
        name = signal.Signals(number).name if number in signal.valid_signals() else number
        hint = " (out of memory?)" if number == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    errors = [line for line in tail if "error:" in line]
    last = errors[-1] if errors else (tail[-1] if tail else "no output")
    return f"exit {exit_code}: {last.strip()[:300]}"


def _read_results(workdir: str) -> dict | None:
    path = os.path.join(workdir, RESULTS_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)
