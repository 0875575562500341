"""Child processes that cannot outlive their parent, and exit statuses as a shell reports them.

Shared by `launch.local` (each worker) and `trainer.sweep` (each trial). Standard library only:
the launcher never loads TensorFlow.
"""

import ctypes
import functools
import os
import signal
import subprocess
import sys

_PR_SET_PDEATHSIG = 1
_PRCTL = getattr(ctypes.CDLL(None), "prctl", None) if sys.platform == "linux" else None


def start_child(argv: list[str], *, env: dict) -> subprocess.Popen:
    """Starts `argv` with stdout and stderr on one text pipe, in a session of its own, and with
    SIGTERM from the kernel when this process dies (Linux parent-death signal), by SIGKILL too.

    Its own session: a terminal's Ctrl-C (SIGINT to the foreground process group) reaches only
    this process, which decides what the child gets (SIGTERM: the trainer saves on it). The
    parent-death signal follows the thread that starts the child: start it from one that lives
    as long as the child should (the main thread)."""
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
        preexec_fn=functools.partial(_die_with_parent, os.getpid()),
    )


def signal_session(process: subprocess.Popen, signum: int) -> None:
    """`signum` to every process of a running child's session (see `start_child`)."""
    if process.poll() is not None:  # Reaped: its pid may belong to someone else by now.
        return
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def exit_status(returncode: int) -> int:
    """A Popen return code as a shell reports it: death by signal N (-N) is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def describe(returncode: int) -> str:
    """A Popen return code in words: 'exited with code 2', 'was killed by SIGKILL (exit 137)'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:  # A real-time signal: no name.
            name = f"signal {-returncode}"
        return f"was killed by {name} (exit {exit_status(returncode)})"
    return f"exited with code {returncode}"


def _die_with_parent(parent_pid: int) -> None:
    """In the child, between fork and exec: nothing here may load a library or take a lock."""
    if _PRCTL is None:
        return
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # The parent died before the prctl: no signal will come.
        os._exit(128 + signal.SIGTERM)
