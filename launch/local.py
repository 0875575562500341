"""Run N trainer workers on this host, on free loopback ports, as one MultiWorkerMirrored cluster.

    python -m launch.local --workers=2 -- --config=configs/digits_mlp.py --workdir=/tmp/run

Each worker gets its own TF_CONFIG; every line it prints is prefixed with `[worker i]`. If one
worker fails, the others are stopped and the launcher exits with that worker's exit code.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from absl import app, flags

_WORKERS = flags.DEFINE_integer("workers", 2, "Number of worker processes.", lower_bound=1)
_GRACE_S = flags.DEFINE_float(
    "grace_s", 30.0, "After one worker fails, seconds to wait before killing the others."
)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(workers: list[str], index: int) -> str:
    return json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})


def launch(
    num_workers: int,
    trainer_args: list[str],
    *,
    grace_s: float = 30.0,
    module: str = "trainer.main",
    env=None,
    output=sys.stdout,
) -> int:
    """Starts the workers, relays their output, and returns 0 or the first failing exit code."""
    addresses = [f"localhost:{port}" for port in free_ports(num_workers)]
    processes = []
    for index in range(num_workers):
        worker_env = dict(
            os.environ if env is None else env,
            TF_CONFIG=tf_config(addresses, index),
            PYTHONUNBUFFERED="1",
        )
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", module, "--strategy=multi_worker_mirrored", *trainer_args],
                env=worker_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    relays = [
        threading.Thread(target=_relay, args=(p, f"[worker {i}] ", output), daemon=True)
        for i, p in enumerate(processes)
    ]
    for relay in relays:
        relay.start()
    code = _wait(processes, grace_s, output)
    for relay in relays:
        relay.join(timeout=10)
    return code


def _relay(process, prefix, output):
    for line in process.stdout:
        output.write(prefix + line)
        output.flush()


def _wait(processes, grace_s, output) -> int:
    """Waits for every worker; after the first failure, stops the rest (SIGTERM, then SIGKILL)."""
    first_failure, deadline = None, None
    while True:
        codes = [p.poll() for p in processes]
        failed = [(index, code) for index, code in enumerate(codes) if code not in (None, 0)]
        if failed and first_failure is None:
            first_failure, deadline = failed[0], time.monotonic() + grace_s
            output.write(
                f"[launcher] worker {failed[0][0]} exited with code {failed[0][1]}; "
                f"stopping the others (killed after {grace_s:.0f} s).\n"
            )
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
        if all(code is not None for code in codes):
            return first_failure[1] if first_failure else 0
        if deadline is not None and time.monotonic() > deadline:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        time.sleep(0.2)


def main(argv):
    sys.exit(launch(_WORKERS.value, argv[1:], grace_s=_GRACE_S.value))


if __name__ == "__main__":
    app.run(main)
