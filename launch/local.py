"""Run N trainer workers on this host, on free loopback ports, as one MultiWorkerMirrored cluster.

    python -m launch.local --workers=2 --max_restarts=3 -- --workdir=/tmp/run

What torchrun's elastic agent does for a PyTorch script, for the harness's workers: each worker
gets its own TF_CONFIG; its lines are prefixed with `[worker i] `, the launcher's with
`[launcher] `.

Stopping. Each worker runs in its own session, so a terminal's Ctrl-C reaches only the launcher.
On SIGINT, SIGTERM or SIGHUP the launcher sends SIGTERM to every worker: they finish the host loop
in flight, all save a checkpoint at the same step and exit 42 (trainer/cloud/preemption.py);
whatever still runs `--grace_s` later is SIGKILLed. A second signal SIGKILLs them at once. If the
launcher itself dies, even by SIGKILL, the kernel sends each worker SIGTERM (Linux parent-death
signal): no worker outlives it. Rerunning the same command resumes from the workdir's last
checkpoint. A signal ignored when the launcher starts (SIGHUP under nohup, SIGINT in a script's
background job) stays ignored.

Failures. When a worker fails, the others get SIGTERM (SIGKILL after `--grace_s`). With
`--max_restarts=N` the launcher then starts all workers again on fresh ports, up to N times,
printing one `[launcher]` line per restart; they resume from the last checkpoint.
- Restarted: exit 42 (preempted, saved), 43 (a peer was lost), 75 (storage did not answer), the
  code set in $TRAINER_RETRYABLE_EXIT_CODE, and death by a signal (SIGKILL, the OOM killer).
- Not restarted, the others stopped: 44, a worker's own VM is being preempted or stopped for
  maintenance (a GCE notice, which stays set until the VM is gone: restarted here, the workers
  would only exit again at once). All the workers run on this host, so the launcher exits 44;
  the same command started on another host, on the same --workdir, resumes.
- Not restarted: 2 (bad input fails the same way again), and 1 or any other code. torchrun
  restarts every failure because it runs any script and cannot tell failures apart. The harness
  sorts its own (trainer/errors.py), so an exit 1 is an exception nobody foresaw, which from the
  same checkpoint, seed and data comes again: restarts would repeat the start-up and the crash
  and scroll its traceback away.

A port taken between the launcher choosing it and the worker binding it (TensorFlow prints
"Could not start gRPC server" and exits 1, its peers wait for it) is retried on fresh ports up to
3 times, not counted as a restart: nothing had trained.

Exit codes, shell conventions:

    0       every worker finished (also when they finished just as the launcher was signalled)
    2       a bad launcher flag (one `error:` line, nothing started); or a worker's bad input
    44      a worker's host is being preempted (above): start the run elsewhere to resume
    N       the first worker to fail exited N, and was not restarted or no restarts were left
    128+N   ... that worker was killed by signal N (137: SIGKILL)
    42      the launcher got SIGINT, SIGTERM or SIGHUP and every worker saved
            ($TRAINER_RETRYABLE_EXIT_CODE instead of 42 when set, as the workers exit;
            44 when one of them saved because its host is going away)
    128+N   the launcher got signal N (130: SIGINT, 143: SIGTERM) and not every worker saved
"""

import contextlib
import math
import os
import signal
import sys
import threading
import time

from absl import app, flags

from launch.processes import describe, exit_status
from launch.workers import Output, Workers, free_ports
from trainer.cli.config_flag import parse_flags
from trainer.cli.console import fail
from trainer.errors import (
    HOST_PREEMPTED_EXIT_CODE,
    PREEMPTED_EXIT_CODE,
    RETRYABLE_EXIT_CODES,
    retryable_replacement,
)

PORT_RETRIES = 3
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_POLL_S = 0.1


