"""One launch of N trainer workers: started together, their output relayed line by line with a
`[worker i] ` prefix, signalled together. `launch.local` decides when to stop and restart them.

Each worker is a `launch.processes.start_child`: its own session, and SIGTERM from the kernel if
the launcher dies.
"""

import json
import socket
import sys
import threading

from launch.processes import signal_session, start_child

# What TensorFlow prints when a worker's gRPC server cannot bind its port (then the worker exits
# 1 with a traceback): "Could not start gRPC server", after "Failed to add port to server: No
# address added out of total 1 resolved for '0.0.0.0:PORT'" (TF 2.21).
PORT_TAKEN_MARKER = "Could not start gRPC server"


def free_ports(count: int) -> list[int]:
    """`count` loopback ports free right now. Another program may take one before a worker
    binds it: `launch.local` watches for `PORT_TAKEN_MARKER` and starts again on fresh ports."""
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


class Output:
    """Whole lines to one stream from several threads, never interleaved within a line."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text)
            self._stream.flush()

    def launcher(self, message: str) -> None:
        self.write(f"[launcher] {message}\n")


class Workers:
    """`python -m module --strategy=multi_worker_mirrored ARGS` once per port, worker i on
    localhost:ports[i] with its own TF_CONFIG."""

    def __init__(self, *, module: str, args: list[str], ports: list[int], env: dict, output):
        addresses = [f"localhost:{port}" for port in ports]
        self.port_taken: int | None = None  # A worker that printed PORT_TAKEN_MARKER.
        self.processes = [
            start_child(
                [sys.executable, "-m", module, "--strategy=multi_worker_mirrored", *args],
                env=dict(env, TF_CONFIG=tf_config(addresses, index), PYTHONUNBUFFERED="1"),
            )
            for index in range(len(ports))
        ]
        self._relays = [
            threading.Thread(target=self._relay, args=(index, output), daemon=True)
            for index in range(len(ports))
        ]
        for relay in self._relays:
            relay.start()

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def returncodes(self) -> list[int | None]:
        """Popen's return codes (-N: killed by signal N), None for a worker still running."""
        return [process.poll() for process in self.processes]

    def running(self) -> int:
        return sum(code is None for code in self.returncodes())

    def signal(self, signum: int) -> None:
        for process in self.processes:
            signal_session(process, signum)

    def close(self) -> None:
        """After every worker has exited: the rest of their output."""
        for relay in self._relays:
            # A worker's own children (its stderr forwarder) may hold the pipe a moment longer.
            relay.join(timeout=10)

    def _relay(self, index: int, output) -> None:
        for line in self.processes[index].stdout:
            if PORT_TAKEN_MARKER in line and self.port_taken is None:
                self.port_taken = index
            if not line.endswith("\n"):  # The last line of a worker that died mid-line.
                line += "\n"
            output.write(f"[worker {index}] {line}")