def launch(
    num_workers: int,
    trainer_args: list[str],
    *,
    grace_s: float = 30.0,
    max_restarts: int = 0,
    module: str = "trainer.main",
    env=None,
    output=sys.stdout,
    choose_ports=free_ports,
) -> int:
    """Runs the workers to the end, restarting them as `max_restarts` allows; returns the exit
    code of the table above. `choose_ports(count)` picks each launch's ports. Called from the
    main thread, it takes SIGINT, SIGTERM and SIGHUP for as long as it runs."""
    env = dict(os.environ if env is None else env)
    out = Output(output)
    stop = _StopRequest()
    restarts = port_retries = 0
    with stop.taking_signals():
        while stop.signum is None:
            ports = choose_ports(num_workers)
            workers = Workers(module=module, args=trainer_args, ports=ports, env=env, output=out)
            out.launcher(
                f"started {num_workers} workers on ports {', '.join(map(str, ports))} "
                f"(pids {', '.join(map(str, workers.pids))})."
            )
            first_failure = _supervise(workers, stop, grace_s, out)
            workers.close()
            if stop.signum is not None:
                code = stopped_exit_code(stop.signum, workers.returncodes(), env)
                out.launcher(
                    f"exit {code}: rerun the same command to resume." if code else "exit 0."
                )
                return code
            if first_failure is None:
                return 0
            going_away = host_preempted_worker(workers.returncodes())
            if going_away is not None:
                out.launcher(
                    f"worker {going_away} exited with code {HOST_PREEMPTED_EXIT_CODE}: this host "
                    f"is being preempted (a GCE notice, set until the VM stops), so no restart "
                    f"here. Exit {HOST_PREEMPTED_EXIT_CODE}: the run resumes from its last "
                    f"checkpoint when started on another host on the same --workdir."
                )
                return HOST_PREEMPTED_EXIT_CODE
            index, returncode = first_failure
            status = exit_status(returncode)
            failure = f"worker {index} {describe(returncode)}"
            if workers.port_taken is not None:
                if port_retries == PORT_RETRIES:
                    out.launcher(f"ports taken {PORT_RETRIES + 1} times in a row: giving up.")
                    return status
                port_retries += 1
                out.launcher(
                    f"worker {workers.port_taken} could not bind its port (taken since it was "
                    f"chosen): starting again on fresh ports, retry {port_retries} of "
                    f"{PORT_RETRIES} (not counted as a restart)."
                )
                continue
            if max_restarts and not is_restartable(status, env):
                out.launcher(
                    f"{failure}: not restarted (only 42, 43, 75 and signals are: a crash or "
                    f"bad input fails again from the same checkpoint)."
                )
                return status
            if restarts == max_restarts:
                if max_restarts:
                    out.launcher(f"{failure}: no restarts left (--max_restarts={max_restarts}).")
                return status
            restarts += 1
            port_retries = 0
            out.launcher(
                f"{failure}: restart {restarts} of {max_restarts}, all {num_workers} workers "
                f"on fresh ports, resuming from the last checkpoint."
            )
    return exit_status(-stop.signum)  # Signalled before the workers started.


def _supervise(workers: Workers, stop: "_StopRequest", grace_s: float, out: Output):
    """Waits until every worker has exited. After the launcher's signal or a worker's failure,
    SIGTERM to the others, SIGKILL after `grace_s`. Returns the first failure as (index, Popen
    return code), or None."""
    first_failure = None
    deadline = math.inf
    terminated = killed = False
    while True:
        codes = workers.returncodes()
        failed = [(index, code) for index, code in enumerate(codes) if code not in (None, 0)]
        if all(code is not None for code in codes):
            return first_failure or (failed[0] if failed else None)
        if stop.count and not terminated:
            out.launcher(
                f"{signal.Signals(stop.signum).name}: asking every worker to save and stop "
                f"(SIGTERM; SIGKILL after {grace_s:g} s, or now on a second signal)."
            )
            workers.signal(signal.SIGTERM)
            deadline = min(deadline, time.monotonic() + grace_s)
            terminated = True
        if stop.count > 1 and not killed:
            out.launcher("second signal: killing the workers now (SIGKILL).")
            workers.signal(signal.SIGKILL)
            killed = True
        if workers.port_taken is not None and not killed:
            # Nothing has trained: the cluster cannot form without that worker, and its peers
            # wait for it inside TensorFlow's C++ code, where they do not act on SIGTERM.
            workers.signal(signal.SIGKILL)
            killed = True
        if failed and first_failure is None:
            first_failure = failed[0]
            if not (terminated or killed):
                out.launcher(
                    f"worker {failed[0][0]} {describe(failed[0][1])}: stopping the others "
                    f"(SIGTERM; SIGKILL after {grace_s:g} s)."
                )
                workers.signal(signal.SIGTERM)
                deadline = min(deadline, time.monotonic() + grace_s)
                terminated = True
        if time.monotonic() >= deadline and not killed:
            out.launcher(f"{workers.running()} still running after {grace_s:g} s: SIGKILL.")
            workers.signal(signal.SIGKILL)
            killed = True
        time.sleep(_POLL_S)


def host_preempted_worker(returncodes: list[int | None]) -> int | None:
    """The first worker that exited 44 (its host is going away), or None. Any worker, not only
    the first to fail: one that saved on its peer's notice exits 42, and may exit first."""
    for index, code in enumerate(returncodes):
        if code == HOST_PREEMPTED_EXIT_CODE:
            return index
    return None


def is_restartable(status: int, env: dict) -> bool:
    """Whether `--max_restarts` restarts after a worker's exit status (module docstring)."""
    if status == HOST_PREEMPTED_EXIT_CODE:
        return False  # Restarted on this host, it would exit again at once.
    return status in (*RETRYABLE_EXIT_CODES, retryable_replacement(env)) or status > 128


def stopped_exit_code(signum: int, returncodes: list[int], env: dict) -> int:
    """The launcher was signalled and the workers exited with these Popen return codes: 0 if
    they had finished, 42 if they all saved (44 if one saved because its host is going away),
    else 128 + signum, as a shell reports a program that the signal ended."""
    if all(code == 0 for code in returncodes):
        return 0
    if HOST_PREEMPTED_EXIT_CODE in returncodes and set(returncodes) <= {
        PREEMPTED_EXIT_CODE,
        HOST_PREEMPTED_EXIT_CODE,
    }:
        return HOST_PREEMPTED_EXIT_CODE
    saved = (PREEMPTED_EXIT_CODE, retryable_replacement(env))
    if len(set(returncodes)) == 1 and returncodes[0] in saved:
        return returncodes[0]
    return exit_status(-signum)


class _StopRequest:
    """The launcher's own SIGINT, SIGTERM or SIGHUP: the handler only records it (the first
    signal and how many came), `_supervise` acts on it."""

    def __init__(self):
        self.signum: int | None = None
        self.count = 0

    def _record(self, signum, frame) -> None:
        del frame
        if self.signum is None:
            self.signum = signum
        self.count += 1

    @contextlib.contextmanager
    def taking_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield  # Only the main thread may set handlers: the caller keeps its own.
            return
        previous = {}
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup: SIGHUP stays ignored.
                previous[signum] = signal.signal(signum, self._record)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def define_flags() -> None:
    """The command line's flags (defined here, not at import: tests import several launchers)."""
    flags.DEFINE_integer("workers", 2, "Worker processes (at least 1).")
    flags.DEFINE_float(
        "grace_s",
        30.0,
        "Seconds from SIGTERM to SIGKILL: time for every worker to save (at least 0).",
    )
    flags.DEFINE_integer(
        "max_restarts",
        0,
        "Times to start all workers again, resuming from the last checkpoint, after a worker "
        "exits 42, 43 or 75 or is killed by a signal (at least 0). Exit 44 (this host is being "
        "preempted) is not restarted.",
    )


def _flag_errors(FLAGS) -> list[str]:
    errors = []
    if FLAGS.workers < 1:
        errors.append(f"--workers={FLAGS.workers}: pass 1 or more worker processes.")
    if not FLAGS.grace_s >= 0:  # Also NaN.
        errors.append(f"--grace_s={FLAGS.grace_s:g}: pass 0 or more seconds.")
    if FLAGS.max_restarts < 0:
        errors.append(f"--max_restarts={FLAGS.max_restarts}: pass 0 (never) or more restarts.")
    return errors


def main(argv):
    FLAGS = flags.FLAGS
    errors = _flag_errors(FLAGS)
    if errors:
        fail(" ".join(errors))
    sys.exit(
        launch(
            FLAGS.workers,
            argv[1:],
            grace_s=FLAGS.grace_s,
            max_restarts=FLAGS.max_restarts,
        )
    )


def run() -> None:
    """python -m launch.local (console script trainer-launch)."""
    define_flags()
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
